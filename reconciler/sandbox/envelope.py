"""Answers in the API's envelopes: ``ApiFailure`` for errors, and JSON responses with warnings."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

Warning_ = dict[str, Any]


class ConnectionDropped(ConnectionError):
    """Raised in-process (no socket to abort) where the sandbox drops a connection without an answer.

    A client serving the app in-process translates it into its own transport error (the embedded target in
    ``reconciler.capillary`` raises what a closed socket gives it)."""


class SandboxAdminError(RuntimeError):
    """An admin call of ``SandboxServer`` (``/_sandbox/...``) failed: its status and the answer's text."""


class ApiFailure(Exception):
    """An error answer: ``code`` and ``message`` in the envelope; ``status`` None: the business status."""

    def __init__(self, code: int, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class HolderRefusal(ApiFailure):
    """An added value is held by a merge victim or a campaign account (8069/8068): nothing changes."""


def warning(code: int, message: str) -> Warning_:
    """One warning item as the API writes it: ``status`` false, as in every documented sample
    (docs/capillary-api.md section 10)."""
    return {"status": False, "code": code, "message": message}


def error_item(code: int, message: str) -> dict[str, Any]:
    """One error item as the API writes it."""
    return {"status": False, "code": code, "message": message}


def error_response(
    code: int, message: str, status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The documented error envelope."""
    body = {"errors": [error_item(code, message)], "warnings": []}
    return JSONResponse(body, status_code=status, headers=headers)


def ok(body: dict[str, Any], status: int = 200) -> JSONResponse:
    """A success answer."""
    return JSONResponse(body, status_code=status)


def not_found_customer() -> ApiFailure:
    """8015: no such customer."""
    return ApiFailure(8015, "Customer not found for the given identifiers")
