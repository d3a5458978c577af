"""Card changes planned against a seeded sandbox: link, create and link, generate, numberless specs, delink,
status changes, no ``cards`` key leaving cards unmanaged and ``cards: []`` delinking all, a card moving
between declared customers (delinked first), a card kept by another customer (a conflict), and links the API
would refuse (a card whose state cannot be linked, a series past its active-card limit: 3036)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import EXIT_BLOCKED, EXIT_OK
from reconciler.plan import CHANGE_IDENTIFIER, CREATE_CARD, GENERATE_CARD, UPDATE_CARD, Action
from tests.plan.org import declared, summary
from tests.testing import DIGI, GOLD, Workspace, live_card, live_customer

A, B = 9101, 9102
MOBILE_A, MOBILE_B = {"mobile": "919800001001"}, {"mobile": "919800001002"}


def test_link_create_generate_delink_and_status(ws: Workspace) -> None:
    ws.seed(
        [live_customer(A, MOBILE_A)],
        [
            live_card("GOLD0000050", GOLD, "NOT_ISSUED"),  # exists, unlinked
            live_card("DIGI00000050", DIGI, "ACTIVE", A),  # held, no longer declared: delink
            live_card("DIGI00000051", DIGI, "ACTIVE", A),  # held, label changes
        ],
        max_active=2,  # both GOLD cards may be linked
    )
    cards: list[dict[str, Any]] = [
        {"number": "GOLD0000050", "series": GOLD},
        {"number": "GOLD0000060", "series": "GOLD01"},  # does not exist: create, then link
        {"number": "DIGI00000051", "series": DIGI, "status": "CARD BLOCKED"},
    ]
    ws.write_state([declared(A, MOBILE_A, cards=cards)])
    plan = ws.plan()
    assert [(a.kind, a.value, a.risk, a.blocked) for a in plan.actions] == [
        ("delink", "DIGI00000050", "plain", False),
        ("link", "GOLD0000050", "plain", False),
        ("create", "GOLD0000060", "plain", False),
        ("link", "GOLD0000060", "plain", False),
        ("status", "DIGI00000051", "plain", False),
    ]
    by_value: dict[tuple[str, str | None], Action] = {(a.kind, a.value): a for a in plan.actions}
    create, link_new = by_value[("create", "GOLD0000060")], by_value[("link", "GOLD0000060")]
    assert link_new.depends_on == (create.id,) and create.series == GOLD
    assert "exists, unlinked" in by_value[("link", "GOLD0000050")].reason
    ops = [(c.op, c.method, c.path) for c in plan.calls]
    assert ops.count((CREATE_CARD, "POST", "/v2/card")) == 1
    assert [op for op, _, _ in ops].count(CHANGE_IDENTIFIER) == 3  # one card per call: delink, link, link
    assert [op for op, _, _ in ops].count(UPDATE_CARD) == 1
    create_call = next(c for c in plan.calls if c.op == CREATE_CARD)
    link_call = next(c for c in plan.calls if link_new.id in c.actions)
    assert create_call.id in link_call.after
    shown = ws.plan_cli()
    assert shown.exit_code == EXIT_OK, shown.stdout


def test_numberless_spec_generates_until_a_card_of_the_series_is_held(ws: Workspace) -> None:
    ws.seed(
        [live_customer(A, MOBILE_A), live_customer(B, MOBILE_B)],
        [live_card("DIGI00000070", DIGI, "ACTIVE", B)],
    )
    ws.write_state(
        [
            declared(A, MOBILE_A, cards=[{"series": "DIGI01"}]),
            declared(B, MOBILE_B, cards=[{"series": DIGI}]),  # satisfied by DIGI00000070
        ]
    )
    plan = ws.plan()
    assert summary(plan) == [
        (A, "generate", "cardnumber", None, "plain", False),
        (A, "link", "cardnumber", None, "plain", False),
    ]
    generate, link = plan.actions
    assert generate.series == DIGI and link.depends_on == (generate.id,)
    gen_call, link_call = plan.calls
    assert gen_call.op == GENERATE_CARD and gen_call.body()["seriesId"] == DIGI
    assert link_call.after == (gen_call.id,)
    assert link_call.to_dict()["body"]["add"][0]["value"] == f"${{{gen_call.id}.cardNumber}}"


def test_cards_absent_means_unmanaged_and_empty_list_delinks_all(ws: Workspace) -> None:
    ws.seed(
        [live_customer(A, MOBILE_A), live_customer(B, MOBILE_B)],
        [
            live_card("GOLD0000071", GOLD, "ACTIVE", A),
            live_card("GOLD0000072", GOLD, "ACTIVE", B),
            live_card("GOLD0000073", GOLD, "EXPIRED", B),  # dead: the API cannot unlink it, left alone
        ],
    )
    ws.write_state([declared(A, MOBILE_A), declared(B, MOBILE_B, cards=[])])
    plan = ws.plan()
    assert summary(plan) == [(B, "delink", "cardnumber", "GOLD0000072", "plain", False)]
    assert plan.actions[0].label == "NOT_ISSUED"


@pytest.mark.slow
def test_card_moving_between_declared_customers_is_delinked_first(ws: Workspace) -> None:
    ws.seed(
        [live_customer(A, MOBILE_A), live_customer(B, MOBILE_B)],
        [live_card("DIGI00000080", DIGI, "ACTIVE", A)],
    )
    ws.write_state(
        [
            declared(A, MOBILE_A, cards=[]),
            declared(B, MOBILE_B, cards=[{"number": "DIGI00000080", "series": DIGI}]),
        ]
    )
    plan = ws.plan()
    delink, link = plan.actions
    assert (delink.customer_id, delink.kind, delink.releases_to) == (A, "delink", B)
    assert (link.customer_id, link.kind, link.risk, link.holder) == (B, "link", "move", A)
    assert link.depends_on == (delink.id,)
    first, second = plan.calls
    assert first.customer_id == A and second.after == (first.id,)
    assert ws.plan_cli().exit_code == EXIT_OK


def test_card_kept_by_another_customer_is_a_conflict(ws: Workspace) -> None:
    ws.seed(
        [live_customer(A, MOBILE_A), live_customer(B, MOBILE_B)],
        [live_card("GOLD0000081", GOLD, "ACTIVE", B)],
    )
    ws.write_state([declared(A, MOBILE_A, cards=[{"number": "GOLD0000081", "series": GOLD}])])
    plan = ws.plan()
    assert summary(plan) == [(A, "link", "cardnumber", "GOLD0000081", "conflict", True)]
    assert plan.actions[0].holder == B
    assert ws.plan_cli().exit_code == EXIT_BLOCKED


def test_card_that_cannot_be_linked_is_blocked_with_its_state(ws: Workspace) -> None:
    ws.seed([live_customer(A, MOBILE_A)], [live_card("GOLD0000082", GOLD, "EXPIRED")])
    ws.write_state([declared(A, MOBILE_A, cards=[{"number": "GOLD0000082", "series": GOLD}])])
    plan = ws.plan()
    assert summary(plan) == [(A, "link", "cardnumber", "GOLD0000082", "blocked", True)]
    assert "EXPIRED" in plan.actions[0].reason
    assert ws.plan_cli().exit_code == EXIT_BLOCKED


@pytest.mark.slow
def test_a_link_past_the_series_active_card_limit_is_blocked_with_3036(ws: Workspace) -> None:
    """The plan foresees the API's 3036 (issue 21): a series at its maxActiveCardsPerCustomer takes no
    further card, counting the delinks and status changes that run before the links."""
    ws.seed(
        [live_customer(A, MOBILE_A), live_customer(B, MOBILE_B)],
        [
            live_card("GOLD0000080", GOLD, "ACTIVE", A),
            live_card("GOLD0000081", GOLD, "NOT_ISSUED"),
            live_card("GOLD0000082", GOLD, "ACTIVE", B),
            live_card("GOLD0000083", GOLD, "NOT_ISSUED"),
        ],
    )
    ws.write_state(
        [
            declared(
                A,
                MOBILE_A,
                cards=[{"number": "GOLD0000080", "series": GOLD}, {"number": "GOLD0000081", "series": GOLD}],
            ),
            declared(
                B, MOBILE_B, cards=[{"number": "GOLD0000083", "series": GOLD}]
            ),  # GOLD0000082 delinked first
        ]
    )
    plan = ws.plan()
    by_value = {a.value: a for a in plan.actions}
    assert by_value["GOLD0000081"].blocked and "3036" in by_value["GOLD0000081"].reason
    assert not by_value["GOLD0000083"].blocked and not by_value["GOLD0000082"].blocked
    result = ws.plan_cli()
    assert result.exit_code == EXIT_BLOCKED, result.stdout
    assert "Simulated apply: 2 of 2 customers reach the declared state" in result.stdout
