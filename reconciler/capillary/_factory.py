"""Building a client for a configured target: the embedded sandbox, a loopback sandbox or a real host."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from urllib.parse import urlsplit

import httpx

from reconciler.capillary._auth import TOKEN_PATH, BasicAuth, OAuthAuth
from reconciler.capillary._channel import Channel, is_read
from reconciler.capillary._credentials import Credentials
from reconciler.capillary._limits import Limits
from reconciler.capillary._reader import CapillaryReader
from reconciler.capillary._transport import LeanTransport
from reconciler.capillary._writer import CapillaryWriter
from reconciler.capillary.parse import require
from reconciler.config import Config
from reconciler.errors import ApiError, AuthError, ConfigError, ReadOnlyViolation, TransientError

SANDBOX_BASE_URL = "http://sandbox.invalid"


class ReadOnlyTransport(httpx.AsyncBaseTransport):
    """Wraps a transport and refuses, before anything is sent, every request a reader may not make."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Pass reads through; raise ``ReadOnlyViolation`` for anything else."""
        if not is_read(request.method, request.url.path):
            raise ReadOnlyViolation(
                "the read-only client cannot send this request", method=request.method, path=request.url.path
            )
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()


def describe_target(config: Config) -> str:
    """What a plan or apply talks to, for the first line of every output."""
    if config.api.is_sandbox:
        return "embedded sandbox (demo data)"
    return urlsplit(config.api.url).netloc or config.api.url


def _embedded_sandbox(config: Config) -> httpx.AsyncBaseTransport:
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


def _base_url(config: Config) -> str:
    if config.api.is_sandbox:
        return SANDBOX_BASE_URL
    parts = urlsplit(config.api.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"api.url {config.api.url!r} is neither 'sandbox' nor an http(s) URL")
    return config.api.url.rstrip("/")


@asynccontextmanager
async def open_client(
    config: Config,
    *,
    write: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    credentials: Credentials | None = None,
    rate_window: float = 60.0,
) -> AsyncIterator[CapillaryReader]:
    """A reader (or, with ``write=True``, a writer) for the configured target, closed on exit.

    ``rate_window`` is the limiter's window in seconds for ``api.requests_per_minute`` requests; only
    tests and benchmarks shorten it.
    """
    api = config.api
    base_url = _base_url(config)
    creds = credentials or Credentials.from_env(api.auth, sandbox=_is_sandbox_target(config))
    inner = transport or (_embedded_sandbox(config) if api.is_sandbox else None)
    if inner is None:
        inner = LeanTransport(api.concurrency + 2)
    client = httpx.AsyncClient(
        base_url=base_url,
        transport=inner if write else ReadOnlyTransport(inner),
        timeout=httpx.Timeout(api.timeout_seconds),
        headers={"Accept": "application/json"},
    )
    limits = Limits(api.requests_per_minute, rate_window)
    channel = Channel(client, limits=limits, concurrency=api.concurrency, read_only=not write)
    channel.auth = _auth_for(creds, channel)
    kind = CapillaryWriter if write else CapillaryReader
    try:
        yield kind(channel, bulk_read=api.bulk_read, bulk_batch_size=api.bulk_batch_size)
    finally:
        await client.aclose()


def _is_sandbox_target(config: Config) -> bool:
    """The embedded sandbox, or a sandbox served on loopback (where the sandbox's defaults apply)."""
    host = urlsplit(config.api.url).hostname or ""
    return config.api.is_sandbox or host in ("127.0.0.1", "localhost", "::1")


def _auth_for(credentials: Credentials, channel: Channel) -> BasicAuth | OAuthAuth:
    if credentials.auth == "basic":
        return BasicAuth(credentials)

    async def fetch() -> tuple[str, float]:
        try:
            body = await channel.request("POST", TOKEN_PATH, body=credentials.oauth_body)
        except (AuthError, TransientError):
            raise
        except ApiError as exc:
            message = f"failed to generate OAuth token: {exc.api_message}"
            raise AuthError(message, method="POST", path=TOKEN_PATH, status=exc.status) from exc
        data = require(body, "data", "token response")
        return str(require(data, "accessToken", "token response data")), float(data.get("ttlSeconds") or 300)

    return OAuthAuth(fetch)
