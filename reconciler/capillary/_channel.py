"""The one request path: read-only guard, auth, rate limit, bounded concurrency, retries, error mapping.

Retry rules (docs/capillary-api.md 1.3; docs/architecture.md 5.6 and 5.7):
- reads (GET, the bulk-read POST, the token POST) are retried on 429, 5xx, 521, 461 and transport errors
  with jittered exponential backoff, up to ``max_attempts``, then the typed error is raised;
- writes are retried only when the server certainly did not execute them: the connection was never
  made, or the answer was 429 or 521 (documented refusals). Any other 5xx, a timeout after sending or a
  dropped connection leaves the outcome unknown: ``OutcomeUnknownError``, never resent. A 500 may come
  after the write committed, and a 502/503/504 from a gateway says nothing about the backend, so all of
  them are treated as unknown; apply re-reads and decides.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from reconciler.backoff import Backoff
from reconciler.capillary._auth import TOKEN_PATH, Auth
from reconciler.capillary._errors import (
    REFUSED_STATUSES,
    RETRYABLE_STATUSES,
    decode_json,
    error_for,
    error_from_response,
    first_error,
    is_certificate_error,
    retry_after,
    transport_error,
    was_not_sent,
)
from reconciler.capillary._limits import Limits, WindowLimiter, api_key
from reconciler.errors import ApiError, OutcomeUnknownError, ReadOnlyViolation

log = logging.getLogger(__name__)

BULK_READ_PATH = "/v2/bulk/getCustomers"
READ_ONLY_POSTS = frozenset({TOKEN_PATH, BULK_READ_PATH})


def is_read(method: str, path: str) -> bool:
    """True for the requests a read-only client may send: GET, the token POST and the bulk-read POST."""
    route = path.split("?", 1)[0]
    return method == "GET" or (method == "POST" and route.endswith(tuple(READ_ONLY_POSTS)))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a request is tried, and the pause between tries."""

    max_attempts: int = 8
    backoff: Backoff = field(default_factory=lambda: Backoff(0.05, 5.0))


class Channel:
    """Sends requests for a reader or writer; ``read_only`` refuses anything but reads."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        limits: Limits,
        concurrency: int,
        read_only: bool,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.client = client
        self.read_only = read_only
        self.auth: Auth | None = None
        self.limit_headers: dict[str, str] = {}  # the rate-limit headers the org last sent, for `doctor`
        self._limits = limits
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._retry = retry or RetryPolicy()

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        """Send one logical request (with retries) and return its decoded JSON body."""
        read = is_read(method, path)
        if self.read_only and not read:
            raise ReadOnlyViolation("the read-only client cannot send this request", method=method, path=path)
        attempt, reauthed = 0, False
        while True:
            attempt += 1
            try:
                tag, response = await self._send(method, path, params, body, attempt)
            except httpx.HTTPError as exc:
                self._check_transport_retry(exc, method, path, read=read, attempt=attempt)
                await self._retry.backoff.pause(attempt)
                continue
            except (httpx.InvalidURL, httpx.StreamError) as exc:
                raise ApiError(f"invalid request ({type(exc).__name__})", method=method, path=path) from exc
            auth = self.auth if path != TOKEN_PATH else None
            if response.status_code == 401 and auth and auth.renewable and not reauthed:
                auth.invalidate(tag)  # expired or revoked token: one retry with a fresh one
                reauthed = True
                continue
            if response.is_success:
                return self._success_body(response, method, path)
            error = error_from_response(response, method=method, path=path)
            await self._before_retry(response, error, read=read, attempt=attempt)

    def _check_transport_retry(
        self, exc: httpx.HTTPError, method: str, path: str, *, read: bool, attempt: int
    ) -> None:
        """Return if the failed attempt may be repeated; else raise the typed error."""
        log.debug("%s %s -> %s (attempt %d)", method, path, type(exc).__name__, attempt)
        if not read and not was_not_sent(exc):
            raise OutcomeUnknownError(
                f"write sent but no answer ({type(exc).__name__}); it may have been applied",
                method=method,
                path=path,
            ) from exc
        if attempt >= self._retry.max_attempts or is_certificate_error(exc):
            raise transport_error(exc, method=method, path=path) from exc

    async def _before_retry(
        self, response: httpx.Response, error: ApiError, *, read: bool, attempt: int
    ) -> None:
        """Sleep before the next attempt, or raise ``error`` (or outcome-unknown for a write)."""
        status = response.status_code
        if status not in RETRYABLE_STATUSES:
            raise error
        if not read and status not in REFUSED_STATUSES:
            raise OutcomeUnknownError(
                f"write answered {status}; it may have been applied: {error.api_message}",
                method=error.method,
                path=error.path,
                status=status,
                code=error.code,
            )
        if attempt >= self._retry.max_attempts:
            raise error
        backoff = self._retry.backoff
        if status == 429 and (wait := retry_after(response)) is not None:
            self._limits.for_key(api_key(error.method, error.path)).pause(wait)
            await backoff.sleep(wait)
            return
        await backoff.pause(attempt)

    async def _send(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, attempt: int
    ) -> tuple[str, httpx.Response]:
        """Send once within the concurrency bound and the API's rate limit, with fresh auth headers.

        The token request takes no concurrency slot: the tasks holding every slot may be waiting for it.
        """
        limiter = self._limits.for_key(api_key(method, path))
        token_request = path == TOKEN_PATH
        if not token_request:
            await self._slot_and_quota(limiter)
        else:
            await limiter.acquire()
        try:
            headers, tag = ({}, "") if token_request or not self.auth else await self.auth.headers()
            response = await self.client.request(method, path, params=params, json=body, headers=headers)
        finally:
            limiter.release()
            if not token_request:
                self._slots.release()
        limiter.observe(response.status_code, response.headers)  # backpressure: 429s, the org's figures
        log.debug("%s %s -> %d (attempt %d)", method, path, response.status_code, attempt)
        self.limit_headers.update(
            (k.lower(), v)
            for k, v in response.headers.items()
            if "ratelimit" in k.lower() or k.lower() == "retry-after"
        )
        return tag, response

    async def _slot_and_quota(self, limiter: WindowLimiter) -> None:
        """Take a concurrency slot and one request of the API's quota.

        A task never waits for its API's quota while holding a slot: the rate limit is per API, so a
        slot is kept free for a request of another API (a plan's holder lookups while its customer
        reads wait for their window, an apply's writes while its re-reads do).
        """
        async with limiter.turn:  # this API's requests in the order they asked, one waiting on the clock
            while True:
                await limiter.ready()
                await self._slots.acquire()
                if limiter.try_acquire():
                    return
                self._slots.release()  # the window closed while waiting for the slot (a 429 pause)

    def _success_body(self, response: httpx.Response, method: str, path: str) -> Any:
        """The decoded body of a 2xx answer; an error envelope inside a 200 is still an error."""
        body = decode_json(response)
        code, message = first_error(body)
        if response.status_code != 201 and isinstance(body, dict) and body.get("errors") and message:
            raise error_for(response.status_code, code, message, method=method, path=path)
        return body
