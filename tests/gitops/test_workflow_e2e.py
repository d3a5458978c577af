"""Acceptance for issue #7: the workflows' steps, run as the runner runs them, against the sandbox.

A git remote holds the demo state on main (whose plan against the demo seed has changes elsewhere, one
of them blocked: the drift every real org has); pull requests change one customer each. plan.yml runs
on the pull request's merge ref and posts the marked comment; after the merge, apply.yml finds that
comment's checksum and applies exactly the reviewed change; a live change made between review and
merge makes the next apply stale without a single write; drift.yml's shards find the drift and keep
one issue. Capillary is the sandbox on loopback; GitHub is the recorded fake on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.github import PLAN_MARKER, RESULT_HEADING, extract_checksum
from reconciler.sandbox.server import SandboxServer

from .fake_github import BOT, FakeGitHub
from .harness import Served
from .world import MASK_KEY, ZEROS, World

TOM, JOE = 564854782, 564854815
TOM_EMAIL = {"state/instore.yaml": ("email: tom.sawyer@example.com", "email: tom@sawyer.example.com")}
JOE_EMAIL = {"state/instore.yaml": ("email: joe.harper@example.com", "email: joe@harper.example.com")}


@pytest.fixture
def fake() -> FakeGitHub:
    """A repository with no pull requests, comments or issues yet (overrides the recorded one)."""
    return FakeGitHub()


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed="demo") as srv:
        yield srv


@pytest.fixture
def world(tmp_path: Path, sandbox: SandboxServer, served: Served) -> World:
    return World(tmp_path, sandbox, served)


def bot_comments(world: World, number: int) -> list[str]:
    return [c["body"] for c in world.served.fake.comments.get(number, []) if c["user"] == BOT]


def plan_comment(world: World, number: int) -> str:
    [body] = [b for b in bot_comments(world, number) if PLAN_MARKER in b]
    return body


def result_comment(world: World, number: int) -> str:
    [body] = [b for b in bot_comments(world, number) if "<!-- reconciler-result" in b]
    return body


def change_live_identifier(sandbox: SandboxServer, customer: int, kind: str, value: str) -> None:
    """An out-of-band change, made through the Capillary API itself as a store's till would."""
    response = httpx.post(
        f"{sandbox.url}/v2/customers/{customer}/changeIdentifier",
        params={"source": "INSTORE"},
        json={"add": [{"type": kind, "value": value}]},
        headers=sandbox.basic_auth(),
    )
    assert response.status_code == 200 and response.json()["warnings"] == []


def test_reviewed_plan_is_applied_then_a_live_change_makes_the_next_apply_stale(world: World) -> None:
    # Pull request #1: Tom's new email. The plan comment is posted, marked, for that change alone.
    world.open_pull_request(1, TOM_EMAIL)
    planned = world.plan_pull_request(1)
    assert not planned.failed, {n: s.stderr for n, s in planned.steps.items()}
    comment = plan_comment(world, 1)
    reviewed = extract_checksum(comment)
    assert reviewed is not None and f"customer {TOM}:" in comment and "BLOCKED" not in comment
    assert "tom@sawyer" not in comment and planned.summary in comment  # masked; the summary is the comment
    plan_json = json.loads((planned.work / "plan.json").read_text(encoding="utf-8"))
    assert plan_json["checksum"] == reviewed  # live unchanged between the two reads: the same plan

    # Merge; apply.yml finds the reviewed checksum and applies that change, and nothing else.
    world.sandbox.clear_log()
    before, merge = world.merge(1)
    applied = world.apply_push(before, merge)
    assert not applied.failed, {n: s.stderr for n, s in applied.steps.items()}
    assert applied.steps["Find the reviewed plan"].outputs == {"checksum": reviewed}
    assert applied.steps["Apply the reviewed plan"].outputs == {"exit-code": "0"}
    assert world.identifiers(TOM)["email"] == "tom@sawyer.example.com"
    assert world.writes() == [f"POST /v2/customers/{TOM}/changeIdentifier"]
    assert result_comment(world, 1).split("\n")[1] == f"{RESULT_HEADING} Applied."
    assert "verified 1 of 1 customers" in result_comment(world, 1)
    assert applied.summary.startswith(f"{RESULT_HEADING} Applied.")

    # Pull request #2: Joe's new email, reviewed; then someone changes Joe in Capillary directly.
    world.open_pull_request(2, JOE_EMAIL)
    assert not world.plan_pull_request(2).failed
    reviewed_2 = extract_checksum(plan_comment(world, 2))
    change_live_identifier(world.sandbox, JOE, "externalId", "EXT-LIVE-1")
    world.sandbox.clear_log()
    before, merge = world.merge(2)
    stale = world.apply_push(before, merge)

    # Stale: exit 5, the job fails, not one write, the result says so first, then the new plan.
    assert stale.steps["Find the reviewed plan"].outputs == {"checksum": reviewed_2}
    assert stale.steps["Apply the reviewed plan"].code == 5 and stale.failed
    assert world.writes() == []
    assert world.identifiers(JOE) == {
        "email": "joe.harper@example.com",
        "mobile": "919876543238",
        "externalId": "EXT-LIVE-1",
    }
    body = result_comment(world, 2)
    assert body.split("\n")[1].startswith(f"{RESULT_HEADING} STALE (exit 5)")
    assert "nothing was written" in body.lower() and f"customer {JOE}:" in body
    assert extract_checksum(body) is None  # the new plan it quotes can never be taken for a reviewed one
    assert stale.steps["Post the result to the pull request"].outcome == "success"
    assert stale.summary.startswith("**Apply exited with code 5**")


def test_a_push_without_a_before_sha_replans_everything(world: World) -> None:
    # A push that creates main has no "before": the re-plan covers every declared customer, and the
    # demo's pending changes elsewhere include a blocked merge, so this apply is refused.
    world.open_pull_request(1, TOM_EMAIL)
    assert not world.plan_pull_request(1).failed
    world.sandbox.clear_log()
    _, merge = world.merge(1)
    refused = world.apply_push(ZEROS, merge)
    assert refused.steps["Apply the reviewed plan"].code == 4 and world.writes() == []
    assert result_comment(world, 1).split("\n")[1].startswith(f"{RESULT_HEADING} BLOCKED (exit 4)")
    assert "customer 564854958" in result_comment(world, 1)  # not in the pull request: --all was used


def test_a_mask_key_differing_between_plan_and_apply_makes_the_apply_stale(world: World) -> None:
    world.open_pull_request(1, TOM_EMAIL)
    assert not world.plan_pull_request(1).failed
    world.secrets["RECONCILER_MASK_KEY"] = MASK_KEY + "-but-another-one"
    world.sandbox.clear_log()
    before, merge = world.merge(1)
    applied = world.apply_push(before, merge)
    assert applied.steps["Apply the reviewed plan"].code == 5
    assert world.writes() == [] and world.identifiers(TOM)["email"] == "tom.sawyer@example.com"


def test_drift_shards_find_the_live_change_and_open_one_issue(world: World) -> None:
    change_live_identifier(world.sandbox, JOE, "externalId", "EXT-LIVE-1")
    world.sandbox.clear_log()
    shards, report = world.drift(range(1, 5))
    codes = [run.steps["Plan shard"].code for run in shards]
    assert codes == [0, 0, 0, 0] and not report.failed  # 3 and 4 (drift, blocked) are reports, not failures
    assert world.writes() == []
    [issue] = world.served.fake.issues
    assert issue["state"] == "open" and issue["labels"] == [{"name": "reconciler-drift"}]
    assert f"customer {JOE}:" in issue["body"] and "BLOCKED" in issue["body"]
    assert f"customer {JOE}:" in report.summary
    reports = [run.summary for run in shards]
    assert sum(f"customer {JOE}:" in text for text in reports) == 1  # every customer in exactly one shard
