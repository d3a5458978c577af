"""The executor in-process against a loopback sandbox: preconditions and unknown outcomes."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from pathlib import Path

import pytest

from reconciler.apply import FAILED, MAX_SENDS, STALE, ApplyResult, apply_plan
from reconciler.apply.executor import GENERATE_MAX_SENDS, SETTLE
from reconciler.apply.journal import Journal, read_journal
from reconciler.apply.verify import verify
from reconciler.backoff import Backoff
from reconciler.capillary import CapillaryWriter
from reconciler.commands.progress import ERASE, ProgressReporter
from reconciler.commands.target import open_target
from reconciler.errors import ApiError
from reconciler.plan.live import make_plan
from reconciler.sandbox.server import SandboxServer
from reconciler.workspace import load_workspace
from tests.testing import Workspace, is_write, make_workspace
from tests.testing.applying import plan_then_apply
from tests.testing.clock import Clock
from tests.testing.sandbox import change_behind_the_plan

BECKY = 564854790
CHANGE_ROUTE = "POST /v2/customers/{id}/changeIdentifier"


def test_a_customer_changed_between_plan_and_write_is_skipped_as_stale(demo_ws: Workspace) -> None:
    srv = demo_ws.server

    def change_becky() -> None:
        change_behind_the_plan(srv, BECKY, {"externalId": "EXT-BECKY-NEW"})
        srv.clear_log()

    _, result = asyncio.run(plan_then_apply(demo_ws, change_becky))
    by_id = {c.id: c for c in result.customers}
    assert by_id[BECKY].status == STALE
    assert result.exit_code == 5
    written = {e["customerId"] for e in srv.request_log()["requests"] if is_write(e)}
    assert BECKY not in written and written  # the others went on
    events = read_journal(demo_ws.root / "j.jsonl")
    assert any(e["event"] == "precondition" and e["customer_id"] == BECKY and not e["ok"] for e in events)


@pytest.mark.parametrize(
    ("fault", "extra_sends", "verdicts"),
    [("drop_after_commit", 0, [True]), ("drop_before", 1, [False])],
    ids=["lost-after-commit-is-not-resent", "dropped-before-is-resent-after-proof"],
)
@pytest.mark.slow
def test_a_write_with_an_unknown_outcome_is_settled_by_reading(
    demo_ws: Workspace, fault: str, extra_sends: int, verdicts: list[bool]
) -> None:
    srv = demo_ws.server
    srv.set_faults({"seed": 1, "endpoints": {CHANGE_ROUTE: {fault: 1.0, "limit": 1}}})
    srv.clear_log()
    plan, result = asyncio.run(plan_then_apply(demo_ws))
    assert result.exit_code == 0
    writes = [e for e in srv.request_log()["requests"] if is_write(e)]
    assert len(writes) == len(plan.calls) + extra_sends
    events = read_journal(demo_ws.root / "j.jsonl")
    assert [e["applied"] for e in events if e["event"] == "resolved"] == verdicts


@pytest.mark.slow
def test_a_write_that_never_gets_an_answer_stops_after_max_sends(demo_ws: Workspace) -> None:
    srv = demo_ws.server
    srv.set_faults({"seed": 1, "endpoints": {CHANGE_ROUTE: {"error_500": 1.0}}})
    srv.clear_log()
    pauses: list[float] = []

    async def record(seconds: float) -> None:  # the pause apply asks for, instead of waiting it out
        pauses.append(seconds)

    settle = Backoff(SETTLE.base, SETTLE.cap, sleep=record, uniform=lambda low, high: high)
    _, result = asyncio.run(plan_then_apply(demo_ws, settle=settle))
    assert result.exit_code == 6
    log = srv.request_log()["requests"]
    sends = Counter(int(e["path"].split("/")[3]) for e in log if e["route"] == CHANGE_ROUTE.split(" ")[1])
    assert sends and set(sends.values()) == {MAX_SENDS}  # MAX_SENDS proven sends each
    by_id = {c.id: c for c in result.customers}
    for cid in sends:
        assert by_id[cid].status == FAILED
        assert by_id[cid].reason.startswith(f"sent {MAX_SENDS} times")
    events = read_journal(demo_ws.root / "j.jsonl")
    assert {e["applied"] for e in events if e["event"] == "resolved"} == {False}
    # a growing pause after each unknown outcome, before its re-read: 0.25, 0.5, 1, 2, 4 s (the cap)
    growing = [min(SETTLE.cap, SETTLE.base * 2**n) for n in range(MAX_SENDS)]
    assert sorted(pauses) == sorted(growing * len(sends))


@pytest.mark.slow
def test_lost_generations_stop_at_their_cap_and_the_spare_cards_are_reported(demo_ws: Workspace) -> None:
    srv = demo_ws.server
    srv.set_faults({"seed": 1, "endpoints": {"POST /v2/card/generate": {"drop_after_commit": 1.0}}})
    unlinked = sum(1 for c in srv.dump()["cards"] if not c.get("customerId"))
    srv.clear_log()
    plan, result = asyncio.run(plan_then_apply(demo_ws))
    generates = [c for c in plan.calls if c.op == "generateCard"]
    assert len(generates) == 1
    log = srv.request_log()["requests"]
    assert sum(1 for e in log if e["route"] == "/v2/card/generate") == GENERATE_MAX_SENDS
    spare = sum(1 for c in srv.dump()["cards"] if not c.get("customerId")) - unlinked
    assert spare == GENERATE_MAX_SENDS  # every generation committed; no number was received
    customer = next(c for c in result.customers if c.id == generates[0].customer_id)
    assert customer.status == FAILED and "every answer was lost" in customer.reason
    notes = [n for n in result.notes if "generation" in n]
    assert len(notes) == 1 and f"up to {GENERATE_MAX_SENDS} spare" in notes[0]


def test_journal_survives_in_a_missing_directory(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "deep" / "er" / "j.jsonl")

    async def write() -> None:
        await asyncio.gather(*(journal.record("intent", n=i) for i in range(50)))

    asyncio.run(write())
    journal.close()
    assert sorted(e["n"] for e in read_journal(tmp_path / "deep" / "er" / "j.jsonl")) == list(range(50))


TWO_CHANGED = """customers:
  - id: 564854782
    identifiers:
      INSTORE:
        mobile: "919876543210"
        email: tom.verify@example.com
        externalId: EXT564854782
  - id: 564854846
    identifiers:
      WECHAT:wechat-con1:
        wechat: oWx21ab003ec1
        mobile: "919876543259"
        email: sid.verify@example.com
"""


def test_verification_reports_its_own_phase_and_a_terminal_draws_it(
    tmp_path: Path, demo_server: SandboxServer
) -> None:
    ws = make_workspace(tmp_path, demo_server, {"two.yaml": TWO_CHANGED})
    space = load_workspace(ws.root / "reconciler.yaml")
    heard: list[tuple[str, int, int]] = []
    shown = io.StringIO()

    async def run() -> ApplyResult:
        async with open_target(space.config, write=True) as writer:
            assert isinstance(writer, CapillaryWriter)
            desired = space.state.by_id()
            plan = await make_plan(writer, space.state.customers, desired, space.config, target="t")
            journal = Journal(ws.root / "j.jsonl")
            try:
                done = await apply_plan(
                    plan, writer, desired, space.config, journal, lambda *r: heard.append(r)
                )
            finally:
                journal.close()
            # the same verification again, into the terminal's reporter; the clock is one second later at
            # each reading, so every report after the first is drawn
            reporter = ProgressReporter(shown, clock=Clock(step=1.0), tty=True)
            await verify(plan, writer, done.customers, {}, reporter)
            return done

    result = asyncio.run(run())
    n = result.verification.written
    assert n == 2 and result.verification.verified == n
    verifying = [r for r in heard if r[0] == "verifying"]
    # the re-reads run beside the writes; reported from the end of the writes, one step per re-read left
    first = verifying[0][1]
    assert verifying == [("verifying", i, n) for i in range(first, n + 1)]
    assert heard.index(verifying[0]) > max(i for i, r in enumerate(heard) if r[0] == "writes")
    assert f"{ERASE}verifying: 1/{n} (50%)" in shown.getvalue() and shown.getvalue().endswith(ERASE)


@pytest.mark.slow
def test_a_failed_plan_leaves_no_read_running(demo_ws: Workspace) -> None:
    """The sources are read beside the customers: when a customer read fails the plan, the sources read
    (shared by every caller) is stopped too, not left running after the plan has failed."""
    srv = demo_ws.server
    srv.set_faults(
        {
            "endpoints": {
                "GET /v2/customers/{id}": {"error_8011": 1.0},  # refused: not a fact a plan reports
                "GET /v2/org/{org}/sources": {"latency_ms": 500},  # still on its way when the plan fails
            }
        }
    )
    space = load_workspace(demo_ws.root / "reconciler.yaml")

    async def run() -> set[asyncio.Task[object]]:
        async with open_target(space.config) as reader:
            with pytest.raises(ApiError, match="8011"):
                await make_plan(reader, space.state.customers, space.state.by_id(), space.config, target="t")
            left = asyncio.all_tasks() - {asyncio.current_task()}
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)
            return left

    assert asyncio.run(run()) == set()
