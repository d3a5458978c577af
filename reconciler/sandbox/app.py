"""The ASGI app: routes, and around them auth, the per-API rate limit (with its headers, if set), fault
injection and the request log."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from reconciler.sandbox import admin, routes_cards, routes_customers, routes_org
from reconciler.sandbox.envelope import ConnectionDropped, error_response
from reconciler.sandbox.runtime import Runtime
from reconciler.sandbox.settings import Settings
from reconciler.sandbox.store import Store

OPEN_ROUTES = frozenset({"POST /v3/oauth/token/generate"})
FAULT_ANSWERS = {
    "error_500": (500, 500, "Requests failed due to errors (injected)"),
    "error_461": (461, 461, "Search engine busy or not responding, try again later (injected)"),
    "error_521": (
        521,
        521,
        "Multiple actions are running for the same customer. Please try after some time.",
    ),
    # a business refusal, not a transient one: the same request is refused the same way every time
    "error_8011": (400, 8011, "Invalid source or accountId passed (injected)"),
}


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = {404: "Resource not found", 405: "Operation not supported for the resource"}.get(
        status, "Error"
    )
    return error_response(status, message, status)


async def drop_connection(send: Send) -> None:
    """Close the client's connection with no response: an aborted socket, or a transport error."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        # In-process there is no socket: the in-process client turns this into its transport error.
        raise ConnectionDropped("Server disconnected without sending a response.")
    transport.abort()
    for flag in ("disconnected", "response_started", "response_complete"):
        if hasattr(cycle, flag):
            setattr(cycle, flag, True)  # keep uvicorn from writing a 500 or logging one


async def _discard(message: Any) -> None:
    return None


class SandboxApp(Starlette):
    """A Starlette app whose outer layer sees the raw ASGI ``send`` (needed to drop connections)."""

    @property
    def runtime(self) -> Runtime:
        """The app's Runtime (store, settings, faults, log)."""
        rt: Runtime = self.state.runtime
        return rt

    def route_key(self, scope: Scope) -> str:
        """``METHOD template`` of the route a request matches (the path itself when none does)."""
        for route in self.router.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return f"{scope['method']} {getattr(route, 'path', scope['path'])}"
        return f"{scope['method']} {scope['path']}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope.setdefault("state", {})
        key = self.route_key(scope)
        started, status = time.time(), [0]

        async def logged_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        admin = scope["path"].startswith("/_sandbox/")
        if not admin:
            self.runtime.arrived()
        try:
            await self._serve(scope, receive, send, logged_send, key)
        finally:
            if not admin:
                self._record(scope, key, started, status[0])

    async def _serve(self, scope: Scope, receive: Receive, raw: Send, send: Send, key: str) -> None:
        rt = self.runtime
        if scope["path"].startswith("/_sandbox/"):
            await super().__call__(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        early = self._refuse(rt, key, headers, scope["state"])
        if early is not None:
            await early(scope, receive, send)
            return
        quota = scope["state"].get("quota")
        if quota is not None and rt.settings.rate_limit_headers:
            send = _with_headers(send, quota.headers())
        latency, fault = rt.faults.decide(key)
        scope["state"]["latency"] = latency
        if latency and key not in routes_customers.GUARDED:
            if fault is None:  # the answer leaves `latency` after the request came, work included
                send = _paced(send, time.monotonic() + latency)
            else:
                await asyncio.sleep(latency)
        if fault == "drop_before":
            await drop_connection(raw)
        elif fault == "error_429":  # as the rate limit answers (Retry-After as the fault plan says)
            await self._throttled(rt, rt.faults.retry_after(key))(scope, receive, send)
        elif fault in FAULT_ANSWERS:
            status, code, message = FAULT_ANSWERS[fault]
            await error_response(code, message, status)(scope, receive, send)
        elif fault == "drop_after_commit":
            await super().__call__(scope, receive, _discard)
            await drop_connection(raw)
        else:
            await super().__call__(scope, receive, send)

    def _refuse(
        self, rt: Runtime, key: str, headers: dict[str, str], state: dict[str, Any]
    ) -> Response | None:
        if key not in OPEN_ROUTES and not rt.authorised(headers):
            message = "Authentication failed. Please check username and password."
            if rt.settings.auth_error_body == "xml":  # as Capillary's own code parses a 401
                xml = f"<response><success>false</success><code>401</code><message>{message}</message>"
                xml += "</response>"
                return Response(xml, status_code=401, media_type="application/xml")
            return error_response(401, message, 401)
        quota = state["quota"] = rt.admit(key)
        if quota is None or quota.admitted:
            return None
        return self._throttled(rt, quota.reset, quota.headers() if rt.settings.rate_limit_headers else {})

    @staticmethod
    def _throttled(rt: Runtime, wait: int, quota_headers: dict[str, str] | None = None) -> Response:
        extra = {"Retry-After": str(wait)} if rt.settings.retry_after_header else {}
        extra.update(quota_headers or {})
        status = rt.settings.rate_limit_status
        return error_response(status, "Rate limit exceeded, try again later", status, headers=extra)

    def _record(self, scope: Scope, key: str, started: float, status: int) -> None:
        state = scope.get("state", {})
        self.runtime.record(
            {
                "method": scope["method"],
                "path": scope["path"],
                "route": key.split(" ", 1)[1],
                "status": status,
                "time": started,
                "customerId": state.get("customer_id"),
                "dropped": status == 0,
            }
        )


def create_app(store: Store | None = None, settings: Settings | None = None) -> SandboxApp:
    """The sandbox ASGI app over ``store`` (a fresh in-memory store if None)."""
    app = SandboxApp(
        routes=[*routes_customers.ROUTES, *routes_cards.ROUTES, *routes_org.ROUTES, *admin.ROUTES],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.runtime = Runtime(store=store or Store(), settings=settings or Settings())
    return app


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    """``send`` that adds ``headers`` to the response start (the org's rate-limit figures)."""
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def sending(message: Any) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


def _paced(send: Send, not_before: float) -> Send:
    """``send`` that holds the response start until ``not_before`` (a remote API's latency)."""

    async def paced(message: Any) -> None:
        if message["type"] == "http.response.start":
            await asyncio.sleep(max(0.0, not_before - time.monotonic()))
        await send(message)

    return paced
