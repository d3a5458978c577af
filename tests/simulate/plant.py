"""Planting a wrong prediction in a real plan: the plan as a less careful planner would have made it.

Each helper returns a copy of a plan computed through the real plan path, changed in one way (an action
the plan blocked let through, the order of two calls turned round, a call's label changed); the twin is
seeded from the plan's own read, untouched. A simulation that passes one of these plans is wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from reconciler.plan import Action, Plan
from reconciler.plan.calls import build_calls
from reconciler.simulate import Simulation, simulate
from reconciler.workspace import load_workspace
from tests.plan.org import declared
from tests.testing import DIGI, GOLD, Workspace, live_card, live_customer


def unblock(plan: Plan, which: Callable[[Action], bool]) -> Plan:
    """The plan with the blocked actions ``which`` selects let through, and its calls built again (by the
    real call builder) to perform them."""
    actions = tuple(replace(a, blocked=False) if a.blocked and which(a) else a for a in plan.actions)
    assert actions != plan.actions, "nothing to unblock: the scenario does not block what it should"
    return replace(plan, actions=actions, calls=build_calls(actions))


def reverse_releases(plan: Plan) -> Plan:
    """The plan with every wait on another customer's call turned round: a move's add runs before the
    release it needs, the release waits for it."""
    owner = {c.id: c.customer_id for c in plan.calls}
    turned: dict[str, list[str]] = {}
    for call in plan.calls:
        for dep in call.after:
            if owner[dep] != call.customer_id:
                turned.setdefault(dep, []).append(call.id)
    assert turned, "no call waits for another customer's: nothing to reverse"
    calls = []
    for call in plan.calls:
        own = tuple(d for d in call.after if owner[d] == call.customer_id)
        calls.append(replace(call, after=own + tuple(turned.get(call.id, ()))))
    return replace(plan, calls=tuple(calls))


def relabel(plan: Plan, call_id: str, label: str) -> Plan:
    """The plan with one call's card (or first added item) sent with another ``statusLabel``."""
    calls = []
    for call in plan.calls:
        if call.id == call_id:
            if call.card is not None:
                call = replace(call, card=replace(call.card, label=label))
            else:
                call = replace(call, add=(replace(call.add[0], label=label), *call.add[1:]))
        calls.append(call)
    return replace(plan, calls=tuple(calls))


def run_twin(ws: Workspace, plan: Plan) -> Simulation:
    """The simulated apply of ``plan`` with the workspace's declarations and config (the twin runs the
    documented defaults, as for a real org)."""
    loaded = load_workspace(ws.config_path)
    return asyncio.run(simulate(plan, loaded.state.by_id(), loaded.config))


def card_moves_through_a_merge(ws: Workspace) -> None:
    """The state of a plan the twin refuses though no check of the plan foresees it: an allowed merge moves
    the victim's card to a survivor whose declaration does not list it."""
    a, h = 9101, 9301
    ws.seed(
        [
            live_customer(a, {"mobile": "919800001001"}),
            live_customer(h, None, wechat={"wechat-con1": {"email": "h1@example.com"}}),
        ],
        [live_card("GOLD0000050", GOLD, "ACTIVE", a), live_card("DIGI00000060", DIGI, "ACTIVE", h)],
    )
    victim = declared(
        a,
        {"mobile": "919800001001", "email": "h1@example.com"},
        cards=[{"number": "GOLD0000050", "series": GOLD}],
    )
    survivor = declared(
        h,
        None,
        wechat={"wechat-con1": {"email": "h1@example.com"}},
        cards=[{"number": "DIGI00000060", "series": DIGI}],
    )
    ws.write_state([{**victim, "allow": {"merge_with": [h]}}, {**survivor, "allow": {"merge_with": [a]}}])
