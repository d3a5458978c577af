"""Customer reads, lookups, bulk reads and registration, over loopback and in-process."""

from __future__ import annotations

from tests.testing import Api, codes

TOM, HUCK, VICTIM, CAMPAIGN, SUSPENDED, POLLY = (
    564854782,
    564854783,
    564855017,
    564855001,
    564855024,
    564854801,
)


def test_get_customer_has_profiles_identifiers_and_cards(api: Api) -> None:
    body = api.get(f"/v2/customers/{TOM}?source=ALL").json()
    assert body["id"] == TOM and body["warnings"] == []
    profile = body["profiles"][0]
    assert (profile["source"], profile["accountId"], profile["userId"]) == ("INSTORE", "", TOM)
    assert {"type": "mobile", "value": "919876543210"} in profile["identifiers"]
    assert {c["cardNumber"] for c in body["cardDetails"]} == {"GOLD0000001", "DIGI00000001"}
    assert body["loyaltyInfo"]["loyaltyType"] == "loyalty"
    assert "customerStatus" not in body


def test_source_filter_and_account(api: Api) -> None:
    body = api.get(f"/v2/customers/{HUCK}?source=WECHAT&accountId=wechat-con1").json()
    assert [(p["source"], p["accountId"]) for p in body["profiles"]] == [("WECHAT", "wechat-con1")]
    assert codes(api.get(f"/v2/customers/{HUCK}?source=WECHAT")) == [8045]
    assert codes(api.get(f"/v2/customers/{HUCK}?source=WECHAT&accountId=nope")) == [8011]
    assert codes(api.get(f"/v2/customers/{HUCK}?source=MYSPACE")) == [8012]


def test_unknown_customer_is_8015_with_business_status(api: Api) -> None:
    response = api.get("/v2/customers/999999999?source=ALL")
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"status": False, "code": 8015, "message": "Customer not found for the given identifiers"}
        ],
        "warnings": [],
    }
    api.settings(business_error_status=404)
    assert api.get("/v2/customers/abc?source=ALL").status_code == 404


def test_victim_reads_follow_the_setting(api: Api) -> None:
    response = api.get(f"/v2/customers/{VICTIM}?source=ALL")
    assert codes(response) == [8069] and str(HUCK) in response.json()["errors"][0]["message"]
    api.settings(victim_reads="survivor")
    body = api.get(f"/v2/customers/{VICTIM}?source=ALL").json()
    assert body["id"] == HUCK and codes_of(body["warnings"]) == [91009]


def codes_of(items: list[dict[str, object]]) -> list[object]:
    return [i["code"] for i in items]


def test_customer_status_and_campaign_shown(api: Api) -> None:
    assert api.get(f"/v2/customers/{SUSPENDED}", params={"source": "ALL"}).json()["customerStatus"] == {
        "label": "FRAUD_HOLD",
        "status": "SUSPENDED",
    }
    assert (
        api.get(f"/v2/customers/{CAMPAIGN}", params={"source": "ALL"}).json()["loyaltyInfo"]["loyaltyType"]
        == "non_loyalty"
    )


def test_lookup_and_customer_details(api: Api) -> None:
    q = "source=INSTORE&identifierName=mobile&identifierValue=919876543210"
    assert api.get(f"/v2/customers/lookup?{q}").json() == {"entity": TOM, "warnings": []}
    assert api.get(f"/v2/customers/lookup/customerDetails?{q}").json()["id"] == TOM
    by_card = api.get(
        "/v2/customers/lookup/customerDetails?source=ALL&identifierName=cardnumber&identifierValue=DIGI00000003"
    )
    assert by_card.json()["id"] == POLLY
    wechat = f"identifierName=wechat&identifierValue=oWx{HUCK:x}c1"
    assert (
        api.get(f"/v2/customers/lookup?source=WECHAT&accountId=wechat-con1&{wechat}").json()["entity"] == HUCK
    )
    # accountId required (the default): a multi-account source without it is 8045 (get-customer-id's code),
    # and source=ALL does not search multi-account profiles; optional: both find the holder.
    assert codes(api.get(f"/v2/customers/lookup?source=WECHAT&{wechat}")) == [8045]  # customerDetails: 8015
    assert codes(api.get(f"/v2/customers/lookup?source=ALL&{wechat}")) == [8015]
    api.settings(lookup_account_id="optional")
    assert api.get(f"/v2/customers/lookup?source=WECHAT&{wechat}").json()["entity"] == HUCK
    assert api.get(f"/v2/customers/lookup?source=ALL&{wechat}").json()["entity"] == HUCK


def test_lookup_misses_and_victims(api: Api) -> None:
    nobody = api.get(
        "/v2/customers/lookup/customerDetails?source=ALL&identifierName=mobile&identifierValue=910000000000"
    )
    assert codes(nobody) == [8015]
    victim_q = (
        "/v2/customers/lookup/customerDetails?source=ALL&identifierName=mobile&identifierValue=919812300017"
    )
    campaign_q = victim_q.replace("919812300017", "919812300001")
    victim, campaign = api.get(victim_q), api.get(campaign_q)  # warnings of a 2xx answer (the default)
    assert victim.json()["id"] == VICTIM and codes(victim, "warnings") == [8069]
    assert campaign.json()["id"] == CAMPAIGN and codes(campaign, "warnings") == [8068]
    api.settings(victim_reads="survivor")
    survivor = api.get(victim_q).json()
    assert survivor["id"] == HUCK and [w["code"] for w in survivor["warnings"]] == [91009, 8069]
    api.settings(holder_codes_on_lookup="error")
    assert api.get(victim_q).json()["id"] == HUCK  # as errors: 91009 reads answer with the survivor
    api.settings(victim_reads="error")
    assert codes(api.get(victim_q)) == [8069] and codes(api.get(campaign_q)) == [8068]
    assert api.get(victim_q).status_code == api.get(campaign_q).status_code == 400
    assert codes(api.get("/v2/customers/lookup?source=ALL&identifierValue=x")) == [8092]
    assert codes(api.get("/v2/customers/lookup?source=ALL&identifierName=mobile")) == [8093]
    unlinked = "source=ALL&identifierName=cardnumber&identifierValue=GOLD0000010"
    assert codes(api.get(f"/v2/customers/lookup?{unlinked}")) == [8015]


def test_bulk_get_customers(api: Api) -> None:
    body = api.post("/v2/bulk/getCustomers?source=ALL", [TOM, 999999999, VICTIM]).json()
    assert [d["success"] for d in body["data"]] == [True, False, False]
    assert body["data"][0]["entity"]["id"] == TOM
    assert [d["errors"][0]["code"] for d in body["data"][1:]] == [8015, 8069]
    api.settings(bulk_get_max=2)
    assert codes(api.post("/v2/bulk/getCustomers?source=ALL", [TOM, HUCK, POLLY])) == [1060]


def test_register_new_duplicate_and_combine(api: Api) -> None:
    new = {
        "profiles": [
            {
                "source": "INSTORE",
                "firstName": "Ada",
                "identifiers": [{"type": "mobile", "value": "919000000001"}],
            }
        ]
    }
    created = api.post("/v2/customers", new).json()
    assert created["warnings"] == [] and api.customer(created["createdId"])["firstName"] == "Ada"
    assert codes(api.post("/v2/customers", new)) == [8006]
    wechat = {
        "profiles": [
            {
                "source": "WECHAT",
                "accountId": "wechat-con2",
                "identifiers": [{"type": "mobile", "value": "919000000001"}],
            }
        ]
    }
    combined = api.post("/v2/customers", wechat).json()
    assert combined["createdId"] == created["createdId"] and codes_of(combined["warnings"]) == [8050]
    bad = {"profiles": [{"source": "MYSPACE", "identifiers": []}]}
    assert codes(api.post("/v2/customers", bad)) == [3217]
