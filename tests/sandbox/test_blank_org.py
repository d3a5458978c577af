"""An unseeded sandbox org answers its org-level endpoints as a real org set up by default does (issue 29, 2):
its default sources, every source a customer is registered in, a default label per card status, no card
series, and one org id throughout. A plan against it with registered customers plans plain adds."""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.plan import Risk
from reconciler.sandbox import create_app
from reconciler.sandbox.server import SandboxServer
from reconciler.sandbox.store import DEFAULT_SOURCES
from tests.testing import Api, Workspace, codes

SOURCES = "/v2/org/50672/sources"


def _blank() -> Api:
    return Api("inprocess", create_app(), "http://sandbox")


def _register(api: Api, source: str, *identifiers: dict[str, str], account: str = "") -> int:
    profile: dict[str, Any] = {"source": source, "firstName": "Ann", "identifiers": list(identifiers)}
    if account:
        profile["accountId"] = account
    answer = api.post("/v2/customers", {"profiles": [profile]})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["createdId"])


def _listed(api: Api) -> list[tuple[str, str]]:
    answer = api.get(SOURCES, params={"details": "true"})
    assert answer.status_code == 200, answer.text
    return [(x["sourceTypeName"], x["sourceAccountIdentifier"]) for x in answer.json()["data"]]


def test_an_unseeded_org_lists_its_default_sources() -> None:
    api = _blank()
    assert _listed(api) == list(DEFAULT_SOURCES) == [("INSTORE", "")]
    meta = api.get("/v2/meta/sources").json()["data"]
    assert [(x["id"], x["name"]) for x in meta] == [(5, "INSTORE")]


def test_every_source_a_customer_is_registered_in_is_listed() -> None:
    api = _blank()
    _register(api, "MARTJACK", {"type": "email", "value": "ann@example.com"})
    wechat = _register(api, "WECHAT", {"type": "wechat", "value": "oWx1"}, account="wx-brand")
    assert _listed(api) == [("INSTORE", ""), ("MARTJACK", ""), ("WECHAT", "wx-brand")]
    meta = api.get("/v2/meta/sources").json()["data"]
    assert [x["name"] for x in meta] == ["INSTORE", "MARTJACK", "WECHAT"]
    # the account listed is an account the org has: writes and lookups in it are not refused with 8011
    mobile = {"add": [{"type": "mobile", "value": "919800000009"}]}
    added = api.change(wechat, mobile, "WECHAT", "wx-brand")
    assert added.status_code == 200, added.text
    query = {"source": "WECHAT", "accountId": "wx-brand", "identifierName": "wechat"}
    query["identifierValue"] = "oWx1"
    assert api.get("/v2/customers/lookup/customerDetails", params=query).json()["id"] == wechat
    query["accountId"] = "wx-other"  # an account nobody has is still not the org's
    assert codes(api.get("/v2/customers/lookup/customerDetails", params=query)) == [8011]


def test_a_seeds_sources_replace_the_defaults_and_a_reset_restores_them() -> None:
    api = _blank()
    api.runtime.store.seed({"sources": [{"source": "WECHAT", "accounts": ["wx-a"]}]})
    assert _listed(api) == [("WECHAT", "wx-a")]
    api.runtime.store.reset()
    assert _listed(api) == [("INSTORE", "")]


def test_the_demo_org_lists_exactly_its_seeded_sources(api: Api) -> None:
    assert _listed(api) == [("INSTORE", ""), ("WECHAT", "wechat-con1"), ("WECHAT", "wechat-con2")]


def test_an_unseeded_orgs_other_org_answers_are_a_real_orgs() -> None:
    """Labels: one default per status (an org always has them). Series: none (an org without a card
    programme has none, and answers an empty list). The org id of the labels is the sources' org."""
    api = _blank()
    labels = api.get("/v2/genericStatus/card/labels").json()["data"]
    assert {x["status"] for x in labels if x["default"]} == {x["status"] for x in labels} and len(labels) == 6
    assert api.get("/v2/card/series/get/all").json() == {"data": [], "warnings": [], "errors": []}
    org = {x["orgId"] for x in labels}
    assert org == {50672} and api.get(f"/v2/org/{org.pop()}/sources").status_code == 200
    assert codes(api.get("/v2/card/series/1")) == [3004]


def test_a_plan_against_a_blank_sandbox_plans_plain_adds(ws: Workspace, server: SandboxServer) -> None:
    """The issue's reproduction: customers registered in INSTORE and MARTJACK on an unseeded sandbox on
    loopback, each declared with one more identifier: two plain adds, none blocked."""
    headers = server.basic_auth()

    def register(source: str, kind: str, value: str) -> int:
        body = {"profiles": [{"source": source, "identifiers": [{"type": kind, "value": value}]}]}
        answer = httpx.post(f"{server.url}/v2/customers", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["createdId"])

    instore = register("INSTORE", "mobile", "919800000001")
    martjack = register("MARTJACK", "email", "m@example.com")
    server.clear_log()  # the registrations are the test's writes, not the plan's
    ws.write_state(
        [
            {"id": instore, "identifiers": {"INSTORE": {"mobile": "919800000001", "email": "i@example.com"}}},
            {"id": martjack, "identifiers": {"MARTJACK": {"email": "m@example.com", "mobile": "9198000002"}}},
        ]
    )
    plan = ws.plan()
    assert not plan.blocked, [a.reason for a in plan.actions if a.blocked]
    assert sorted((a.customer_id, a.kind, a.risk) for a in plan.actions) == [
        (instore, "add", Risk.PLAIN),
        (martjack, "add", Risk.PLAIN),
    ]
