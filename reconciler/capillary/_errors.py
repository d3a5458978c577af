"""Translation of API answers and transport failures into the typed errors of ``reconciler.errors``."""

from __future__ import annotations

import json
from typing import Any

import httpx

from reconciler.errors import (
    ApiError,
    AuthError,
    MergedCustomerError,
    NotFoundError,
    RateLimitedError,
    TransientError,
)

NOT_FOUND_CODES = frozenset({8015, 8065, 3010, 3004, 8009})
MERGED_CODES = frozenset({8069})
RETRYABLE_STATUSES = frozenset({429, 461, 521}) | frozenset(range(500, 600))
# Statuses that mean "refused, not executed": a write answered so may be sent again.
REFUSED_STATUSES = frozenset({429, 521})


def decode_json(response: httpx.Response) -> Any:
    """The JSON body, or None when the body is empty or not JSON."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return None


def first_error(body: Any) -> tuple[int | None, str]:
    """The first ``{"code", "message"}`` of an error envelope, or ``(None, "")``."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code = errors[0].get("code")
            return (code if isinstance(code, int) else None), str(errors[0].get("message", ""))
        if isinstance(body.get("message"), str):
            return None, body["message"]
    return None, ""


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds (HTTP dates are ignored)."""
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def error_for(status: int | None, code: int | None, message: str, *, method: str, path: str) -> ApiError:
    """The typed error for an answer with this status and Capillary code."""
    text = message or (f"HTTP {status}" if status else "request failed")
    kind: type[ApiError] = ApiError
    if code in MERGED_CODES:
        kind = MergedCustomerError
    elif code in NOT_FOUND_CODES or (status == 404 and code is None):
        kind = NotFoundError
    elif status == 401:
        kind, text = AuthError, message or "authentication failed"
    elif status in RETRYABLE_STATUSES:
        kind = TransientError
    return kind(text, method=method, path=path, status=status, code=code)


def error_from_response(response: httpx.Response, *, method: str, path: str) -> ApiError:
    """The typed error for a failed HTTP answer."""
    code, message = first_error(decode_json(response))
    if response.status_code == 429:
        return RateLimitedError(
            message or "rate limited",
            retry_after=retry_after(response),
            method=method,
            path=path,
            status=429,
            code=code,
        )
    return error_for(response.status_code, code, message, method=method, path=path)


def transport_error(exc: httpx.HTTPError, *, method: str, path: str) -> TransientError:
    """A transport failure as a (retryable for reads) typed error; never the httpx text with a URL.

    A failed connect adds its reason: our transport writes that text itself (host and port, no path or query).
    """
    connect = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
    reason = f": {exc}" if connect and str(exc) else ""
    return TransientError(f"transport failure: {type(exc).__name__}{reason}", method=method, path=path)


def was_not_sent(exc: httpx.HTTPError) -> bool:
    """True when the request certainly never reached the server (so a write may be sent again)."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
