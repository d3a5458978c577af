"""Translation of API answers and transport failures into the typed errors of ``reconciler.errors``."""

from __future__ import annotations

import json
import os
import socket
import ssl
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

DEFAULT_PORTS = {"http": 80, "https": 443}
HOSTNAME_MISMATCH = frozenset({62, 64})  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
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

    A failed connect adds its reason in a few words and the host and port (no path, no query).
    """
    reason = ""
    if isinstance(exc, httpx.ConnectTimeout):
        reason = f": timed out connecting{_where(exc)}"
    elif isinstance(exc, httpx.ConnectError):
        reason = f": {connect_reason(exc)}{_where(exc)}"
    return TransientError(f"transport failure: {type(exc).__name__}{reason}", method=method, path=path)


def _os_error(exc: BaseException) -> OSError | None:
    """The OS (or TLS) error at the root of a transport failure, following httpx's and httpcore's causes."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def is_certificate_error(exc: BaseException) -> bool:
    """True when the server's TLS certificate was refused: a configuration problem no retry can mend."""
    return isinstance(_os_error(exc), ssl.SSLCertVerificationError)


def connect_reason(exc: BaseException) -> str:
    """Why a connection attempt failed, in a few words (no URL, path or query)."""
    cause = _os_error(exc)
    if isinstance(cause, ssl.SSLCertVerificationError):
        if cause.verify_code in HOSTNAME_MISMATCH:
            return "the server's TLS certificate is not valid for the host in api.url"
        return (
            f"TLS certificate not trusted ({cause.verify_message}); SSL_CERT_FILE names the CA bundle to "
            "trust (it replaces the default one)"
        )
    if isinstance(cause, ssl.SSLError):
        return f"TLS handshake failed ({cause.reason or type(cause).__name__})"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, socket.gaierror):
        return f"the host name did not resolve ({cause.strerror})"
    if cause is not None and cause.errno:
        return os.strerror(cause.errno)
    return "connection failed"


def _where(exc: httpx.HTTPError) -> str:
    try:
        url = exc.request.url
    except RuntimeError:  # an error raised without its request
        return ""
    port = url.port or DEFAULT_PORTS.get(url.scheme, 0)
    host = url.host
    return f" ({f'[{host}]' if ':' in host else host}:{port})"


def was_not_sent(exc: httpx.HTTPError) -> bool:
    """True when the request certainly never reached the server (so a write may be sent again)."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
