"""Authentication: a fixed Basic header, or an OAuth token cached, shared and refreshed before expiry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from reconciler.capillary._credentials import Credentials

TOKEN_PATH = "/v3/oauth/token/generate"
TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"
FAILURE_HOLD = 30.0  # seconds a failed token fetch is answered from memory
REFRESH_AT = 0.8  # of the token's ttl: refresh before it can expire in flight

TokenFetch = Callable[[], Awaitable[tuple[str, float]]]


class Auth:
    """Produces the auth headers of a request; ``token`` identifies them for a retry after a 401."""

    renewable = False
    kind = ""
    ttl: float | None = None  # the OAuth token's lifetime, once a token was issued

    async def headers(self) -> tuple[dict[str, str], str]:
        """Headers to send, and an opaque tag of the credential used."""
        raise NotImplementedError

    def invalidate(self, tag: str) -> None:
        """Forget the credential tagged ``tag`` (it was refused); the next call gets a fresh one."""


class BasicAuth(Auth):
    """``Authorization: Basic base64(till:md5hex(password))``."""

    kind = "basic"

    def __init__(self, credentials: Credentials) -> None:
        self._header = {"Authorization": credentials.basic_header}

    async def headers(self) -> tuple[dict[str, str], str]:
        """The fixed Basic header."""
        return self._header, ""


class OAuthAuth(Auth):
    """An OAuth token shared by every task; one refresh at a time, at 80% of its ttl."""

    renewable = True
    kind = "oauth"

    def __init__(self, fetch: TokenFetch, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock  # injectable: tests move time instead of waiting for it
        self._token = ""
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        self._failure: Exception | None = None
        self._failed_until = 0.0

    async def headers(self) -> tuple[dict[str, str], str]:
        """The token header, fetching a token first when there is none or it is due for refresh.

        A fetch that failed (it retries transient failures itself) fails every request for the next
        ``FAILURE_HOLD`` seconds with the same error, instead of each queued request asking again in turn.
        """
        if not self._token or self._clock() >= self._refresh_at:
            async with self._lock:
                if self._failure is not None and self._clock() < self._failed_until:
                    raise self._failure.with_traceback(None)
                if not self._token or self._clock() >= self._refresh_at:
                    await self._renew()
        token = self._token
        return {TOKEN_HEADER: token}, token

    async def _renew(self) -> None:
        started = self._clock()
        try:
            token, ttl = await self._fetch()
        except Exception as exc:
            self._failure, self._failed_until = exc, self._clock() + FAILURE_HOLD
            raise
        self._failure = None
        self._token, self._refresh_at, self.ttl = token, started + REFRESH_AT * ttl, ttl

    def invalidate(self, tag: str) -> None:
        """Drop the token if it is still the one that was refused."""
        if tag and tag == self._token:
            self._token = ""
