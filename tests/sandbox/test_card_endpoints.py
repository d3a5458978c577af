"""Cards, series and labels: create, read, status transitions, bulk, generation."""

from __future__ import annotations

import pytest

from tests.testing import Api, codes

TOM = 564854782


def test_get_card_shape(api: Api) -> None:
    card = api.get("/v2/card?number=GOLD0000001").json()
    assert (card["cardNumber"], card["customerId"], card["seriesId"], card["seriesCode"]) == (
        "GOLD0000001",
        TOM,
        121212,
        "GOLD01",
    )
    assert card["statusInfo"]["label"] == "ACTIVE" and card["statusInfo"]["status"] == "ACTIVE"
    assert card["type"] == "PHYSICAL" and card["warnings"] == []
    assert api.get("/v2/card?number=GOLD0000010").json()["customerId"] == 0
    assert codes(api.get("/v2/card?number=NOPE")) == [3010]
    blocked = api.get("/v2/card?number=GOLD0000006").json()["statusInfo"]
    assert (blocked["label"], blocked["status"]) == ("CARD BLOCKED", "SUSPENDED")


def test_create_card(api: Api) -> None:
    created = api.post(
        "/v2/card", {"cardNumber": "GOLD0000500", "seriesCode": "GOLD01", "statusLabel": "NOT_ISSUED"}
    )
    assert created.status_code == 200 and isinstance(created.json()["entity"], int)
    assert api.get("/v2/card?number=GOLD0000500").json()["statusInfo"]["status"] == "NOT_ISSUED"
    assert codes(api.post("/v2/card", {"cardNumber": "GOLD0000500", "seriesId": 121212})) == [3009]
    assert codes(api.post("/v2/card", {"cardNumber": "X1", "seriesId": 4})) == [3004]
    assert codes(api.post("/v2/card", {"cardNumber": "X1"})) == [3004]
    assert codes(api.post("/v2/card", [{"cardNumber": "X1"}])) == [3035]
    missing = api.post("/v2/card", {"seriesId": 121212})
    assert missing.status_code == 403 and codes(missing) == [403]


@pytest.mark.parametrize(
    ("number", "label", "code"),
    [
        ("GOLD0000001", "ACTIVE", 3012),
        ("GOLD0000001", "NOT_ISSUED", 3013),
        ("GOLD0000010", "SUSPENDED", 3038),
        ("GOLD0000010", "EXPIRED", 3038),
        ("GOLD0000099", "DELETED", 3038),
        ("GOLD0000001", "NOPE", 3017),
    ],
    ids=[
        "same",
        "active-to-not-issued",
        "not-issued-to-suspended",
        "not-issued-expire",
        "expired-delete",
        "label",
    ],
)
def test_status_transition_refusals(api: Api, number: str, label: str, code: int) -> None:
    assert codes(api.put("/v2/card", {"cardNumber": number, "statusLabel": label})) == [code]


def test_status_changes_allowed(api: Api) -> None:
    blocked = api.put("/v2/card", {"cardNumber": "GOLD0000001", "statusLabel": "CARD BLOCKED"}).json()
    assert blocked["statusInfo"]["status"] == "SUSPENDED" and blocked["statusInfo"]["label"] == "CARD BLOCKED"
    assert api.put("/v2/card", {"cardNumber": "GOLD0000001", "statusLabel": "ACTIVE"}).status_code == 200
    deleted = api.put("/v2/card", {"cardNumber": "GOLD0000001", "statusLabel": "DELETED"})
    assert deleted.json()["statusInfo"]["status"] == "DELETED"
    assert codes(api.put("/v2/card", {"cardNumber": "GOLD0000001", "statusLabel": "ACTIVE"})) == [8087]


def test_bulk_update(api: Api) -> None:
    items = [
        {"cardNumber": "GOLD0000001", "statusLabel": "SUSPENDED"},
        {"cardNumber": "NOPE", "statusLabel": "SUSPENDED"},
        {"cardNumber": "GOLD0000010", "statusLabel": "SUSPENDED"},
        {"cardNumber": "GOLD0000002", "statusLabel": "ACTIVE"},
    ]
    body = api.put("/v2/card/bulk", items).json()
    assert (body["totalCount"], body["failureCount"]) == (4, 2)
    assert [[e["code"] for e in r["errors"]] for r in body["response"]] == [[], [3010], [3038], []]
    assert [w["code"] for w in body["response"][3]["warnings"]] == [3039]
    assert api.get("/v2/card?number=GOLD0000001").json()["statusInfo"]["status"] == "SUSPENDED"
    too_many = [{"cardNumber": "GOLD0000001", "statusLabel": "ACTIVE"}] * 201
    assert codes(api.put("/v2/card/bulk", too_many)) == [1060]


def test_generate(api: Api) -> None:
    body = api.post("/v2/card/generate", {"seriesId": 131313, "count": 3, "statusLabel": "NOT_ISSUED"}).json()
    assert len(body["data"]) == 3 and body["warnings"] == [] and body["errors"] == []
    assert all(n.startswith("DIGI") and len(n) == 12 for n in body["data"])
    again = api.post("/v2/card/generate", {"seriesId": 131313, "count": 3}).json()["data"]
    assert not set(again) & set(body["data"])
    assert api.get(f"/v2/card?number={again[0]}").json()["statusInfo"]["status"] == "NOT_ISSUED"
    assert codes(api.post("/v2/card/generate", {"seriesId": 121212, "count": 1})) == [
        703
    ]  # "Card number generation disabled"
    assert codes(api.post("/v2/card/generate", {"seriesId": 131313, "count": 0})) == [3025]
    assert codes(api.post("/v2/card/generate", {"seriesId": 131313, "count": 50001})) == [3026]
    assert codes(
        api.post("/v2/card/generate", {"seriesId": 131313, "count": 1, "statusLabel": "ACTIVE"})
    ) == [3017]


def test_series_and_labels(api: Api) -> None:
    created = api.post("/v2/card/series", {"code": "SILV01", "name": "Silver", "type": "DIGITAL"}).json()
    sid = created["entity"]
    assert api.get(f"/v2/card/series/{sid}").json()["code"] == "SILV01"
    assert [s["code"] for s in api.get("/v2/card/series/get/all").json()["data"]] == [
        "GOLD01",
        "DIGI01",
        "SILV01",
    ]
    assert codes(api.post("/v2/card/series", {"code": "SILV01", "type": "DIGITAL"})) == [3002]
    limits = {"SILV01": 1, "ZERO01": 0}  # absent: the UI default; 0 is kept (docs/capillary-api.md 10)
    api.post("/v2/card/series", {"code": "ZERO01", "type": "DIGITAL", "maxActiveCardsPerCustomer": 0})
    listed = api.get("/v2/card/series/get/all").json()["data"]
    assert {s["code"]: s["maxActiveCardsPerCustomer"] for s in listed if s["code"] in limits} == limits
    assert codes(api.post("/v2/card/series", {"code": "X", "type": "PLASTIC"})) == [3020]
    for bad in ("2", -1, 1.5, True):  # a refusal naming the field, not a server error
        body = {"code": f"BAD{bad}", "type": "DIGITAL", "maxActiveCardsPerCustomer": bad}
        refused = api.post("/v2/card/series", body)
        assert refused.status_code == 403 and "maxActiveCardsPerCustomer" in refused.text
    assert codes(api.post("/v2/card/series", {"type": "DIGITAL"})) == [3001]
    assert codes(api.get("/v2/card/series/42")) == [3004]
    labels = api.get("/v2/genericStatus/card/labels").json()["data"]
    assert {(lab["label"], lab["status"]) for lab in labels} >= {
        ("CARD BLOCKED", "SUSPENDED"),
        ("ACTIVE", "ACTIVE"),
    }
    assert sum(lab["default"] for lab in labels) == 6
