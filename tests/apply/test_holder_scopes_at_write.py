"""The write-time holder check searches every source scope the org has (issue 20, 1).

A plan is reviewed while nobody holds the email; before apply, someone adds it to a customer under an
account of a multi-account source, in an org with no card series (so only the labels carry the org id).
The holder check before the write must find that holder, wherever the scopes come from (the org's sources
API, or ``sources:`` in the config when the key may not read it), and not send: no merge.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from reconciler.apply import STALE
from reconciler.sandbox.server import SandboxServer
from tests.testing import is_write, live_customer, make_workspace
from tests.testing.applying import plan_then_apply
from tests.testing.seed import seed_fixture

A, OTHER = 9601, 9602
EMAIL = "taken-later@example.com"
STATE = f"""customers:
  - id: {A}
    identifiers:
      INSTORE: {{mobile: '919800006001', email: {EMAIL}}}
"""
ALL_SOURCES = (
    "[INSTORE, 'WECHAT:wechat-con1', 'WECHAT:wechat-con2', 'FACEBOOK:fbpage-7', 'FACEBOOK:fbpage-8']"
)


@pytest.mark.parametrize("sources_api", [True, False], ids=["sources-api", "config-sources"])
def test_a_value_taken_in_another_account_after_the_plan_is_not_written(
    tmp_path: Path, sources_api: bool
) -> None:
    with SandboxServer() as server:
        fixture = seed_fixture([live_customer(A, {"mobile": "919800006001"}), live_customer(OTHER, {})])
        fixture["sources"] = [
            *fixture["sources"],
            {"source": "FACEBOOK", "accounts": ["fbpage-7", "fbpage-8"]},
        ]
        server.seed({**fixture, "series": [], "cards": []})
        server.set_settings(org_sources_access=sources_api)
        ws = make_workspace(tmp_path, server, {"a.yaml": STATE})
        if not sources_api:
            with (tmp_path / "reconciler.yaml").open("a", encoding="utf-8") as config:
                config.write(f"sources: {ALL_SOURCES}\n")

        def someone_takes_the_email() -> None:
            body = {"add": [{"type": "email", "value": EMAIL}], "remove": []}
            url = f"{server.url}/v2/customers/{OTHER}/changeIdentifier?source=FACEBOOK&accountId=fbpage-7"
            assert httpx.post(url, json=body, headers=server.basic_auth()).status_code == 200
            server.clear_log()

        plan, result = asyncio.run(plan_then_apply(ws, someone_takes_the_email))
        assert [(a.value, a.risk, a.blocked) for a in plan.actions] == [(EMAIL, "plain", False)]
        (customer,) = result.customers
        assert customer.status == STALE, customer
        assert f"customer {OTHER}" in customer.reason
        assert not result.incidents
        assert [e for e in server.request_log()["requests"] if is_write(e)] == []
        dumped = {c["id"]: c for c in server.dump()["customers"]}
        assert not dumped[A].get("mergedInto") and not dumped[OTHER].get("mergedInto")
