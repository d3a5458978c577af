"""Day-to-day operation: --customer, outside a repository, generated cards in the result, -v/--quiet last,
the shard's share of the rate limit."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.workspace import ScopeOptions, load_workspace, shard_rate
from reconciler.workspace import Workspace as Loaded
from tests.testing import Workspace, is_write

CHECKSUM = re.compile(r"Checksum: ([0-9a-f]{64})")


def _changed_customers(ws: Workspace) -> list[int]:
    done = ws.cli("plan", "--format", "json")
    return sorted({a["customer_id"] for a in json.loads(done.stdout)["actions"]})


@pytest.mark.slow
def test_a_customer_plan_applies_to_that_customer_only_and_not_to_a_wider_scope(demo_ws: Workspace) -> None:
    changed = _changed_customers(demo_ws)
    assert len(changed) >= 2
    one, other = changed[0], changed[1]
    plan = demo_ws.cli("plan", "--customer", str(one), "--format", "json")
    data = json.loads(plan.stdout)
    assert {a["customer_id"] for a in data["actions"]} == {one} and data["scope"] == {"customers": [one]}
    text = demo_ws.cli("plan", "--customer", str(one))
    assert f"Scope: --customer {one}" in text.stdout
    checksum = CHECKSUM.findall(text.stdout)[0]

    demo_ws.server.clear_log()
    wider = demo_ws.cli("apply", "--checksum", checksum, "--all")
    assert wider.returncode == 5, wider.stderr
    assert not [e for e in demo_ws.server.request_log()["requests"] if is_write(e)]

    done = demo_ws.cli("apply", "--checksum", checksum, "--customer", str(one))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _changed_customers(demo_ws) == [c for c in changed if c != one]  # the other one is untouched
    assert other in _changed_customers(demo_ws)


@pytest.mark.slow
def test_customer_composes_with_shard_and_an_undeclared_one_is_refused(demo_ws: Workspace) -> None:
    one = _changed_customers(demo_ws)[0]
    shards = [
        demo_ws.cli("plan", "--customer", str(one), "--shard", f"{k}/2", "--format", "json") for k in (1, 2)
    ]
    in_scope = [json.loads(s.stdout)["summary"]["customers_in_scope"] for s in shards]
    assert sorted(in_scope) == [0, 1]
    bad = demo_ws.cli("plan", "--customer", "999999999")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --customer 999999999: not declared")


@pytest.mark.slow
def test_outside_a_repository_every_command_says_so_and_exits_2(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    for args in (["validate"], ["plan"], ["apply", "--auto-approve"], ["import", "--customer", "1"]):
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", *args], cwd=tmp_path, capture_output=True, text=True, env=env
        )
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith("error: no reconciler.yaml"), done.stderr
    assert list(tmp_path.iterdir()) == []  # no demo sandbox database, no state written


@pytest.mark.slow
def test_generated_cards_appear_masked_with_series_and_customer(demo_ws: Workspace, tmp_path: Path) -> None:
    before = {c["number"] for c in demo_ws.server.dump()["cards"]}
    journal = tmp_path / "journal.jsonl"
    done = demo_ws.cli("apply", "--auto-approve", "--format", "json", "--journal", str(journal))
    assert done.returncode == 0, done.stderr
    cards = json.loads(done.stdout)["generated_cards"]
    assert cards
    new = [c for c in demo_ws.server.dump()["cards"] if c["number"] not in before]
    held = {(c.get("customerId"), c["seriesId"]) for c in new}
    assert all((c["customer_id"], c["series"]) in held for c in cards)
    for c in new:  # masked everywhere
        assert c["number"] not in done.stdout and c["number"] not in journal.read_text()
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    in_journal = [(r["customer_id"], r["series"], r["card"]) for r in records if r.get("card")]
    assert in_journal == [(c["customer_id"], c["series"], c["card"]) for c in cards]


@pytest.mark.slow
def test_verbose_and_quiet_may_follow_the_subcommand(demo_ws: Workspace) -> None:
    done = demo_ws.cli("plan", "-vv", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "DEBUG " in done.stderr


def test_a_shard_runs_at_its_share_of_the_rate_limit(demo_ws: Workspace) -> None:
    ws: Loaded = load_workspace(demo_ws.root / "reconciler.yaml")
    limit = ws.config.api.requests_per_minute
    assert shard_rate(ws, ScopeOptions(shard="2/4")).config.api.requests_per_minute == limit // 4
    assert shard_rate(ws, ScopeOptions(shard="2/4", full_rate=True)).config.api.requests_per_minute == limit
    assert shard_rate(ws, ScopeOptions()) is ws
