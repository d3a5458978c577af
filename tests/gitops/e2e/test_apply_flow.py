"""Acceptance for issues #7 and #12: the workflows' steps, run as the runner runs them, against the sandbox.

A git remote holds the demo state on main (whose plan against the demo seed has changes elsewhere, one
of them blocked: the drift every real org has); pull requests change one customer each. plan.yml runs
on pull_request_target (the base's checkout and tool, the head's state as data) and posts the marked
comment bound to the head; after the merge, apply.yml applies every merge since the applied tag under
its own reviewed checksum; a live change made between review and merge makes the apply stale without a
single write, and a run by hand with the new checksum applies it; drift.yml's shards find the drift and
keep one issue. Capillary is the sandbox on loopback; GitHub is the fake on loopback.
"""

from __future__ import annotations

import json
import re

import pytest

from reconciler.github import RESULT_HEADING, read_plan_marker
from reconciler.github._queue import APPLIED_TAG

from ..world import MASK_KEY, World
from .helpers import (
    JOE,
    JOE_EMAIL,
    TOM,
    TOM_EMAIL,
    change_live_identifier,
    plan_comment,
    queue,
    result_comment,
    reviewed,
)

# End to end (CLI subprocesses, a GitHub job run, signals, a full scenario): `-m "not slow"` skips it.
pytestmark = pytest.mark.slow


def test_reviewed_plan_is_applied_a_rerun_keeps_it_and_a_stale_one_is_approved_by_hand(world: World) -> None:
    # Pull request #1: Tom's new email. The plan comment is posted, bound to the head, for that change.
    world.open_pull_request(1, TOM_EMAIL)
    planned = world.plan_pull_request(1)
    assert not planned.failed, {n: s.stderr for n, s in planned.steps.items()}
    comment = plan_comment(world, 1)
    assert f"customer {TOM}:" in comment and "BLOCKED" not in comment and "tom@sawyer" not in comment
    plan_json = json.loads((planned.work / "plan.json").read_text(encoding="utf-8"))
    assert plan_json["checksum"] == reviewed(world, 1)

    # Merge; apply.yml applies that change under that checksum, and nothing else.
    world.sandbox.clear_log()
    before, merge = world.merge(1)
    applied = world.apply_push(before, merge)
    assert not applied.failed, {n: s.stderr for n, s in applied.steps.items()}
    assert [(m["sha"], m["checksum"]) for m in queue(applied)] == [(merge, reviewed(world, 1))]
    assert world.identifiers(TOM)["email"] == "tom@sawyer.example.com"
    assert world.writes() == [f"POST /v2/customers/{TOM}/changeIdentifier"]
    assert result_comment(world, 1).startswith(f"{RESULT_HEADING} Applied.")
    assert "verified 1 of 1 customers" in result_comment(world, 1)
    assert world.served.fake.refs == {f"tags/{APPLIED_TAG}": merge}

    # Re-running that apply: exit 0, no write, the Applied comment untouched.
    world.sandbox.clear_log()
    again = world.apply_push(before, merge)
    assert not again.failed and world.writes() == [] and queue(again) == []
    assert result_comment(world, 1).startswith(f"{RESULT_HEADING} Applied.")
    # Even with its bookkeeping lost (no tag, no result comment), the re-plan finds nothing left to do:
    # "already applied", exit 0, never stale.
    world.served.fake.refs.clear()
    world.served.fake.comments[1] = [
        c for c in world.served.fake.comments[1] if "reconciler-result" not in c["body"]
    ]
    lost = world.apply_push(before, merge)
    assert not lost.failed and world.writes() == [], {n: s.stderr for n, s in lost.steps.items()}
    assert result_comment(world, 1).startswith(f"{RESULT_HEADING} Applied (already")

    # Pull request #2: Joe's new email, reviewed; then someone changes Joe in Capillary directly.
    world.open_pull_request(2, JOE_EMAIL)
    assert not world.plan_pull_request(2).failed
    change_live_identifier(world.sandbox, JOE, "externalId", "EXT-LIVE-1")
    world.sandbox.clear_log()
    before, merge = world.merge(2)
    stale = world.apply_push(before, merge)
    assert stale.steps["Apply the merges in order"].code == 5 and stale.failed
    assert world.writes() == [] and world.identifiers(JOE)["email"] == "joe.harper@example.com"
    body = result_comment(world, 2)
    assert body.startswith(f"{RESULT_HEADING} STALE (exit 5)") and f"customer {JOE}:" in body
    assert read_plan_marker(body) is None  # the new plan it quotes is never taken for a reviewed one
    assert world.served.fake.refs == {f"tags/{APPLIED_TAG}": before}  # #2 stays pending
    new = re.search(r"checksum `([0-9a-f]{64})`", body)
    assert new is not None and new.group(1) != reviewed(world, 2)

    # The way out: apply.yml by hand with that merge and the new checksum.
    dispatched = world.apply_dispatch(merge, new.group(1))
    assert not dispatched.failed, {n: s.stderr for n, s in dispatched.steps.items()}
    assert world.writes() == [f"POST /v2/customers/{JOE}/changeIdentifier"]
    assert world.identifiers(JOE)["email"] == "joe@harper.example.com"
    assert result_comment(world, 2).startswith(f"{RESULT_HEADING} Applied.")
    assert world.served.fake.refs == {f"tags/{APPLIED_TAG}": merge}


def test_a_mask_key_differing_between_plan_and_apply_makes_the_apply_stale(world: World) -> None:
    world.open_pull_request(1, TOM_EMAIL)
    assert not world.plan_pull_request(1).failed
    world.secrets["RECONCILER_MASK_KEY"] = MASK_KEY + "-but-another-one"
    world.sandbox.clear_log()
    before, merge = world.merge(1)
    applied = world.apply_push(before, merge)
    assert applied.steps["Apply the merges in order"].code == 5
    assert world.writes() == [] and world.identifiers(TOM)["email"] == "tom.sawyer@example.com"


def test_drift_shards_find_the_live_change_and_open_one_issue(world: World) -> None:
    change_live_identifier(world.sandbox, JOE, "externalId", "EXT-LIVE-1")
    world.sandbox.clear_log()
    shards, report = world.drift(range(1, 5))
    codes = [run.steps["Plan shard"].code for run in shards]
    assert codes == [0, 0, 0, 0] and not report.failed  # 3 and 4 (drift, blocked) are reports, not failures
    assert world.writes() == []
    [issue] = world.served.fake.issues
    assert issue["state"] == "open" and [lbl["name"] for lbl in issue["labels"]] == ["reconciler-drift"]
    assert f"customer {JOE}:" in issue["body"] and "BLOCKED" in issue["body"]
    assert f"customer {JOE}:" in report.summary
    reports = [run.summary for run in shards]
    assert sum(f"customer {JOE}:" in text for text in reports) == 1  # every customer in exactly one shard
