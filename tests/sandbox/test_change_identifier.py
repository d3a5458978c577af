"""changeIdentifier: adds, removes, scopes, errors and warnings, the merge in full, card link and delink."""

from __future__ import annotations

import pytest

from tests.testing import Api, codes

TOM, HUCK, BECKY, VICTIM, CAMPAIGN, POLLY, JOE = (
    564854782,
    564854783,
    564854790,
    564855017,
    564855001,
    564854801,
    564854815,
)


def _add(itype: str, value: str) -> dict[str, list[dict[str, str]]]:
    return {"add": [{"type": itype, "value": value}]}


def test_add_and_remove_in_one_call(api: Api) -> None:
    body = {
        "add": [{"type": "mobile", "value": "919111111111"}],
        "remove": [{"type": "mobile", "value": "919876543210"}],
    }
    response = api.change(TOM, body)
    assert response.json() == {"createdId": TOM, "warnings": []}
    instore = api.customer(TOM)["profiles"][0]["identifiers"]
    assert {"type": "mobile", "value": "919111111111"} in instore
    assert {"type": "mobile", "value": "919876543210"} not in instore


def test_seed_example_request_adds_facebook(api: Api) -> None:
    assert api.change(TOM, {"add": [{"type": "facebook", "value": "FB11"}]}).json() == {
        "createdId": TOM,
        "warnings": [],
    }


@pytest.mark.parametrize(
    ("itype", "value", "code"),
    [
        ("mobile", "919876543210", 8071),
        ("email", "tom.sawyer@example.com", 8072),
        ("externalId", "EXT564854782", 8073),
    ],
    ids=["mobile", "email", "externalId"],
)
def test_already_held_is_a_warning(api: Api, itype: str, value: str, code: int) -> None:
    response = api.change(TOM, _add(itype, value))
    assert response.status_code == 200 and codes(response, "warnings") == [code]


def test_same_scope_holder_is_refused(api: Api) -> None:
    assert codes(api.change(TOM, _add("mobile", "919876543217"))) == [8007]  # Huck's INSTORE mobile
    wechat = _add("wechat", f"oWx{HUCK:x}c1")
    assert codes(api.change(POLLY, wechat, "WECHAT", "wechat-con1")) == [8008]
    assert api.customer(TOM)["profiles"][0]["identifiers"][1]["value"] != "919876543217"


@pytest.mark.parametrize(
    ("body", "code"),
    [(_add("mobile", "12ab"), 8056), (_add("email", "not-an-email"), 8055), ({"add": []}, 8070), ([], 8070)],
    ids=["mobile", "email", "empty", "not-object"],
)
def test_bad_values(api: Api, body: object, code: int) -> None:
    assert codes(api.change(TOM, body)) == [code]


def test_unknown_customer_and_source(api: Api) -> None:
    assert codes(api.change(999999999, _add("mobile", "919111111111"))) == [8015]
    assert codes(api.change(TOM, _add("mobile", "919111111111"), "MYSPACE")) == [8003]
    assert codes(api.change(TOM, _add("wechat", "w"), "WECHAT")) == [8045]
    assert codes(api.change(VICTIM, _add("mobile", "919111111111"))) == [8069]


def test_merge_in_full(api: Api) -> None:
    # Joe (INSTORE, card GOLD0000004) adds Huck's INSTORE email on WECHAT: Joe is the victim, Huck survives.
    response = api.change(JOE, _add("email", "huckleberry.finn@example.com"), "WECHAT", "wechat-con1")
    assert response.status_code == 200
    body = response.json()
    assert body["createdId"] == HUCK  # the survivor, as documented (merge_created_id="path": JOE)
    assert body["warnings"] == [
        {
            "status": False,  # as documented (docs/capillary-api.md section 10)
            "code": 8051,
            "message": f"Same Customer found in other sources, Merging with userId {HUCK}",
        }
    ]
    huck = api.get(f"/v2/customers/{HUCK}?source=ALL").json()
    assert {c["cardNumber"] for c in huck["cardDetails"]} == {"GOLD0000002", "GOLD0000004"}
    instore = next(p for p in huck["profiles"] if p["source"] == "INSTORE")
    assert {"type": "mobile", "value": "919876543217"} in instore["identifiers"]  # the survivor's value wins
    assert {"type": "mobile", "value": "919876543238"} not in instore["identifiers"]
    assert api.customer(JOE)["mergedInto"] == HUCK
    assert codes(api.get(f"/v2/customers/{JOE}?source=ALL")) == [8069]
    assert api.get("/v2/card?number=GOLD0000004").json()["customerId"] == HUCK


def test_merge_is_atomic(api: Api) -> None:
    before = api.runtime.store.dump()
    body = {
        "add": [
            {"type": "email", "value": "huckleberry.finn@example.com"},
            {"type": "mobile", "value": "bad"},
        ]
    }
    assert codes(api.change(JOE, body, "WECHAT", "wechat-con1")) == [8056]
    assert api.runtime.store.dump() == before


def test_merge_created_id_setting(api: Api) -> None:
    api.settings(merge_created_id="survivor")
    assert (
        api.change(JOE, _add("email", "huckleberry.finn@example.com"), "WECHAT", "wechat-con1").json()[
            "createdId"
        ]
        == HUCK
    )


def test_two_different_survivors_refused(api: Api) -> None:
    body = {
        "add": [
            {"type": "email", "value": "huckleberry.finn@example.com"},
            {"type": "email", "value": "becky.thatcher@example.com"},
        ]
    }
    assert codes(api.change(POLLY, body, "WECHAT", "wechat-con1")) == [8053]


def test_victim_and_campaign_holders_blocked_unless_reuse(api: Api) -> None:
    assert codes(api.change(TOM, _add("mobile", "919812300017"))) == [8069]
    assert codes(api.change(TOM, _add("mobile", "919812300001"))) == [8068]
    api.settings(identifier_reuse=True)
    assert api.change(TOM, _add("mobile", "919812300001")).status_code == 200
    campaign = api.customer(CAMPAIGN)["profiles"][0]["identifiers"]
    assert {"type": "mobile", "value": "919812300001"} not in campaign


def test_victim_and_campaign_holders_as_write_warnings_change_nothing(api: Api) -> None:
    api.settings(holder_codes_on_write="warning")
    before = api.customer(TOM)
    body = {"add": [{"type": "mobile", "value": "919812300017"}]}
    refused = api.change(TOM, {**body, "remove": [{"type": "externalId", "value": f"EXT{TOM}"}]})
    assert refused.status_code == 200 and codes(refused, "warnings") == [8069]
    assert refused.json()["createdId"] == TOM
    assert codes(api.change(TOM, _add("email", "campaign.lead@example.com")), "warnings") == [8068]
    assert api.customer(TOM) == before  # the remove in the same call was rolled back too


def test_merge_codes_as_errors_and_created_id_of_the_survivor(api: Api) -> None:
    api.settings(merge_codes="error", merge_created_id="survivor")
    response = api.change(JOE, _add("email", "huckleberry.finn@example.com"), "WECHAT", "wechat-con1")
    assert response.status_code == 400 and codes(response) == [8051]
    assert response.json()["createdId"] == HUCK
    assert api.customer(JOE)["mergedInto"] == HUCK  # the merge happened all the same


def test_card_link_and_delink(api: Api) -> None:
    link = {
        "add": [
            {"type": "cardnumber", "value": "DIGI00000004", "seriesCode": "DIGI01", "statusLabel": "ACTIVE"}
        ]
    }
    assert api.change(TOM, link).json() == {"createdId": TOM, "warnings": []}
    card = api.get("/v2/card?number=DIGI00000004").json()
    assert card["customerId"] == TOM and card["statusInfo"]["status"] == "ACTIVE" and card["issuedDate"]
    assert codes(api.change(TOM, link), "warnings") == [3039]
    delink = {"remove": [{"type": "cardnumber", "value": "DIGI00000004", "statusLabel": "NOT_ISSUED"}]}
    assert api.change(TOM, delink).status_code == 200
    assert api.get("/v2/card?number=DIGI00000004").json()["customerId"] == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"add": [{"type": "cardnumber", "value": "NOPE1", "statusLabel": "ACTIVE"}]}, 3010),
        (
            {
                "add": [
                    {"type": "cardnumber", "value": "GOLD0000008"},
                    {"type": "cardnumber", "value": "GOLD0000009"},
                ]
            },
            3037,
        ),
        ({"add": [{"type": "cardnumber", "value": "GOLD0000008", "statusLabel": "ACTIVE"}]}, 3036),
        ({"add": [{"type": "cardnumber", "value": "GOLD0000003", "statusLabel": "ACTIVE"}]}, 3027),
        ({"add": [{"type": "cardnumber", "value": "GOLD0000008", "seriesId": 999}]}, 3004),
        ({"add": [{"type": "cardnumber", "value": "GOLD0000008", "statusLabel": "WHAT"}]}, 3017),
        ({"add": [{"type": "cardnumber", "value": "GOLD0000099", "statusLabel": "ACTIVE"}]}, 8087),
        ({"remove": [{"type": "cardnumber", "value": "GOLD0000001", "statusLabel": "ACTIVE"}]}, 3018),
        ({"remove": [{"type": "cardnumber", "value": "GOLD0000003", "statusLabel": "NOT_ISSUED"}]}, 3031),
    ],
    ids=[
        "missing",
        "two-cards",
        "series-limit",
        "linked-elsewhere",
        "no-series",
        "bad-label",
        "expired",
        "delink-label",
        "not-his",
    ],
)
def test_card_errors(api: Api, body: dict[str, object], code: int) -> None:
    assert codes(api.change(TOM, body)) == [code]


def test_org_card_limit(api: Api) -> None:
    api.runtime.store.seed({"org": {"id": 50672, "name": "x", "settings": {"maxActiveCardsPerOrg": 2}}})
    link = {"add": [{"type": "cardnumber", "value": "DIGI00000005", "statusLabel": "ACTIVE"}]}
    assert codes(api.change(TOM, link)) == [3039]
