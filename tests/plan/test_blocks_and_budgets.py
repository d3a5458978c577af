"""What a plan blocks and what it leaves alone: a value held by a victim or campaign account, unknown,
victim and suspended customers (each with its reason), a removal budget exceeded (named), ``--force``
passing budgets but never a merge, and unmanaged types, undeclared profiles and customers untouched."""

from __future__ import annotations

import pytest

from reconciler.errors import EXIT_BLOCKED, EXIT_OK
from tests.plan.org import declared, summary
from tests.testing import Workspace, live_customer

A, B, VICTIM, SURVIVOR, CAMPAIGN, SUSPENDED, UNKNOWN = 9201, 9202, 9203, 9204, 9205, 9206, 9299


def _seed(ws: Workspace) -> None:
    ws.seed(
        [
            live_customer(A, {"mobile": "919800002001"}),
            live_customer(B, {"mobile": "919800002002"}),
            live_customer(SURVIVOR, {"mobile": "919800002004"}),
            live_customer(
                VICTIM, {"mobile": "919800002003", "email": "old@example.com"}, mergedInto=SURVIVOR
            ),
            live_customer(CAMPAIGN, {"mobile": "919800002005"}, loyaltyType="non_loyalty"),
            live_customer(
                SUSPENDED, {"mobile": "919800002006"}, status="SUSPENDED", statusLabel="FRAUD_HOLD"
            ),
        ]
    )


def test_identifier_held_by_a_victim_or_a_campaign_account_is_blocked(ws: Workspace) -> None:
    _seed(ws)
    ws.write_state(
        [
            declared(A, {"mobile": "919800002001", "email": "old@example.com"}),  # the victim's email
            declared(B, {"mobile": "919800002005"}),  # the campaign account's mobile
        ]
    )
    plan = ws.plan()
    adds = {a.customer_id: a for a in plan.actions if a.kind == "add"}
    assert (adds[A].risk, adds[A].blocked) == ("blocked", True)
    assert "merge victim" in adds[A].reason
    assert (adds[B].risk, adds[B].blocked, adds[B].holder) == ("blocked", True, CAMPAIGN)
    assert "campaign account" in adds[B].reason
    result = ws.plan_cli()
    assert result.exit_code == EXIT_BLOCKED and "campaign account" in result.stdout


def test_unknown_victim_and_suspended_customers_are_blocked_with_the_reason(ws: Workspace) -> None:
    _seed(ws)
    ws.write_state(
        [
            declared(UNKNOWN, {"mobile": "919800002099"}),
            declared(VICTIM, {"mobile": "919800002098"}),
            declared(SUSPENDED, {"mobile": "919800002097"}),
        ]
    )
    plan = ws.plan()
    errors = {c.id: c.error for c in plan.customers}
    assert "8015" in errors[UNKNOWN]
    assert "8069" in errors[VICTIM]
    assert "SUSPENDED" in errors[SUSPENDED]
    assert all(a.blocked and a.risk == "blocked" for a in plan.actions)
    assert {a.customer_id for a in plan.actions} == {UNKNOWN, VICTIM, SUSPENDED}
    assert plan.calls == () or all(c.customer_id not in errors for c in plan.calls)
    result = ws.plan_cli()
    assert result.exit_code == EXIT_BLOCKED
    assert "not found (8015)" in result.stdout and "merge victim (8069)" in result.stdout


def _budget_state(ws: Workspace) -> None:
    ws.configure(safety={"max_removals": 2, "max_removal_ratio": 0.9})
    ws.seed([live_customer(A, {"mobile": "919800002001", "email": "a@example.com", "externalId": "EA"})])
    ws.write_state([declared(A, {})])  # INSTORE declared empty: all three managed identifiers removed


def test_removal_budget_exceeded_is_blocked_with_the_budget_named(ws: Workspace) -> None:
    _budget_state(ws)
    plan = ws.plan()
    assert [a.kind for a in plan.actions] == ["remove"] * 3
    assert not any(a.blocked for a in plan.actions) and plan.blocked
    exceeded = [b for b in plan.budgets if b.exceeded]
    assert [(b.name, b.limit, b.actual, b.forced) for b in exceeded] == [("safety.max_removals", 2, 3, False)]
    result = ws.plan_cli()
    assert result.exit_code == EXIT_BLOCKED
    assert "safety.max_removals: 3 of at most 2, exceeded" in result.stdout


@pytest.mark.slow
def test_force_lets_budgets_pass_but_never_merges(ws: Workspace) -> None:
    _budget_state(ws)
    forced = ws.plan(force=True)
    assert not forced.blocked and [b.forced for b in forced.budgets if b.exceeded] == [True]
    result = ws.plan_cli("--force")
    assert result.exit_code == EXIT_OK and "overridden by --force" in result.stdout
    ws.seed(
        [
            live_customer(A, {"mobile": "919800002001", "email": "a@example.com", "externalId": "EA"}),
            live_customer(B, wechat={"wechat-con1": {"email": "b@example.com"}}),
        ]
    )
    ws.write_state([declared(A, {"email": "b@example.com"})])
    assert ws.plan_cli("--force").exit_code == EXIT_BLOCKED
    assert ws.plan(force=True).actions[-1].risk == "merge"


@pytest.mark.slow
def test_unmanaged_types_undeclared_profiles_and_customers_are_untouched(ws: Workspace) -> None:
    ws.seed(
        [
            live_customer(
                A,
                {"mobile": "919800002001", "cuid": "CU-1"},  # cuid: not a managed type
                wechat={"wechat-con1": {"wechat": "oA"}, "wechat-con2": {"wechat": "oA2"}},
            ),
            live_customer(B, {"mobile": "919800002002", "email": "b@example.com"}),  # undeclared customer
        ]
    )
    ws.write_state([declared(A, {"mobile": "919800002001"}, wechat={"wechat-con1": {"wechat": "oA"}})])
    plan = ws.plan()
    assert plan.actions == () and plan.customers_in_scope == 1
    assert ws.plan_cli("--detailed-exitcode").exit_code == EXIT_OK
    ws.write_state([declared(A, {"mobile": "919800002011"})])
    assert summary(ws.plan()) == [
        (A, "remove", "mobile", "919800002001", "plain", False),
        (A, "add", "mobile", "919800002011", "plain", False),
    ]
