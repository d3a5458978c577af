"""Verification overlaps the writes, and never re-reads a customer that a later call can still change.

Against a loopback sandbox whose ``changeIdentifier`` answers after 500 ms, an apply of the synthetic
population (tests/apply/population.py: every kind of change; customer 7 moves its email to customer 0 and
its gold card to customer 1, customer 15 to 8 and 9). The sandbox's request log (arrival times) shows
when each customer was re-read to verify it (its last ``GET /v2/customers/{id}``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import ApplyResult, apply_plan
from reconciler.apply.journal import Journal
from reconciler.apply.verify import Verifier, entangled, verify
from reconciler.capillary import CapillaryWriter
from reconciler.commands.target import open_target
from reconciler.plan import Plan
from reconciler.plan.live import make_plan
from reconciler.sandbox.server import SandboxServer
from reconciler.workspace import load_workspace
from tests.apply import population
from tests.testing import Workspace, make_workspace, route_of, serve

N = 16
LATENCY = 0.5
CHANGE_ROUTE = "POST /v2/customers/{id}/changeIdentifier"
CUSTOMER_ROUTE = "/v2/customers/{id}"
# customer 7 gives its email to 0 and its gold card to 1; customer 15 to 8 and 9
MOVES = (
    frozenset(population.cid(i) for i in (0, 1, 7)),
    frozenset(population.cid(i) for i in (8, 9, 15)),
)


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    srv = serve(population.fixture(N, 0))
    yield srv
    srv.stop()


async def _apply(ws: Workspace) -> tuple[Plan, ApplyResult]:
    space = load_workspace(ws.root / "reconciler.yaml")
    async with open_target(space.config, write=True) as writer:
        assert isinstance(writer, CapillaryWriter)
        desired = space.state.by_id()
        plan = await make_plan(writer, space.state.customers, desired, space.config, target="t")
        ws.server.clear_log()
        journal = Journal(ws.root / "j.jsonl")
        try:
            return plan, await apply_plan(plan, writer, desired, space.config, journal)
        finally:
            journal.close()


def _customer(entry: dict[str, Any]) -> int:
    return int(entry["path"].split("/")[3])


@pytest.mark.slow
def test_customers_are_verified_while_others_are_still_written(tmp_path: Path, server: SandboxServer) -> None:
    # every written customer re-read (safety.verify: reread), so each re-read's time is in the log
    state = {"population.yaml": population.state_yaml(N)}
    ws = make_workspace(tmp_path, server, state, safety={"verify": "reread"})
    server.set_faults({"endpoints": {CHANGE_ROUTE: {"latency_ms": LATENCY * 1000}}})
    plan, result = asyncio.run(_apply(ws))
    assert result.verification.written > 0
    assert result.verification.verified == result.verification.written, result.verification.divergences
    assert result.verification.reread == result.verification.written

    log = sorted(server.request_log()["requests"], key=lambda e: e["time"])
    reads = [e for e in log if e["method"] == "GET" and route_of(e["path"]) == CUSTOMER_ROUTE]
    verified_at = {_customer(e): e["time"] for e in reads}  # the last re-read of each customer wins
    changes = [(e["time"], _customer(e)) for e in log if f"POST {route_of(e['path'])}" == CHANGE_ROUTE]
    assert changes

    # overlap: some customer was re-read to verify it before another customer's last write was sent
    last_change = max(t for t, _ in changes)
    written = {c.customer_id for c in plan.calls}
    assert any(t < last_change for cid, t in verified_at.items() if cid in written)

    # no re-read before a write of its group was answered: each change arrived LATENCY before its
    # answer, so a verifying re-read must arrive at least that long after every change of the group
    for group in MOVES:
        for cid in group:
            for sent, writer in changes:
                if writer in group:
                    assert verified_at[cid] >= sent + LATENCY, (cid, writer, verified_at[cid] - sent)


def test_moves_and_merges_entangle_their_customers(tmp_path: Path, server: SandboxServer) -> None:
    ws = make_workspace(tmp_path, server, {"population.yaml": population.state_yaml(N)})

    async def plan_only() -> Plan:
        space = load_workspace(ws.root / "reconciler.yaml")
        async with open_target(space.config) as reader:
            state = space.state
            return await make_plan(reader, state.customers, state.by_id(), space.config, target="t")

    groups = entangled(asyncio.run(plan_only()))
    for group in MOVES:
        assert all(groups[cid] == group for cid in group)
    loose = [c for c in groups if not any(c in group for group in MOVES)]
    assert loose and all(groups[c] == {c} for c in loose)


@pytest.mark.slow
def test_a_cancelled_verifier_starts_no_re_read_and_verify_checks_a_partial_group(
    tmp_path: Path, server: SandboxServer
) -> None:
    """After ``cancel`` (an apply that stopped or failed) a customer that finishes starts no re-read; and
    ``verify`` given one customer of a move group re-reads it (its group's others are not given)."""
    ws = make_workspace(tmp_path, server, {"population.yaml": population.state_yaml(N)})
    plan, result = asyncio.run(_apply(ws))
    mover = next(c for c in result.customers if c.id == population.cid(7))

    async def after_cancel() -> tuple[int, int]:
        space = load_workspace(ws.root / "reconciler.yaml")
        async with open_target(space.config) as reader:
            verifier = Verifier(plan, reader, {})
            await verifier.cancel()
            for customer in result.customers:
                verifier.finished(customer)
            verifier.start_rest()
            running = len(asyncio.all_tasks()) - 1
            alone = await verify(plan, reader, (mover,), {})
            return running, alone.written

    server.clear_log()
    running, written = asyncio.run(after_cancel())
    assert running == 0
    assert written == 1
    reads = [e for e in server.request_log()["requests"] if route_of(e["path"]) == CUSTOMER_ROUTE]
    assert [_customer(e) for e in reads] == [mover.id]  # only verify's re-read of the one given


@pytest.mark.slow
def test_customers_whose_writes_answered_are_verified_without_a_re_read(
    tmp_path: Path, server: SandboxServer
) -> None:
    """By default (no bulk reads) a customer whose every write was answered as done (2xx, sent once, no
    merge) is verified by those answers: after its first write no read of it is sent."""
    ws = make_workspace(tmp_path, server, {"population.yaml": population.state_yaml(N)})
    plan, result = asyncio.run(_apply(ws))
    written = {c.customer_id for c in plan.calls}
    assert result.verification.written == len(written)
    assert result.verification.verified == len(written) and result.verification.reread == 0
    log = sorted(server.request_log()["requests"], key=lambda e: e["time"])
    first_write: dict[int, float] = {}
    for e in log:
        if e["method"] != "GET" and e.get("customerId"):
            first_write.setdefault(int(e["customerId"]), e["time"])
    reads_after = [
        cid
        for e in log
        if e["method"] == "GET"
        and route_of(e["path"]) == CUSTOMER_ROUTE
        and (cid := _customer(e)) in first_write
        and e["time"] > first_write[cid]
        and not any(c.op == "generateCard" and c.customer_id == cid for c in plan.calls)
    ]
    assert reads_after == []
