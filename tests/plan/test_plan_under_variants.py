"""The plan's safety under every combination of the sandbox's documented API variants (docs/capillary-api.md
10): victim and campaign holders blocked, a merge blocked, and a holder in ``WECHAT:<account>`` found even
when lookups there require ``accountId``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.server import SandboxServer
from tests.plan.org import declared
from tests.testing import Workspace, live_customer, writes
from tests.testing.variants import ALL, label

A, B, C, VICTIM, SURVIVOR, CAMPAIGN = 9301, 9302, 9303, 9304, 9305, 9306


@pytest.fixture(scope="module")
def shared_server() -> Iterator[SandboxServer]:
    """One server for the module (starting one costs more than a plan); each test sets its variants."""
    with SandboxServer() as server:
        yield server
        server.set_settings(**ALL[0])


@pytest.fixture(params=ALL, ids=label)
def variant_ws(
    request: pytest.FixtureRequest, tmp_path: Path, oauth_env: None, shared_server: SandboxServer
) -> Iterator[Workspace]:
    """A workspace against a sandbox speaking one combination of the variants; the plan must not write."""
    server = shared_server
    server.set_settings(**request.param)  # every variant setting, so nothing carries over from the last test
    workspace = Workspace(tmp_path / "repo", server)
    workspace.seed(
        [
            live_customer(A, {"mobile": "919800004001"}),
            live_customer(B, {"mobile": "919800004002"}),
            live_customer(C, wechat={"wechat-con2": {"email": "c@example.com"}}),
            live_customer(SURVIVOR, {"mobile": "919800004005"}),
            live_customer(VICTIM, {"email": "gone@example.com"}, mergedInto=SURVIVOR),
            live_customer(CAMPAIGN, {"mobile": "919800004006"}, loyaltyType="non_loyalty"),
        ]
    )
    yield workspace
    assert writes(workspace.requests()) == [], "a plan sent a write"


def test_victim_campaign_and_wechat_holders_are_blocked_in_every_variant(variant_ws: Workspace) -> None:
    variant_ws.write_state(
        [
            declared(A, {"mobile": "919800004001", "email": "gone@example.com"}),  # the victim's email
            declared(B, {"mobile": "919800004002", "externalId": "X", "email": "x@example.com"}),
            declared(C, {"mobile": "919800004006"}, wechat={"wechat-con2": {"email": "c@example.com"}}),
        ]
    )
    adds = {(a.customer_id, a.type): a for a in variant_ws.plan().actions if a.kind == "add"}
    victim, campaign = adds[(A, "email")], adds[(C, "mobile")]
    assert (victim.risk, victim.blocked) == ("blocked", True) and "merge victim" in victim.reason
    assert "merged into 0" not in victim.reason
    assert (campaign.risk, campaign.blocked) == ("blocked", True) and "campaign account" in campaign.reason
    assert not adds[(B, "email")].blocked and not adds[(B, "externalId")].blocked  # nobody holds those
    # A holder in WECHAT:<account> is found (with accountId when lookups require it): the merge is blocked.
    variant_ws.write_state([declared(A, {"mobile": "919800004001", "email": "c@example.com"})])
    (add,) = variant_ws.plan().actions
    assert (add.risk, add.blocked, add.holder) == ("merge", True, C)
    assert "WECHAT:wechat-con2" in add.reason


@pytest.mark.parametrize("victim_reads", ["error", "survivor"])
def test_a_declared_victim_is_never_planned_through_its_survivors_record(
    tmp_path: Path, oauth_env: None, shared_server: SandboxServer, victim_reads: str
) -> None:
    """An org may answer a merged-away customer's read with its survivor: that answer never stands for the
    victim (a plan would otherwise change the survivor's identifiers through the victim's id)."""
    shared_server.set_settings(**ALL[0], victim_reads=victim_reads)
    ws = Workspace(tmp_path / "repo", shared_server)
    ws.seed(
        [
            live_customer(SURVIVOR, {"mobile": "919800004005", "email": "s@example.com"}),
            live_customer(VICTIM, {"email": "gone@example.com"}, mergedInto=SURVIVOR),
        ]
    )
    ws.write_state([declared(VICTIM, {"email": "gone@example.com"})])
    plan = ws.plan()
    assert plan.blocked, [a.reason for a in plan.actions]
    assert not [a for a in plan.actions if a.kind == "remove"]  # nothing of the survivor's is touched
    assert writes(ws.requests()) == []
