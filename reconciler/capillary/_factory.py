"""Building a client for a configured target: a real host or a sandbox, over the transport it is given."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx

from reconciler.capillary._auth import TOKEN_PATH, BasicAuth, OAuthAuth
from reconciler.capillary._channel import Channel, is_read
from reconciler.capillary._credentials import Credentials
from reconciler.capillary._limits import Limits
from reconciler.capillary._reader import CapillaryReader
from reconciler.capillary._writer import CapillaryWriter
from reconciler.capillary.parse import require
from reconciler.config import Config
from reconciler.errors import ApiError, AuthError, ConfigError, ReadOnlyViolation, TransientError
from reconciler.model import parse_sources

SANDBOX_BASE_URL = "http://sandbox.invalid"


async def _refuse_writes(request: httpx.Request) -> None:
    """The read-only client's request hook: anything but a read is refused before it is sent."""
    if not is_read(request.method, request.url.path):
        raise ReadOnlyViolation(
            "the read-only client cannot send this request", method=request.method, path=request.url.path
        )


def _http_client(
    base_url: str,
    transport: httpx.AsyncBaseTransport | None,
    *,
    write: bool,
    concurrency: int,
    timeout: float,
) -> httpx.AsyncClient:
    """httpx's own client; with no ``transport``, httpx's pooled transport and proxies from the environment.

    ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY`` and ``SSL_CERT_FILE``/``SSL_CERT_DIR`` are read
    as httpx reads them (``trust_env``). httpx retries nothing by default: retries are the channel's.
    """
    try:
        return httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            limits=httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2),
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json"},
            event_hooks={} if write else {"request": [_refuse_writes]},
            trust_env=True,
        )
    except (OSError, ssl.SSLError) as exc:  # SSL_CERT_FILE / SSL_CERT_DIR missing or not PEM
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(
            f"cannot load the CA certificates to trust (SSL_CERT_FILE / SSL_CERT_DIR?): {reason}"
        ) from None


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
    if transport is None and api.is_sandbox:
        raise ConfigError(
            "the embedded sandbox is a transport the caller passes (reconciler.commands.target)"
        )
    client = _http_client(
        base_url, transport, write=write, concurrency=api.concurrency, timeout=api.timeout_seconds
    )
    limits = Limits(api.requests_per_minute, rate_window)
    channel = Channel(client, limits=limits, concurrency=api.concurrency, read_only=not write)
    channel.auth = _auth_for(creds, channel)
    kind = CapillaryWriter if write else CapillaryReader
    try:
        yield kind(
            channel,
            bulk_read=api.bulk_read,
            bulk_batch_size=api.bulk_batch_size,
            configured_sources=parse_sources(config.sources) if config.sources else None,
        )
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
