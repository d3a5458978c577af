"""The sandbox answers each documented code at its documented condition (issue 20, 4), section by section of
docs/capillary-api.md, and each documented response field in its documented format. The simulated apply
makes the sandbox's rules the last check before merge, so each row here is a refusal a plan can meet."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sandbox import create_app
from reconciler.sandbox.store import DEFAULT_LABELS
from tests.testing import Api, codes

TOM = 564854782  # INSTORE mobile, email, externalId; holds GOLD0000001 (series 121212, at its limit of 1)
LINK = {"type": "cardnumber", "seriesId": 121212, "statusLabel": "ACTIVE"}
DELINK = {"type": "cardnumber", "seriesId": 121212, "statusLabel": "NOT_ISSUED"}
LOOKUP = "/v2/customers/lookup/customerDetails"


def _link(number: str, **extra: Any) -> dict[str, Any]:
    return {"add": [{**LINK, "value": number, **extra}]}


# (docs section, what is sent, the documented code)
CASES: list[tuple[str, str, Any, int]] = [
    ("10", "GET a customer without source", ("GET", f"/v2/customers/{TOM}", {}), 8016),
    ("4.1", "GET a customer in an unknown source", ("GET", f"/v2/customers/{TOM}", {"source": "NOPE"}), 8012),
    (
        "4.1",
        "GET in a multi-account source without accountId",
        ("GET", f"/v2/customers/{TOM}", {"source": "WECHAT"}),
        8045,
    ),
    (
        "10",
        "a lookup without source",
        ("GET", LOOKUP, {"identifierName": "mobile", "identifierValue": "1"}),
        8001,
    ),
    (
        "10",
        "an id lookup without source",
        ("GET", "/v2/customers/lookup", {"identifierName": "mobile", "identifierValue": "1"}),
        8001,
    ),
    ("4.2", "a lookup with no identifier", ("GET", LOOKUP, {"source": "INSTORE"}), 8002),
    (
        "4.2",
        "a lookup without identifierName",
        ("GET", LOOKUP, {"source": "INSTORE", "identifierValue": "1"}),
        8092,
    ),
    (
        "4.2",
        "a lookup without identifierValue",
        ("GET", LOOKUP, {"source": "INSTORE", "identifierName": "mobile"}),
        8093,
    ),
    (
        "4.2",
        "a lookup by an unknown identifierName",
        ("GET", LOOKUP, {"source": "INSTORE", "identifierName": "bogus", "identifierValue": "x"}),
        8013,
    ),
    (
        "10",
        "a lookup in a multi-account source without accountId",
        ("GET", LOOKUP, {"source": "WECHAT", "identifierName": "mobile", "identifierValue": "1"}),
        8015,
    ),
    (
        "4.2",
        "a lookup in an unknown account",
        (
            "GET",
            LOOKUP,
            {"source": "WECHAT", "accountId": "zz", "identifierName": "mobile", "identifierValue": "1"},
        ),
        8011,
    ),
    (
        "4.2",
        "a lookup nobody answers",
        ("GET", LOOKUP, {"source": "INSTORE", "identifierName": "mobile", "identifierValue": "1"}),
        8015,
    ),
    (
        "3",
        "changeIdentifier without source",
        ("CHANGE", None, {"add": [{"type": "email", "value": "q@x.com"}]}),
        8003,
    ),
    ("3", "changeIdentifier with nothing to change", ("CHANGE", "INSTORE", {"add": [], "remove": []}), 8070),
    (
        "3",
        "an invalid email",
        ("CHANGE", "INSTORE", {"add": [{"type": "email", "value": "not an email"}]}),
        8055,
    ),
    ("3", "an invalid mobile", ("CHANGE", "INSTORE", {"add": [{"type": "mobile", "value": "12ab"}]}), 8056),
    (
        "3",
        "a multi-account source without accountId",
        ("CHANGE", "WECHAT", {"add": [{"type": "email", "value": "q@x.com"}]}),
        8045,
    ),
    (
        "3",
        "an unknown source account",
        ("CHANGE", "WECHAT:zz", {"add": [{"type": "email", "value": "q@x.com"}]}),
        8011,
    ),
    (
        "3",
        "two cards in one call",
        ("CHANGE", "INSTORE", {"add": [{**LINK, "value": "GOLD0000007"}, {**LINK, "value": "GOLD0000008"}]}),
        3037,
    ),
    ("3", "a card that does not exist", ("CHANGE", "INSTORE", _link("NOPE0001")), 3010),
    (
        "3",
        "a label the org does not have",
        ("CHANGE", "INSTORE", _link("NOPE0001", statusLabel="BOGUS")),
        3017,
    ),
    ("3", "one card more than the series allows", ("CHANGE", "INSTORE", _link("GOLD0000007")), 3036),
    ("3", "a card linked to another customer", ("CHANGE", "INSTORE", _link("GOLD0000002")), 3027),
    ("3", "a card of another series", ("CHANGE", "INSTORE", _link("GOLD0000007", seriesId=131313)), 3000),
    (
        "3",
        "a delink whose label is not NOT_ISSUED",
        ("CHANGE", "INSTORE", {"remove": [{**DELINK, "value": "GOLD0000001", "statusLabel": "ACTIVE"}]}),
        3018,
    ),
    (
        "3",
        "a delink of a card the customer does not hold",
        ("CHANGE", "INSTORE", {"remove": [{**DELINK, "value": "GOLD0000002"}]}),
        3031,
    ),
    ("1.3", "a body that is not JSON", ("RAW", "INSTORE", b"x"), 415),
    (
        "6.6",
        "generating in a series whose generation is disabled",
        ("POST", "/v2/card/generate", {"seriesId": 121212, "count": 1, "statusLabel": "NOT_ISSUED"}),
        703,
    ),
    (
        "6.6",
        "generating an invalid count",
        ("POST", "/v2/card/generate", {"seriesId": 131313, "count": 0, "statusLabel": "NOT_ISSUED"}),
        3025,
    ),
    (
        "6.6",
        "generating with a label other than NOT_ISSUED",
        ("POST", "/v2/card/generate", {"seriesId": 131313, "count": 1, "statusLabel": "ACTIVE"}),
        3017,
    ),
    (
        "6.3",
        "adding a card to a series that does not exist",
        ("POST", "/v2/card", {"seriesId": 999, "cardNumber": "ZZ1", "statusLabel": "NOT_ISSUED"}),
        3004,
    ),
    (
        "6.3",
        "adding a card number that exists",
        ("POST", "/v2/card", {"seriesId": 121212, "cardNumber": "GOLD0000007", "statusLabel": "NOT_ISSUED"}),
        3009,
    ),
    (
        "6.3",
        "adding several cards in one call",
        ("POST", "/v2/card", [{"seriesId": 121212, "cardNumber": "ZZ2"}]),
        3035,
    ),
    (
        "6.4",
        "updating a card that does not exist",
        ("PUT", "/v2/card", {"cardNumber": "NOPE", "statusLabel": "ACTIVE"}),
        3010,
    ),
    (
        "6.1",
        "a status change to the same label",
        ("PUT", "/v2/card", {"cardNumber": "GOLD0000007", "statusLabel": "NOT_ISSUED"}),
        3012,
    ),
    (
        "6.1",
        "NOT_ISSUED to SUSPENDED",
        ("PUT", "/v2/card", {"cardNumber": "GOLD0000007", "statusLabel": "CARD BLOCKED"}),
        3038,
    ),
    (
        "6.4",
        "a bulk update of more than 200 cards",
        ("PUT", "/v2/card/bulk", [{"cardNumber": "GOLD0000007", "statusLabel": "ACTIVE"}] * 201),
        1060,
    ),
    ("6.5", "reading a card that does not exist", ("GET", "/v2/card", {"number": "NOPE"}), 3010),
]


def _send(api: Api, how: Any) -> Any:
    kind, where, body = how
    if kind == "GET":
        return api.get(where, params=body)
    if kind in ("POST", "PUT"):
        return api.request(kind, where, json=body)
    if kind == "RAW":
        return api.request("POST", f"/v2/customers/{TOM}/changeIdentifier?source=INSTORE", content=body)
    if where is None:
        return api.post(f"/v2/customers/{TOM}/changeIdentifier", body)
    source, _, account = where.partition(":")
    return api.change(TOM, body, source, account)


@pytest.mark.parametrize("section, what, how, code", CASES, ids=[c[1] for c in CASES])
def test_each_documented_code_at_its_condition(
    api: Api, section: str, what: str, how: Any, code: int
) -> None:
    before = api.runtime.store.dump()
    answer = _send(api, how)
    assert answer.status_code >= 400, (section, what, answer.text)
    assert codes(answer) == [code], (section, what, answer.text)
    assert api.runtime.store.dump() == before  # a refusal changes nothing


def test_an_expired_card_allows_no_further_action(api: Api) -> None:
    # Tom's ACTIVE card may be expired; it then takes no action at all (8087 on changeIdentifier)
    assert api.put("/v2/card", {"cardNumber": "GOLD0000001", "statusLabel": "EXPIRED"}).status_code == 200
    assert codes(api.change(TOM, {"remove": [{**DELINK, "value": "GOLD0000001"}]})) == [8087]
    assert codes(api.change(TOM, _link("GOLD0000001"))) == [8087]


def test_a_series_whose_number_space_is_used_up_answers_702(api: Api) -> None:
    api.runtime.store.seed(
        {
            "series": [
                {
                    "id": 151515,
                    "code": "TINY",
                    "type": "DIGITAL",
                    "cardGenerationEnabled": True,
                    "cardGenerationConfiguration": {"prefix": "T", "length": 2, "offset": 0},
                    "isActive": True,
                }
            ]
        }
    )
    body = {"seriesId": 151515, "count": 1, "statusLabel": "NOT_ISSUED"}
    assert [api.post("/v2/card/generate", body).status_code for _ in range(10)] == [200] * 10
    assert codes(api.post("/v2/card/generate", body)) == [702]


def test_after_a_merge_created_id_is_the_survivor(api: Api) -> None:
    """The legacy sample and recorded live answers (docs/capillary-api.md 10); ``merge_created_id="path"``
    is the other variant."""
    wechat_holder = 564854846  # holds mobile 919876543259 in WECHAT:wechat-con1
    answer = api.change(TOM, {"add": [{"type": "mobile", "value": "919876543259"}]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["createdId"] == wechat_holder
    assert 8051 in codes(answer, "warnings")
    assert api.customer(TOM)["mergedInto"] == wechat_holder


@pytest.mark.parametrize("shape", ["data", "entity"])
def test_generate_answers_in_either_documented_shape(api: Api, shape: str) -> None:
    api.settings(generate_answer=shape)
    body = api.post("/v2/card/generate", {"seriesId": 131313, "count": 2, "statusLabel": "NOT_ISSUED"}).json()
    assert len(body[shape]) == 2 and body["warnings"] == []
    assert ("errors" in body) == (shape == "data")


def test_a_401_may_answer_xml(api: Api) -> None:
    api.settings(auth_error_body="xml")
    answer = api.get(f"/v2/customers/{TOM}", params={"source": "ALL"}, auth=False)
    assert answer.status_code == 401 and answer.headers["content-type"].startswith("application/xml")
    assert "<success>false</success>" in answer.text and "<code>401</code>" in answer.text


def test_profiles_carry_every_documented_field(api: Api) -> None:
    customer = api.get(f"/v2/customers/{TOM}", params={"source": "ALL"}).json()
    (profile,) = customer["profiles"]
    documented = {
        "firstName",
        "lastName",
        "attribution",
        "fields",
        "allFields",
        "identifiers",
        "commChannels",
    }
    documented |= {
        "source",
        "userId",
        "accountId",
        "conflictingProfileList",
        "autoUpdateTime",
        "identifiersAll",
    }
    assert documented <= set(profile), documented - set(profile)
    assert set(profile["attribution"]) == {"createDate", "createdBy", "modifiedBy", "modifiedDate"}
    assert profile["attribution"]["createdBy"]["type"] == "TILL" and profile["userId"] == TOM
    assert {
        "id",
        "profiles",
        "loyaltyInfo",
        "segments",
        "associatedWith",
        "extendedFields",
        "cardDetails",
    } <= set(customer)


def test_an_unseeded_sandbox_has_a_default_label_per_status() -> None:
    app = create_app()
    api = Api("inprocess", app, "http://sandbox")
    labels = api.get("/v2/genericStatus/card/labels").json()["data"]
    assert sorted((x["label"], x["status"], x["default"]) for x in labels) == sorted(
        (s, s, True) for s in DEFAULT_LABELS
    )
    app.runtime.store.seed({"series": [{"id": 1, "code": "S", "type": "DIGITAL", "isActive": True}]})
    added = api.post("/v2/card", {"seriesId": 1, "cardNumber": "C1", "statusLabel": "NOT_ISSUED"})
    assert added.status_code == 200, added.text
