"""Customer endpoints: OAuth token, register, reads, lookups, bulk read, changeIdentifier."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reconciler.sandbox.cardlink import now_iso
from reconciler.sandbox.customers import bulk_read, parse_scope, read_customer
from reconciler.sandbox.envelope import ApiFailure, HolderRefusal, error_item, warning
from reconciler.sandbox.handlers import customer_id, endpoint, json_body
from reconciler.sandbox.identity import Change, change_identifier
from reconciler.sandbox.lookup import ACCOUNT_NOT_PASSED
from reconciler.sandbox.lookup import lookup_details as details_of
from reconciler.sandbox.register import register_customer
from reconciler.sandbox.runtime import Runtime
from reconciler.sandbox.settings import Settings


@endpoint
async def token(request: Request, rt: Runtime) -> Any:
    body = await json_body(request)
    s = rt.settings
    if not isinstance(body, dict) or body.get("key") != s.oauth_key or body.get("secret") != s.oauth_secret:
        failure = {
            "data": None,
            "errors": [error_item(401, "Failed to generate OAuth token")],
            "warnings": [],
        }
        return JSONResponse(failure, status_code=401)
    return {"data": {"accessToken": rt.issue_token(), "ttlSeconds": s.token_ttl_seconds}, "errors": None}


@endpoint
async def register(request: Request, rt: Runtime) -> Any:
    body = await json_body(request)
    with rt.store.transaction() as db:
        result = register_customer(db, body, rt.settings, now_iso())
    request.state.customer_id = result["createdId"]
    return merge_codes_variant(result, rt.settings)


@endpoint
async def get_customer(request: Request, rt: Runtime) -> Any:
    cid = customer_id(request)
    q = request.query_params
    if not q.get("source"):  # docs/capillary-api.md 10: ``source`` is required
        raise ApiFailure(8016, "GET failed, No source passed")
    with rt.store.reading() as db:
        scope = parse_scope(q["source"], q.get("accountId"), db)
        return read_customer(db, cid, scope, rt.settings, rt.store.org()["id"])


@endpoint
async def lookup(request: Request, rt: Runtime) -> Any:
    query, org = dict(request.query_params), rt.store.org()["id"]
    with rt.store.reading() as db:
        body = details_of(db, query, rt.settings, org, missing_account=ACCOUNT_NOT_PASSED)
    request.state.customer_id = body["id"]
    return {"entity": body["id"], "warnings": body["warnings"]}


@endpoint
async def lookup_details(request: Request, rt: Runtime) -> Any:
    with rt.store.reading() as db:
        body = details_of(db, dict(request.query_params), rt.settings, rt.store.org()["id"])
    request.state.customer_id = body["id"]
    return body


@endpoint
async def bulk_get(request: Request, rt: Runtime) -> Any:
    if not rt.settings.bulk_read_access:
        raise ApiFailure(403, "Access denied: the API key may not use the bulk read", status=403)
    body = await json_body(request)
    if not isinstance(body, list):
        raise ApiFailure(400, "Body must be a JSON array of customer ids", status=400)
    q = request.query_params
    with rt.store.reading() as db:
        scope = parse_scope(q.get("source", "ALL"), q.get("accountId"), db)
        return bulk_read(db, body, scope, rt.settings, rt.store.org()["id"])


@endpoint
async def change(request: Request, rt: Runtime) -> Any:
    cid = customer_id(request)
    body = await json_body(request)
    q = request.query_params
    with rt.guard(cid):
        latency = float(request.scope.get("state", {}).get("latency", 0.0))
        if latency:
            await asyncio.sleep(latency)  # held inside the guard: overlapping writes see a real 521
        org = rt.store.org()
        try:
            with rt.store.transaction() as db:  # a refusal rolls the whole call back
                scope = parse_scope(q.get("source"), q.get("accountId"), db, code=8003)
                if scope is None:
                    raise ApiFailure(8003, "Invalid source ALL: changeIdentifier needs one source")
                result = change_identifier(db, Change(cid, scope, rt.settings, rt.is_busy), body, org)
        except HolderRefusal as exc:
            if rt.settings.holder_codes_on_write != "warning":
                raise
            return {"createdId": cid, "warnings": [warning(exc.code, exc.message)]}  # nothing changed
    return merge_codes_variant(result, rt.settings)


MERGE_CODES = frozenset({8050, 8051, 8053, 8066, 8067})


def merge_codes_variant(result: dict[str, Any], settings: Settings) -> Any:
    """A committed write's answer; with ``merge_codes="error"`` its merge warnings become errors (non-2xx)."""
    merges = [w for w in result["warnings"] if w["code"] in MERGE_CODES]
    if settings.merge_codes != "error" or not merges:
        return result
    errors = [error_item(w["code"], w["message"]) for w in merges]
    others = [w for w in result["warnings"] if w["code"] not in MERGE_CODES]
    body = {"createdId": result["createdId"], "errors": errors, "warnings": others}
    return JSONResponse(body, status_code=settings.business_error_status)


GUARDED = frozenset({"POST /v2/customers/{id}/changeIdentifier"})

ROUTES = [
    Route("/v3/oauth/token/generate", token, methods=["POST"]),
    Route("/v2/customers", register, methods=["POST"]),
    Route("/v2/customers/lookup", lookup, methods=["GET"]),
    Route("/v2/customers/lookup/customerDetails", lookup_details, methods=["GET"]),
    Route("/v2/customers/{id}", get_customer, methods=["GET"]),
    Route("/v2/customers/{id}/changeIdentifier", change, methods=["POST"]),
    Route("/v2/bulk/getCustomers", bulk_get, methods=["POST"]),
]
