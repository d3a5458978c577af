"""Identifier changes planned against a seeded sandbox: a change as one call, no changes exits 0, a move
between declared customers releases first, a value kept by another customer in its scope is a conflict,
one held in another source is a blocked merge, and a merge both customers allow is planned."""

from __future__ import annotations

import pytest

from reconciler.errors import EXIT_BLOCKED, EXIT_CHANGES, EXIT_OK
from reconciler.plan import CHANGE_IDENTIFIER
from tests.plan.org import declared, plan_json, summary
from tests.testing import Workspace, live_customer

A, B, C, D = 9001, 9002, 9003, 9004


@pytest.mark.slow
def test_mobile_change_is_one_call_with_an_add_and_a_remove(ws: Workspace) -> None:
    ws.seed(
        [
            live_customer(A, {"mobile": "919800000001", "email": "a.old@example.com"}),
            live_customer(B, {"mobile": "919800000002", "email": "b@example.com"}),
            live_customer(C, {"mobile": "919800000003"}),
            live_customer(D, {"mobile": "919800000004", "email": "d@example.com"}),
        ]
    )
    ws.write_state(
        [
            declared(A, {"mobile": "919800000011", "email": "a.new@example.com"}),
            declared(B, {"mobile": "919800000002"}),  # email removed
            declared(C, {"mobile": "919800000003", "email": "c@example.com"}),  # email added
            declared(D, {"mobile": "919800000004", "email": "d@example.com"}),  # unchanged
        ]
    )
    plan = ws.plan()
    assert summary(plan) == [
        (A, "remove", "email", "a.old@example.com", "plain", False),
        (A, "remove", "mobile", "919800000001", "plain", False),
        (A, "add", "email", "a.new@example.com", "plain", False),
        (A, "add", "mobile", "919800000011", "plain", False),
        (B, "remove", "email", "b@example.com", "plain", False),
        (C, "add", "email", "c@example.com", "plain", False),
    ]
    calls = {c.customer_id: c for c in plan.calls}
    assert len(plan.calls) == 3 and D not in calls
    a_call = calls[A]
    assert a_call.op == CHANGE_IDENTIFIER and a_call.query == (("source", "INSTORE"),)
    assert a_call.body() == {
        "add": [{"type": "email", "value": "a.new@example.com"}, {"type": "mobile", "value": "919800000011"}],
        "remove": [
            {"type": "email", "value": "a.old@example.com"},
            {"type": "mobile", "value": "919800000001"},
        ],
    }
    assert [c.id for c in plan.customers] == [A, B, C]
    assert ws.plan_cli().exit_code == EXIT_OK
    assert ws.plan_cli("--detailed-exitcode").exit_code == EXIT_CHANGES


def test_no_changes_exits_zero_even_with_detailed_exitcode(ws: Workspace) -> None:
    ws.seed([live_customer(A, {"mobile": "919800000001"})])
    ws.write_state([declared(A, {"mobile": "919800000001"})])
    result = ws.plan_cli("--detailed-exitcode", "--format", "json")
    assert result.exit_code == EXIT_OK, result.output
    data = plan_json(result)
    assert data["actions"] == [] and data["calls"] == [] and data["summary"]["customers_in_scope"] == 1


def test_identifier_moving_between_declared_customers_releases_first(ws: Workspace) -> None:
    ws.seed(
        [
            live_customer(A, {"mobile": "919800000001", "email": "shared@example.com"}),
            live_customer(B, {"mobile": "919800000002"}),
        ]
    )
    ws.write_state(
        [
            declared(A, {"mobile": "919800000001"}),
            declared(B, {"mobile": "919800000002", "email": "shared@example.com"}),
        ]
    )
    plan = ws.plan()
    release, take = plan.actions
    assert (release.customer_id, release.kind, release.releases_to) == (A, "remove", B)
    assert (take.customer_id, take.kind, take.risk, take.holder) == (B, "add", "move", A)
    assert take.depends_on == (release.id,) and not plan.blocked
    first, second = plan.calls
    assert (first.customer_id, second.customer_id) == (A, B)
    assert second.after == (first.id,)
    assert ws.plan_cli().exit_code == EXIT_OK


def test_identifier_kept_by_another_customer_in_the_same_scope_is_a_conflict(ws: Workspace) -> None:
    ws.seed(
        [
            live_customer(A, {"mobile": "919800000001"}),
            live_customer(B, {"email": "taken@example.com"}, wechat={"wechat-con1": {"wechat": "oB"}}),
        ]
    )
    # B is declared, but only its WECHAT profile: its INSTORE email is not owned, so B keeps it.
    ws.write_state(
        [
            declared(A, {"mobile": "919800000001", "email": "taken@example.com"}),
            declared(B, wechat={"wechat-con1": {"wechat": "oB"}}),
        ]
    )
    plan = ws.plan()
    assert summary(plan) == [(A, "add", "email", "taken@example.com", "conflict", True)]
    assert plan.actions[0].holder == B and "8007" in plan.actions[0].reason
    result = ws.plan_cli()
    assert result.exit_code == EXIT_BLOCKED
    assert "conflict" in result.stdout and "BLOCKED" in result.stdout


@pytest.mark.slow
def test_conflict_with_an_undeclared_holder_in_the_same_scope(ws: Workspace) -> None:
    ws.seed([live_customer(A, {"mobile": "919800000001"}), live_customer(B, {"mobile": "919800000002"})])
    ws.write_state([declared(A, {"mobile": "919800000002"})])
    plan = ws.plan()
    assert [(a.kind, a.risk, a.blocked, a.holder) for a in plan.actions] == [
        ("remove", "plain", False, None),
        ("add", "conflict", True, B),
    ]
    assert ws.plan_cli().exit_code == EXIT_BLOCKED


def _merge_seed(ws: Workspace) -> None:
    ws.seed(
        [
            live_customer(A, {"mobile": "919800000001"}),
            live_customer(B, wechat={"wechat-con1": {"mobile": "919800000099", "wechat": "oB1"}}),
        ]
    )


@pytest.mark.slow
def test_identifier_held_in_another_source_by_an_undeclared_customer_is_a_blocked_merge(
    ws: Workspace,
) -> None:
    _merge_seed(ws)
    ws.write_state([declared(A, {"mobile": "919800000099"})])
    plan = ws.plan()
    add = next(a for a in plan.actions if a.kind == "add")
    assert (add.risk, add.blocked, add.holder) == ("merge", True, B)
    assert "allow.merge_with" in add.reason and "WECHAT:wechat-con1" in add.reason
    result = ws.plan_cli()
    assert result.exit_code == EXIT_BLOCKED and "merge, BLOCKED" in result.stdout


@pytest.mark.slow
def test_merge_allowed_when_both_customers_list_each_other(ws: Workspace) -> None:
    _merge_seed(ws)
    ws.write_state(
        [
            declared(A, {"mobile": "919800000099"}, merge_with=[B]),
            declared(B, wechat={"wechat-con1": {"mobile": "919800000099"}}, merge_with=[A]),
        ]
    )
    plan = ws.plan()
    add = next(a for a in plan.actions if a.customer_id == A and a.kind == "add")
    assert (add.risk, add.blocked, add.holder) == ("merge", False, B)
    assert "irreversible" in add.reason
    assert not plan.blocked and ws.plan_cli().exit_code == EXIT_OK
    one_sided = [
        declared(A, {"mobile": "919800000099"}, merge_with=[B]),
        declared(B, wechat={"wechat-con1": {"mobile": "919800000099"}}),
    ]
    ws.write_state(one_sided)
    assert ws.plan_cli().exit_code == EXIT_BLOCKED
    assert ws.plan_cli("--force").exit_code == EXIT_BLOCKED  # --force never lets a merge pass
