"""The Capillary API client: auth, rate limits, retries, typed errors and live-state parsing.

``open_client(config)`` yields a ``CapillaryReader`` (plan: it cannot send a write) or, with
``write=True``, a ``CapillaryWriter`` (apply). Every failure is a ``reconciler.errors.ApiError``; no
``httpx`` exception escapes this package and no credential appears in any message or log line.
"""

from __future__ import annotations

from reconciler.capillary._credentials import Credentials
from reconciler.capillary._factory import open_client
from reconciler.capillary._reader import SCOPES_UNKNOWN, CapillaryReader
from reconciler.capillary._writer import CapillaryWriter

__all__ = ["SCOPES_UNKNOWN", "CapillaryReader", "CapillaryWriter", "Credentials", "open_client"]
