"""End to end through the CLI (real subprocesses) against a real loopback sandbox seeded with the demo org."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.apply.journal import read_journal
from reconciler.sandbox.server import SandboxServer
from tests.testing import REPO, Workspace, is_write, make_workspace, route_of
from tests.testing.verified import VERIFIED, assert_verified, assert_verified_json

DECLARED_FILES = ("bennets.yaml", "instore.yaml", "wechat.yaml")


def _declared(ws: Workspace) -> set[int]:
    done = ws.cli("plan", "--all", "--format", "json")
    return {c["id"] for c in json.loads(done.stdout)["customers"]}


def _by_id(dump: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {c["id"]: c for c in dump["customers"]}


def _cards_of(dump: dict[str, Any], cid: int) -> dict[str, str]:
    return {c["number"]: c["statusLabel"] for c in dump["cards"] if c.get("customerId") == cid}


@pytest.mark.slow
def test_validate_plan_apply_then_plan_is_empty(demo_ws: Workspace) -> None:
    assert demo_ws.cli("validate").returncode == 0
    checksum = demo_ws.checksum()
    before = demo_ws.server.dump()
    applied = demo_ws.cli("apply", "--checksum", checksum, "--journal", "j.jsonl")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Applied." in applied.stdout
    assert_verified(applied.stdout)
    again = demo_ws.cli("plan", "--all", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout
    after = demo_ws.server.dump()
    # moves: Jane's digital card went to Bingley, Emma's address to Knightley; nobody was merged
    assert "DIGI00000002" in _cards_of(after, 564854947)
    assert _cards_of(after, 564854933) == {}
    merged = {c["id"] for c in after["customers"] if c.get("mergedInto")}
    assert merged == {c["id"] for c in before["customers"] if c.get("mergedInto")}


@pytest.mark.slow
def test_undeclared_customers_are_byte_for_byte_unchanged(demo_ws: Workspace) -> None:
    plan = json.loads(demo_ws.cli("plan", "--all", "--format", "json").stdout)
    touched = {c["customer_id"] for c in plan["calls"]}
    before = _by_id(demo_ws.server.dump())
    applied = demo_ws.cli("apply", "--auto-approve")
    assert applied.returncode == 0
    assert_verified(applied.stdout)
    after = _by_id(demo_ws.server.dump())
    for cid, customer in before.items():
        if cid not in touched:
            assert json.dumps(after[cid], sort_keys=True) == json.dumps(customer, sort_keys=True), cid


@pytest.mark.slow
def test_writes_are_exactly_the_plans_calls(demo_ws: Workspace) -> None:
    plan = json.loads(demo_ws.cli("plan", "--all", "--format", "json").stdout)
    demo_ws.server.clear_log()
    done = demo_ws.cli("apply", "--auto-approve", "--format", "json")
    assert done.returncode == 0, done.stderr
    log = demo_ws.server.request_log()["requests"]
    writes = Counter((e["method"], e["path"]) for e in log if is_write(e))
    planned = Counter((c["method"], c["path"]) for c in plan["calls"])
    assert writes == planned
    assert all(200 <= e["status"] < 300 for e in log if is_write(e))  # no conflict, no refusal
    assert json.loads(done.stdout)["summary"]["writes_sent"] == len(plan["calls"])
    assert_verified_json(json.loads(done.stdout))


@pytest.mark.slow
def test_live_change_after_review_is_stale_and_writes_nothing(demo_ws: Workspace) -> None:
    checksum = demo_ws.checksum()
    srv = demo_ws.server
    body = {"add": [], "remove": [{"type": "externalId", "value": "EXT564854782"}]}
    url = f"{srv.url}/v2/customers/564854782/changeIdentifier?source=INSTORE"
    r = httpx.post(url, json=body, headers=srv.basic_auth())
    assert r.status_code == 200
    srv.clear_log()
    done = demo_ws.cli("apply", "--checksum", checksum)
    assert done.returncode == 5, done.stdout + done.stderr
    assert "stale" in done.stderr and "Checksum:" in done.stdout  # the new plan is shown
    assert not [e for e in srv.request_log()["requests"] if is_write(e)]


@pytest.mark.slow
def test_blocked_plan_is_refused(tmp_path: Path, demo_server: SandboxServer) -> None:
    state = {n: (REPO / "state" / n).read_text() for n in DECLARED_FILES}  # Lydia's merge stays in
    ws = make_workspace(tmp_path, demo_server, state)
    demo_server.clear_log()
    done = ws.cli("apply", "--auto-approve")
    assert done.returncode == 4
    assert "blocked" in done.stderr and "merge" in done.stdout
    assert not [e for e in demo_server.request_log()["requests"] if is_write(e)]


@pytest.mark.slow
def test_apply_needs_checksum_or_approval_off_a_terminal(demo_ws: Workspace) -> None:
    done = demo_ws.cli("apply")
    assert done.returncode == 2 and "--auto-approve" in done.stderr
    assert demo_ws.cli("apply", "--checksum", "abc").returncode == 2
    assert demo_ws.cli("apply", "--checksum", "0" * 64, "--auto-approve").returncode == 2


@pytest.mark.slow
def test_journal_masks_values_and_pairs_every_intent_with_an_outcome(demo_ws: Workspace) -> None:
    assert demo_ws.cli("apply", "--auto-approve", "--journal", "run.jsonl").returncode == 0
    text = (demo_ws.root / "run.jsonl").read_text()
    assert "919876543225" not in text and "becky" not in text.lower()  # Becky's new mobile, her email
    events = read_journal(demo_ws.root / "run.jsonl")
    assert events[0]["event"] == "run" and len(events[0]["checksum"]) == 64
    assert events[-1]["event"] == "end" and events[-1]["exit_code"] == 0
    intents = {(e["call"], e["attempt"]) for e in events if e["event"] == "intent"}
    outcomes = {(e["call"], e["attempt"]) for e in events if e["event"] == "outcome"}
    assert intents == outcomes and intents
    routes = {route_of(e["path"]) for e in events if e["event"] == "intent"}
    assert "/v2/customers/{id}/changeIdentifier" in routes and "/v2/card/generate" in routes


@pytest.mark.slow
def test_result_formats(demo_ws: Workspace) -> None:
    done = demo_ws.cli("apply", "--auto-approve", "--format", "markdown")
    assert done.returncode == 0
    assert done.stdout.startswith("## reconciler apply: Applied.")
    assert "embedded" not in done.stdout and "127.0.0.1" in done.stdout
    found = VERIFIED.search(done.stdout)
    assert found and found.group(1) == found.group(2) != "0"
    nothing = demo_ws.cli("apply", "--auto-approve")
    assert nothing.returncode == 0 and "No changes" in nothing.stdout
