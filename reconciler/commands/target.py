"""The command layer's choice of transport: the embedded sandbox in-process, anything else over the network.

The API client never builds the sandbox (``reconciler.capillary`` knows nothing of it); a command that
targets ``api.url: sandbox`` hands the client an ``httpx.ASGITransport`` over the sandbox's app.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.capillary import CapillaryReader, open_client
from reconciler.config import Config
from reconciler.mask import require_mask_key
from reconciler.plan import describe_target


def embedded_sandbox(config: Config) -> httpx.AsyncBaseTransport:
    """An in-process sandbox over ``config.root / api.sandbox_db``, seeded with the demo org when new."""
    from reconciler.sandbox import Store, create_app  # the sandbox is only loaded when it is the target

    path = config.root / config.api.sandbox_db
    is_new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    store = Store(str(path))
    if is_new:
        seed = resources.files("reconciler.sandbox").joinpath("seeds/demo.json").read_text()
        store.seed(json.loads(seed))
    return _EmbeddedTransport(app=create_app(store))


class _EmbeddedTransport(httpx.ASGITransport):
    """The in-process sandbox; a connection it drops is the transport error a closed socket gives."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve in-process; the sandbox's ``ConnectionDropped`` becomes ``httpx.RemoteProtocolError``."""
        from reconciler.sandbox.envelope import ConnectionDropped

        try:
            return await super().handle_async_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from None


@asynccontextmanager
async def open_target(
    config: Config, *, write: bool = False, **options: Any
) -> AsyncIterator[CapillaryReader]:
    """``open_client`` for the configured target; the embedded sandbox's transport when it is one.

    Every command that reaches a target prints or writes masked values: without a secret masking key
    (``require_mask_key``) it stops here, before the first request.
    """
    require_mask_key(describe_target(config), sandbox=config.api.is_sandbox)
    transport = embedded_sandbox(config) if config.api.is_sandbox else None
    async with open_client(config, write=write, transport=transport, **options) as client:
        yield client


async def sandbox_settings(config: Config) -> dict[str, Any] | None:
    """The behaviour settings of a sandbox target, where it is one, for the simulated apply's twin: the
    embedded sandbox runs on the defaults (None); a sandbox served on loopback answers its admin endpoint
    ``/_sandbox/settings`` (not an API call: the sandbox does not log it); anything else: None."""
    if config.api.is_sandbox:
        return None
    parts = urlsplit(config.api.url)
    if (parts.hostname or "") not in ("127.0.0.1", "localhost", "::1"):
        return None
    try:
        async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
            answer = await client.get(config.api.url.rstrip("/") + "/_sandbox/settings")
        found = answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return found if isinstance(found, dict) else None
