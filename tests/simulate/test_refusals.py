"""Wrong predictions caught at plan time: the twin refuses what the API would, with the API's code.

Two kinds. A refusal the plan did not foresee before the twin found it (a status change back to ISSUED,
3013; a status change of an unissued card, 3038; a merge into two survivors, 8053; a link past the series'
limit, 3036): the plan now blocks it, and the same plan with that block planted away (``plant.unblock``)
is caught by the twin with the code the plan's reason names. And wrong orders and calls a planner could
emit (a move's add before its release, a generated card linked with a label that cannot issue it): each
diverges with the twin's answer. Every planted plan passes without the simulation: its actions are not
blocked, so only the twin stands between it and a half-applied org.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reconciler.errors import EXIT_BLOCKED, EXIT_OK
from reconciler.plan import GENERATE_CARD, Plan
from reconciler.simulate import DIVERGED, PASSED, Simulation
from tests.plan.org import declared
from tests.testing import DIGI, GOLD, Workspace, live_card, live_customer

from .plant import relabel, reverse_releases, run_twin, unblock

A, B, C, H1, H2, V = 9101, 9102, 9103, 9301, 9302, 9401
MOBILE = {"mobile": "919800001001"}


def wechat(values: dict[str, str]) -> dict[str, dict[str, str]]:
    return {"wechat-con1": values}


def merging(block: dict[str, Any], *others: int) -> dict[str, Any]:
    return {**block, "allow": {"merge_with": list(others)}}


def diverged_with(sim: Simulation, customer: int, code: int | str) -> str:
    """The divergence of ``customer``, which must carry the API's ``code`` (or, where the write-time
    holder check stops the call before the API sees it, the check's words)."""
    assert sim.status == DIVERGED, sim.summary()
    found = [str(d) for d in sim.divergences if d.customer_id == customer]
    assert found, f"no divergence for {customer}: {[str(d) for d in sim.divergences]}"
    want = f"code {code}" if isinstance(code, int) else code
    assert any(want in line for line in found), found
    return found[0]


Scenario = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]

FORESEEN: dict[str, tuple[Scenario, int, int | str]] = {
    # a card whose label change the API refuses: an ACTIVE card cannot go back to ISSUED
    "status ACTIVE to ISSUED": (
        (
            [live_customer(A, MOBILE)],
            [live_card("DIGI00000051", DIGI, "ACTIVE", A)],
            [declared(A, MOBILE, cards=[{"number": "DIGI00000051", "series": DIGI, "status": "ISSUED"}])],
            {},
        ),
        A,
        3013,
    ),
    # a card held but never issued cannot be suspended
    "status NOT_ISSUED to SUSPENDED": (
        (
            [live_customer(A, MOBILE)],
            [live_card("DIGI00000051", DIGI, "NOT_ISSUED", A)],
            [
                declared(
                    A, MOBILE, cards=[{"number": "DIGI00000051", "series": DIGI, "status": "CARD BLOCKED"}]
                )
            ],
            {},
        ),
        A,
        3038,
    ),
    # the issue's example: a second card of a series that allows one (Tom Sawyer and GOLD0000008)
    "link past maxActiveCardsPerCustomer": (
        (
            [live_customer(A, MOBILE)],
            [live_card("GOLD0000001", GOLD, "ACTIVE", A), live_card("GOLD0000008", GOLD, "NOT_ISSUED")],
            [
                declared(
                    A,
                    MOBILE,
                    cards=[
                        {"number": "GOLD0000001", "series": GOLD},
                        {"number": "GOLD0000008", "series": GOLD},
                    ],
                )
            ],
            {},
        ),
        A,
        3036,
    ),
    # a generated card whose link the API refuses: the customer already holds the series' limit
    "generated card past the limit": (
        (
            [live_customer(A, MOBILE)],
            [live_card("DIGI00000051", DIGI, "ACTIVE", A), live_card("DIGI00000052", DIGI, "ACTIVE", A)],
            [
                declared(
                    A,
                    MOBILE,
                    cards=[
                        {"number": "DIGI00000051", "series": DIGI},
                        {"number": "DIGI00000052", "series": DIGI},
                        {"series": DIGI},
                    ],
                )
            ],
            {},
        ),
        A,
        3036,
    ),
    # one customer cannot merge into two survivors
    "merge into two survivors": (
        (
            [
                live_customer(A, MOBILE),
                live_customer(H1, None, wechat=wechat({"email": "h1@example.com"})),
                live_customer(H2, None, wechat=wechat({"mobile": "919800005555"})),
            ],
            [],
            [
                merging(declared(A, {"mobile": "919800005555", "email": "h1@example.com"}), H1, H2),
                merging(declared(H1, None, wechat=wechat({"email": "h1@example.com"})), A),
                merging(declared(H2, None, wechat=wechat({"mobile": "919800005555"})), A),
            ],
            {},
        ),
        A,
        8053,
    ),
    # generation disabled on the series (GOLD01 does not generate)
    "generate on a series that does not": (
        ([live_customer(A, MOBILE)], [], [declared(A, MOBILE, cards=[{"series": GOLD}])], {}),
        A,
        703,
    ),
    # an EXPIRED card cannot be linked
    "link an expired card": (
        (
            [live_customer(A, MOBILE)],
            [live_card("GOLD0000050", GOLD, "EXPIRED")],
            [declared(A, MOBILE, cards=[{"number": "GOLD0000050", "series": GOLD}])],
            {},
        ),
        A,
        8087,
    ),
    # a value held by a merge victim is not reused (CONF_ALLOW_..._REUSE off)
    "a victim's email": (
        (
            [
                live_customer(A, MOBILE),
                live_customer(H1, {"mobile": "919800002002"}),
                live_customer(V, {"email": "v@example.com"}, mergedInto=H1),
            ],
            [],
            [declared(A, {**MOBILE, "email": "v@example.com"})],
            {},
        ),
        A,
        "held by customer 9401 (a merge victim), where the plan found no holder",  # the API: 8069
    ),
    # nor one held by a campaign account
    "a campaign account's email": (
        (
            [
                live_customer(A, MOBILE),
                live_customer(V, {"email": "v@example.com"}, loyaltyType="non_loyalty"),
            ],
            [],
            [declared(A, {**MOBILE, "email": "v@example.com"})],
            {},
        ),
        A,
        "held by customer 9401 (a campaign account), where the plan found no holder",  # the API: 8068
    ),
}


@pytest.mark.parametrize("name", list(FORESEEN))
@pytest.mark.slow
def test_a_refusal_the_plan_foresees_is_the_twins_refusal_too(ws: Workspace, name: str) -> None:
    (customers, cards, state, _), customer, code = FORESEEN[name]
    ws.seed(customers, cards)
    ws.write_state(state)
    plan = ws.plan()
    blocked = [a for a in plan.actions if a.blocked and a.customer_id == customer]
    assert blocked, f"the plan no longer foresees {name}"
    assert run_twin(ws, plan).status == PASSED  # the plan as made: blocked, and nothing else goes wrong

    planted = unblock(plan, lambda a: a.customer_id == customer)
    assert not planted.blocked  # without the twin, this plan would be approved and applied
    diverged_with(run_twin(ws, planted), customer, code)


def _move_chain(ws: Workspace) -> Plan:
    """A's email moves to B, B's to C: releases first, then each add."""
    ws.seed(
        [
            live_customer(A, {"email": "a@example.com"}),
            live_customer(B, {"email": "b@example.com"}),
            live_customer(C, {"email": "c@example.com"}),
        ]
    )
    ws.write_state(
        [declared(A, {}), declared(B, {"email": "a@example.com"}), declared(C, {"email": "b@example.com"})]
    )
    return ws.plan()


def _one_move(ws: Workspace) -> Plan:
    """A's email moves to B."""
    ws.seed(
        [live_customer(A, {"email": "a@example.com", **MOBILE}), live_customer(B, {"mobile": "919800001002"})]
    )
    ws.write_state([declared(A, MOBILE), declared(B, {"mobile": "919800001002", "email": "a@example.com"})])
    return ws.plan()


@pytest.mark.parametrize(
    ("make", "first"),
    [(_move_chain, C), (_one_move, B)],
    ids=["a move chain across three customers taken from the end", "a release ordered after its add"],
)
@pytest.mark.slow
def test_a_move_in_an_order_that_cannot_work_diverges(
    ws: Workspace, make: Callable[[Workspace], Plan], first: int
) -> None:
    plan = make(ws)
    assert run_twin(ws, plan).status == PASSED, "the plan's own order works"
    planted = reverse_releases(plan)
    assert not planted.blocked
    sim = run_twin(ws, planted)
    # the add meets the holder that has not released it yet: the write-time holder check stops it before
    # the API would (8007, same source)
    line = diverged_with(sim, first, "where the plan found no holder; not sent")
    assert "a@example.com" not in line and "b@example.com" not in line  # masked as everywhere
    assert sim.reached == 0  # the others wait for a call that never applied


def test_a_generated_card_linked_with_a_label_that_cannot_issue_it_diverges(ws: Workspace) -> None:
    ws.seed([live_customer(A, MOBILE)])
    ws.write_state([declared(A, MOBILE, cards=[{"series": DIGI}])])
    plan = ws.plan()
    assert run_twin(ws, plan).status == PASSED
    gen = next(c for c in plan.calls if c.op == GENERATE_CARD)
    link = next(c for c in plan.calls if gen.id in c.after)
    sim = run_twin(ws, relabel(plan, link.id, "NOT_ISSUED"))
    diverged_with(sim, A, 3017)


def test_an_unallowed_merge_let_through_is_an_incident_in_the_twin_not_in_the_org(ws: Workspace) -> None:
    ws.seed([live_customer(A, MOBILE), live_customer(H1, None, wechat=wechat({"email": "h1@example.com"}))])
    ws.write_state([declared(A, {**MOBILE, "email": "h1@example.com"})])
    plan = ws.plan()
    planted = unblock(plan, lambda a: a.customer_id == A)
    sim = run_twin(ws, planted)
    line = diverged_with(sim, A, f"merges into customer {H1}, which their declarations do not both allow")
    assert line.startswith(f"customer {A} (a")
    writes = [r for r in ws.requests() if r["method"] != "GET" and "token" not in r["path"]]
    assert writes == []  # the twin is in process: the loopback org saw reads only


def test_an_allowed_merge_that_moves_a_card_to_the_survivor_is_caught_by_the_end_state(ws: Workspace) -> None:
    """The merge moves the victim's card to the survivor, whose declaration does not list it: every
    call succeeds, and the org still ends off its declarations. Only the end-state diff sees it."""
    ws.seed(
        [live_customer(A, MOBILE), live_customer(H1, None, wechat=wechat({"email": "h1@example.com"}))],
        [live_card("GOLD0000050", GOLD, "ACTIVE", A), live_card("DIGI00000060", DIGI, "ACTIVE", H1)],
    )
    ws.write_state(
        [
            merging(
                declared(
                    A,
                    {**MOBILE, "email": "h1@example.com"},
                    cards=[{"number": "GOLD0000050", "series": GOLD}],
                ),
                H1,
            ),
            merging(
                declared(
                    H1,
                    None,
                    wechat=wechat({"email": "h1@example.com"}),
                    cards=[{"number": "DIGI00000060", "series": DIGI}],
                ),
                A,
            ),
        ]
    )
    shown = ws.plan_cli()
    assert shown.exit_code == EXIT_BLOCKED, shown.stdout
    assert f"customer {H1}: still to delink …0050" in shown.stdout
    assert "GOLD0000050" not in shown.stdout
    off = ws.plan_cli("--no-simulate")
    assert off.exit_code == EXIT_OK, off.stdout  # what the plan alone would have let through
    assert "Simulated apply" not in off.stdout
