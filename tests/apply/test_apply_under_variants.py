"""Apply against the documented API variants (docs/capillary-api.md 10): a changeIdentifier answered 2xx with
warning 8069 is failed, never applied; a merge reported in ``errors``, in ``warnings`` or only by a
``createdId`` other than the customer written is an incident, listed first, exit 6.

These answers only come when the plan's lookups and apply's holder check saw nobody holding the value, so
the tests hide the holder from them: it sits in a WECHAT account that nothing tells the client of (the key
may not read the org's sources, and ``sources:`` in the config, which the client then trusts, wrongly names
INSTORE alone), and the sandbox requires ``accountId`` on multi-account lookups (its default). The write
itself then meets the holder."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import FAILED, ApplyResult
from reconciler.errors import EXIT_PARTIAL
from reconciler.plan import Plan
from reconciler.sandbox.server import SandboxServer
from tests.testing import Workspace, live_customer, make_workspace
from tests.testing.applying import plan_then_apply
from tests.testing.seed import seed_fixture

A, VICTIM, SURVIVOR, HOLDER = 9401, 9402, 9403, 9404
STATE = """customers:
  - id: 9401
    identifiers:
      INSTORE: {mobile: '919800005001', email: new@example.com}
"""


def _seed(server: SandboxServer, *others: dict[str, Any]) -> None:
    server.reset()
    customers = [live_customer(A, {"mobile": "919800005001"}), live_customer(SURVIVOR, {}), *others]
    server.seed({**seed_fixture(customers), "series": [], "cards": []})
    server.set_settings(org_sources_access=False)  # the org's accounts: only what the config says


def _identifiers(server: SandboxServer, cid: int) -> list[str]:
    customer = next(c for c in server.dump()["customers"] if c["id"] == cid)
    return [i["value"] for p in customer["profiles"] for i in p["identifiers"]]


def test_a_write_answered_2xx_with_warning_8069_is_failed_not_applied(tmp_path: Path) -> None:
    with SandboxServer() as server:
        server.set_settings(holder_codes_on_write="warning")
        victim = live_customer(
            VICTIM, wechat={"wechat-con1": {"email": "new@example.com"}}, mergedInto=SURVIVOR
        )
        _seed(server, victim)
        ws = _workspace(tmp_path, server)
        plan, result = _run(ws)
        assert [a.risk for a in plan.actions] == ["plain"]
        (customer,) = result.customers
        assert customer.status == FAILED and "8069" in customer.reason and "not applied" in customer.reason
        assert result.exit_code == EXIT_PARTIAL and not result.incidents
        assert "new@example.com" not in _identifiers(server, A)


@pytest.mark.parametrize(
    "settings, sign",
    [
        ({"merge_codes": "error", "merge_created_id": "path"}, "code 8051 in errors"),
        ({"merge_codes": "error", "merge_created_id": "survivor"}, "code 8051 in errors"),
        ({"merge_codes": "warning", "merge_created_id": "path"}, "warnings 8051"),
        ({"merge_codes": "warning", "merge_created_id": "survivor"}, f"createdId {HOLDER}"),
    ],
    ids=["error", "error-survivor-id", "warning", "warning-survivor-id"],
)
def test_a_merge_in_any_variant_is_an_incident(tmp_path: Path, settings: dict[str, str], sign: str) -> None:
    with SandboxServer() as server:
        server.set_settings(**settings)
        holder = live_customer(HOLDER, wechat={"wechat-con1": {"email": "new@example.com"}})
        _seed(server, holder)
        ws = _workspace(tmp_path, server)
        _, result = _run(ws)
        assert len(result.incidents) == 1 and "MERGED accounts" in result.incidents[0]
        assert sign in result.incidents[0]
        assert result.exit_code == EXIT_PARTIAL
        victim = next(c for c in server.dump()["customers"] if c["id"] == A)
        assert victim["mergedInto"] == HOLDER  # the sandbox really merged: the incident is true


def _workspace(root: Path, server: SandboxServer) -> Workspace:
    ws = make_workspace(root, server, {"a.yaml": STATE})
    with (root / "reconciler.yaml").open("a", encoding="utf-8") as config:
        config.write("sources: [INSTORE]\n")  # wrong: the org has WECHAT accounts too
    return ws


def _run(ws: Workspace) -> tuple[Plan, ApplyResult]:
    return asyncio.run(plan_then_apply(ws))
