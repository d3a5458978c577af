"""Every apply result (``apply --format json``) validates against ``schemas/apply-result.schema.json`` and
every line of its journal against ``schemas/journal.schema.json``: an apply that applies (a generated card
among its writes), one with a stale customer, permanent and transient failures, unknown outcomes settled by
re-reading (applied, not applied, a generation that cannot be re-read), a merge incident, and a run halted
with a write in flight. Both schemas reject a real document broken in one key."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import FAILED, STALE
from reconciler.sandbox.server import SandboxServer
from tests.testing import Workspace, live_customer, make_workspace
from tests.testing.sandbox import change_behind_the_plan
from tests.testing.seed import seed_fixture

from .runs import Run, apply_cli, plan_then_apply
from .schemas import JOURNAL, RESULT, assert_valid, broken, problems

BECKY = 564854790  # a demo customer apply writes
CHANGE = "POST /v2/customers/{id}/changeIdentifier"
GENERATE = "POST /v2/card/generate"
WRITES = (CHANGE, "POST /v2/card", "PUT /v2/card", GENERATE)


def assert_run_valid(run: Run) -> None:
    """The result and each journal line against their schemas; the journal opens with its header and
    closes with its end line."""
    assert_valid(run.result, RESULT)
    assert run.journal and run.journal[0]["event"] == "run" and run.journal[-1]["event"] == "end"
    for n, line in enumerate(run.journal, 1):
        wrong = problems(line, JOURNAL)
        assert not wrong, f"journal line {n} ({line['event']}): {wrong}"


@pytest.mark.slow
def test_an_applied_run_writes_a_valid_result_and_journal(demo_ws: Workspace) -> None:
    run = apply_cli(demo_ws)
    assert run.result["exit_code"] == 0 and run.result["generated_cards"]
    assert {"run", "precondition", "holder_check", "intent", "outcome", "verified", "end"} <= {
        e["event"] for e in run.journal
    }
    assert any("card" in e for e in run.events("outcome"))  # the generated card's outcome line
    assert_run_valid(run)


@pytest.mark.slow
def test_a_stale_customer_is_a_valid_result_and_journal(demo_ws: Workspace) -> None:
    srv = demo_ws.server

    def change_becky() -> None:
        change_behind_the_plan(srv, BECKY, {"externalId": "EXT-BECKY-NEW"})

    result, run = plan_then_apply(demo_ws, change_becky)
    assert result.exit_code == 5 and {c.status for c in result.customers if c.id == BECKY} == {STALE}
    assert any(not e["ok"] for e in run.events("precondition")) and run.events("skipped")
    assert_run_valid(run)


# ----- failures, each through the sandbox's fault plan -----------------------------------------------

FAULTS: dict[str, tuple[dict[str, Any], Callable[[Run], bool]]] = {
    "permanent (8011)": (
        {CHANGE: {"error_8011": 1.0}},
        lambda run: (
            run.result["rerun_helps"] is False and any(e["result"] == "failed" for e in run.events("outcome"))
        ),
    ),
    "unknown, then proven applied": (
        {CHANGE: {"drop_after_commit": 1.0, "limit": 1}},
        lambda run: [e["applied"] for e in run.events("resolved")] == [True],
    ),
    "unknown, then proven not applied and resent": (
        {CHANGE: {"drop_before": 1.0, "limit": 1}},
        lambda run: [e["applied"] for e in run.events("resolved")] == [False],
    ),
    "unknown every time (500)": (
        {CHANGE: {"error_500": 1.0}},
        lambda run: (
            {e["result"] for e in run.events("outcome") if e["path"].endswith("changeIdentifier")}
            == {"unknown"}
        ),
    ),
    "a generation whose answers are lost": (
        {GENERATE: {"drop_after_commit": 1.0}},
        lambda run: None in {e["applied"] for e in run.events("resolved")} and bool(run.result["notes"]),
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FAULTS))
def test_a_failed_or_unsettled_write_is_a_valid_result_and_journal(demo_ws: Workspace, name: str) -> None:
    faults, seen = FAULTS[name]
    demo_ws.server.set_faults({"seed": 1, "endpoints": faults})
    _, run = plan_then_apply(demo_ws)
    assert seen(run), run.result
    assert_run_valid(run)


@pytest.mark.slow
def test_a_merge_incident_is_a_valid_result_and_journal(tmp_path: Path) -> None:
    """The value's holder hides in a WECHAT account the client is not told of (``sources:`` says INSTORE
    alone and the key may not read the org's sources): the write meets it and merges, as the API answers."""
    a, holder = 9401, 9404
    with SandboxServer() as server:
        server.set_settings(merge_codes="warning", merge_created_id="survivor")
        customers = [
            live_customer(a, {"mobile": "919800005001"}),
            live_customer(holder, wechat={"wechat-con1": {"email": "new@example.com"}}),
        ]
        server.seed({**seed_fixture(customers), "series": [], "cards": []})
        server.set_settings(org_sources_access=False)
        state = (
            f"customers:\n  - id: {a}\n    identifiers:\n"
            "      INSTORE: {mobile: '919800005001', email: new@example.com}\n"
        )
        ws = make_workspace(tmp_path, server, {"a.yaml": state})
        with ws.config_path.open("a", encoding="utf-8") as config:
            config.write("sources: [INSTORE]\n")
        result, run = plan_then_apply(ws)
    assert result.exit_code == 6 and result.incidents
    assert any(e.get("created_id") == holder for e in run.events("outcome"))
    assert_run_valid(run)


@pytest.mark.slow
def test_a_run_halted_with_a_write_in_flight_is_a_valid_result_and_journal(demo_ws: Workspace) -> None:
    latency = {route: {"latency_ms": 2000} for route in WRITES}
    demo_ws.server.set_faults({"seed": 1, "endpoints": latency})
    result, run = plan_then_apply(demo_ws, stop_in_flight=True)
    halted = [e for e in run.events("outcome") if e.get("message") == "interrupted"]
    assert halted and all(e["result"] == "unknown" for e in halted)
    assert run.events("stop") and run.journal[-1]["stopped"] == "stopped by the test"
    assert any(c.status == FAILED for c in result.customers)
    assert run.result["verification"]["written"] == 0 and not run.events("verified")  # re-planned instead
    assert_run_valid(run)


# ----- strict enough to fail ------------------------------------------------------------------------

# An intent's body and query are the API's request, its generated cards a map by call id: left open.
JOURNAL_FREE = re.compile(r"^/(body|query|generated)(/|$)")


@pytest.mark.slow
def test_a_result_or_journal_line_broken_in_one_key_is_rejected(demo_ws: Workspace) -> None:
    run = apply_cli(demo_ws)
    accepted = [label for label, changed in broken(run.result) if not problems(changed, RESULT)]
    assert not accepted, accepted
    shapes: dict[tuple[str, str], dict[str, Any]] = {}
    for line in run.journal:  # one line of each event and outcome result stands for the others
        shapes.setdefault((line["event"], str(line.get("result", ""))), line)
    for (event, _), line in shapes.items():
        wrong = [label for label, changed in broken(line, JOURNAL_FREE) if not problems(changed, JOURNAL)]
        assert not wrong, f"{event}: {wrong}"
    assert problems({**run.journal[0], "event": "unheard_of"}, JOURNAL)
    assert problems({**run.journal[0], "ts": "yesterday"}, JOURNAL)
