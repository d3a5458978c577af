"""A Capillary-compatible API server for demos, tests and benchmarks (see README.md in this package).

Public API: ``create_app``, ``Store``, ``Settings``, ``Faults``, ``load_faults``, ``parse_faults``,
``demo_fixture``; the test helper ``SandboxServer`` lives in ``reconciler.sandbox.server``.
"""

from __future__ import annotations

from reconciler.sandbox.admin import demo_fixture
from reconciler.sandbox.app import SandboxApp, create_app
from reconciler.sandbox.faults import Faults, load_faults, parse_faults
from reconciler.sandbox.settings import Settings
from reconciler.sandbox.store import Store

__all__ = [
    "Faults",
    "SandboxApp",
    "Settings",
    "Store",
    "create_app",
    "demo_fixture",
    "load_faults",
    "parse_faults",
]
