"""The glue every endpoint shares: reading the JSON body, and turning failures into the error envelope."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler.sandbox.envelope import ApiFailure, error_response
from reconciler.sandbox.runtime import Busy, Runtime

log = logging.getLogger(__name__)
MSG_521 = "Multiple actions are running for the same customer. Please try after some time."
Handler = Callable[[Request, Runtime], Awaitable[Any]]


def runtime(request: Request) -> Runtime:
    """The app's Runtime."""
    rt: Runtime = request.app.state.runtime
    return rt


async def json_body(request: Request) -> Any:
    """The parsed JSON body; 415 for another content type, 400 for malformed JSON."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise ApiFailure(415, "Unsupported media type: Content-Type must be application/json", status=415)
    raw = await request.body()
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiFailure(
            400, f"Malformed JSON body: {exc.msg if hasattr(exc, 'msg') else exc}", status=400
        ) from exc


def customer_id(request: Request) -> int:
    """The ``{id}`` path parameter as a customer id; 8015 when it is not a number."""
    raw = request.path_params["id"]
    if not raw.isdigit():
        raise ApiFailure(8015, f"Customer not found for the given identifiers: invalid id {raw!r}")
    cid = int(raw)
    request.state.customer_id = cid
    return cid


def endpoint(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: dict results become JSON; every failure becomes the envelope."""

    @functools.wraps(fn)
    async def wrapper(request: Request) -> Response:
        rt = runtime(request)
        try:
            result = await fn(request, rt)
        except ApiFailure as exc:
            return error_response(exc.code, exc.message, exc.status or rt.settings.business_error_status)
        except Busy:
            return error_response(521, MSG_521, 521)
        except Exception:
            log.exception("sandbox: unexpected error in %s %s", request.method, request.url.path)
            return error_response(500, "Internal error in the sandbox", 500)
        return result if isinstance(result, Response) else JSONResponse(result)

    return wrapper
