"""The executor in-process against a loopback sandbox: preconditions and unknown outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx

from reconciler.apply import STALE, ApplyResult, apply_plan
from reconciler.capillary import CapillaryWriter, open_client
from reconciler.commands.workspace import load_workspace
from reconciler.journal import Journal, read_journal
from reconciler.live import make_plan
from reconciler.plan import Plan
from tests.apply.conftest import Workspace, is_write

BECKY = 564854790


async def _plan_then_apply(
    ws: Workspace, between: Callable[[], None] | None = None
) -> tuple[Plan, ApplyResult]:
    space = load_workspace(ws.root / "reconciler.yaml")
    async with open_client(space.config, write=True) as writer:
        assert isinstance(writer, CapillaryWriter)
        plan = await make_plan(writer, space.state.customers, space.state.by_id(), space.config, target="t")
        if between is not None:
            between()
        journal = Journal(ws.root / "j.jsonl")
        try:
            result = await apply_plan(plan, writer, space.state.by_id(), space.config, journal)
        finally:
            journal.close()
    return plan, result


def test_a_customer_changed_between_plan_and_write_is_skipped_as_stale(demo_ws: Workspace) -> None:
    srv = demo_ws.server

    def change_becky() -> None:
        body = {"add": [{"type": "externalId", "value": "EXT-BECKY-NEW"}], "remove": []}
        url = f"{srv.url}/v2/customers/{BECKY}/changeIdentifier?source=INSTORE"
        assert httpx.post(url, json=body, headers=srv.basic_auth()).status_code == 200
        srv.clear_log()

    _, result = asyncio.run(_plan_then_apply(demo_ws, change_becky))
    by_id = {c.id: c for c in result.customers}
    assert by_id[BECKY].status == STALE
    assert result.exit_code == 5
    written = {e["customerId"] for e in srv.request_log()["requests"] if is_write(e)}
    assert BECKY not in written and written  # the others went on
    events = read_journal(demo_ws.root / "j.jsonl")
    assert any(e["event"] == "precondition" and e["customer_id"] == BECKY and not e["ok"] for e in events)


def test_a_write_lost_after_commit_is_resolved_by_reading_not_resent(demo_ws: Workspace) -> None:
    srv = demo_ws.server
    route = "POST /v2/customers/{id}/changeIdentifier"
    srv.set_faults({"seed": 1, "endpoints": {route: {"drop_after_commit": 1.0, "limit": 1}}})
    srv.clear_log()
    plan, result = asyncio.run(_plan_then_apply(demo_ws))
    assert result.exit_code == 0
    writes = [e for e in srv.request_log()["requests"] if is_write(e)]
    assert len(writes) == len(plan.calls)  # the dropped one was not sent again
    events = read_journal(demo_ws.root / "j.jsonl")
    resolved = [e for e in events if e["event"] == "resolved"]
    assert len(resolved) == 1 and resolved[0]["applied"] is True


def test_a_write_dropped_before_it_ran_is_sent_again_after_a_proof(demo_ws: Workspace) -> None:
    srv = demo_ws.server
    route = "POST /v2/customers/{id}/changeIdentifier"
    srv.set_faults({"seed": 1, "endpoints": {route: {"drop_before": 1.0, "limit": 1}}})
    srv.clear_log()
    plan, result = asyncio.run(_plan_then_apply(demo_ws))
    assert result.exit_code == 0
    writes = [e for e in srv.request_log()["requests"] if is_write(e)]
    assert len(writes) == len(plan.calls) + 1
    events = read_journal(demo_ws.root / "j.jsonl")
    assert [e["applied"] for e in events if e["event"] == "resolved"] == [False]


def test_journal_survives_in_a_missing_directory(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "deep" / "er" / "j.jsonl")

    async def write() -> None:
        await asyncio.gather(*(journal.record("intent", n=i) for i in range(50)))

    asyncio.run(write())
    journal.close()
    assert sorted(e["n"] for e in read_journal(tmp_path / "deep" / "er" / "j.jsonl")) == list(range(50))
