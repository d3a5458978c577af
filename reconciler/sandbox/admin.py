"""Admin endpoints under ``/_sandbox/`` (no auth, no faults, no rate limit): reset, seed, dump, request log,
faults and settings."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from reconciler.sandbox.envelope import ApiFailure
from reconciler.sandbox.faults import parse_faults
from reconciler.sandbox.handlers import endpoint, json_body
from reconciler.sandbox.runtime import Runtime


def demo_fixture() -> dict[str, Any]:
    """The demo organisation's fixture (``seeds/demo.json``)."""
    text = resources.files("reconciler.sandbox").joinpath("seeds/demo.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@endpoint
async def reset(request: Request, rt: Runtime) -> Any:
    rt.store.reset()
    rt.clear_log()
    return {"status": "reset"}


@endpoint
async def seed(request: Request, rt: Runtime) -> Any:
    """Body: a fixture, or ``{"name": "demo"}``."""
    body = await json_body(request)
    fixture = demo_fixture() if body == {"name": "demo"} else body
    try:
        rt.store.seed(fixture)
    except ValueError as exc:
        raise ApiFailure(400, f"Bad fixture: {exc}", status=400) from exc
    return {"status": "seeded", "customers": len(fixture.get("customers", []))}


@endpoint
async def dump(request: Request, rt: Runtime) -> Any:
    return rt.store.dump()


@endpoint
async def requests_log(request: Request, rt: Runtime) -> Any:
    if request.method == "DELETE":
        rt.clear_log()
        return {"status": "cleared"}
    return rt.request_log()


@endpoint
async def faults(request: Request, rt: Runtime) -> Any:
    if request.method == "PUT":
        try:
            rt.faults = parse_faults(await json_body(request))
        except ValueError as exc:
            raise ApiFailure(400, str(exc), status=400) from exc
    return rt.faults.to_dict()


@endpoint
async def settings(request: Request, rt: Runtime) -> Any:
    if request.method == "PUT":
        body = await json_body(request)
        if not isinstance(body, dict):
            raise ApiFailure(400, "settings must be a JSON object", status=400)
        try:
            rt.settings = rt.settings.replace(body)
        except ValueError as exc:
            raise ApiFailure(400, str(exc), status=400) from exc
    return rt.settings.public()


ROUTES = [
    Route("/_sandbox/reset", reset, methods=["POST"]),
    Route("/_sandbox/seed", seed, methods=["POST"]),
    Route("/_sandbox/dump", dump, methods=["GET"]),
    Route("/_sandbox/requests", requests_log, methods=["GET", "DELETE"]),
    Route("/_sandbox/faults", faults, methods=["GET", "PUT"]),
    Route("/_sandbox/settings", settings, methods=["GET", "PUT"]),
]
