"""Card, series and label endpoints."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from reconciler.sandbox import cards
from reconciler.sandbox.envelope import ApiFailure
from reconciler.sandbox.handlers import endpoint, json_body
from reconciler.sandbox.records import read_card
from reconciler.sandbox.runtime import Runtime


def _note_owner(request: Request, card: dict[str, Any]) -> None:
    if card.get("customerId"):
        request.state.customer_id = card["customerId"]


@endpoint
async def get_card(request: Request, rt: Runtime) -> Any:
    number = request.query_params.get("number")
    if not number:
        raise ApiFailure(403, "Field number is mandatory", status=403)
    with rt.store.reading() as db:
        card = read_card(db, number, rt.store.org()["id"])
    if card is None:
        raise ApiFailure(3010, "Card number does not exists")
    _note_owner(request, card)
    return card


@endpoint
async def create_card(request: Request, rt: Runtime) -> Any:
    body = await json_body(request)
    with rt.store.transaction() as db:
        return cards.create_card(db, body)


@endpoint
async def update_card(request: Request, rt: Runtime) -> Any:
    body = await json_body(request)
    org_id = rt.store.org()["id"]
    with rt.store.transaction() as db:
        card = cards.update_card(db, body, org_id)
    _note_owner(request, card)
    return card


@endpoint
async def bulk_update(request: Request, rt: Runtime) -> Any:
    body = await json_body(request)
    org_id = rt.store.org()["id"]
    with rt.store.transaction() as db:
        return cards.bulk_update(db, body, org_id, rt.settings)


@endpoint
async def generate(request: Request, rt: Runtime) -> Any:
    body = await json_body(request)
    with rt.store.transaction() as db:
        return cards.generate_cards(db, body, rt.settings)


@endpoint
async def create_series(request: Request, rt: Runtime) -> Any:
    body = await json_body(request)
    with rt.store.transaction() as db:
        return cards.create_series(db, body)


@endpoint
async def get_series(request: Request, rt: Runtime) -> Any:
    raw = request.path_params["id"]
    org_id = rt.store.org()["id"]
    with rt.store.reading() as db:
        row = (
            db.execute("SELECT * FROM series WHERE id = ?", (int(raw),)).fetchone() if raw.isdigit() else None
        )
        if row is None:
            raise ApiFailure(3004, "Card series does not exist")
        return {**cards.series_object(row, org_id), "warnings": []}


@endpoint
async def all_series(request: Request, rt: Runtime) -> Any:
    org_id = rt.store.org()["id"]
    with rt.store.reading() as db:
        data = [cards.series_object(r, org_id) for r in db.execute("SELECT * FROM series ORDER BY id")]
    return {"data": data, "warnings": [], "errors": []}


@endpoint
async def labels(request: Request, rt: Runtime) -> Any:
    org_id = rt.store.org()["id"]
    with rt.store.reading() as db:
        return cards.list_labels(db, org_id)


ROUTES = [
    Route("/v2/card", get_card, methods=["GET"]),
    Route("/v2/card", create_card, methods=["POST"]),
    Route("/v2/card", update_card, methods=["PUT"]),
    Route("/v2/card/bulk", bulk_update, methods=["PUT"]),
    Route("/v2/card/generate", generate, methods=["POST"]),
    Route("/v2/card/series", create_series, methods=["POST"]),
    Route("/v2/card/series/get/all", all_series, methods=["GET"]),
    Route("/v2/card/series/{id}", get_series, methods=["GET"]),
    Route("/v2/genericStatus/card/labels", labels, methods=["GET"]),
]
