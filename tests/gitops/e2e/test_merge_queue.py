"""No merge is ever left unapplied: each apply run covers every merge since the applied tag, in order,
each under its own reviewed checksum; a pending merge holds back only later merges of the same files."""

from __future__ import annotations

import pytest

from reconciler.github import RESULT_HEADING
from reconciler.github._queue import APPLIED_TAG

from ..world import World
from .helpers import (
    JANE,
    JANE_EMAIL,
    JOE,
    JOE_EMAIL,
    TOM,
    TOM_EMAIL,
    change_live_identifier,
    queue,
    result_comment,
    reviewed,
)

# End to end (CLI subprocesses, a GitHub job run, signals, a full scenario): `-m "not slow"` skips it.
pytestmark = pytest.mark.slow


def _customers_in_write_order(world: World) -> list[int]:
    """The customers written to, each once, in the order of their first write."""
    ids = [int(w.split("/")[3]) for w in world.writes()]
    return list(dict.fromkeys(ids))


def _plan_all(world: World, edits: list[dict[str, tuple[str, str]]]) -> None:
    for number, edit in enumerate(edits, start=1):
        world.open_pull_request(number, edit)
        planned = world.plan_pull_request(number)
        assert not planned.failed, {n: s.stderr for n, s in planned.steps.items()}


@pytest.mark.parametrize("second_run", ["cancelled", "failed"])
def test_the_third_run_applies_the_second_and_third_merges_in_order(world: World, second_run: str) -> None:
    _plan_all(world, [TOM_EMAIL, JOE_EMAIL, JANE_EMAIL])
    before, first = world.merge(1)
    assert not world.apply_push(before, first).failed
    before, second = world.merge(2)
    if second_run == "failed":  # e.g. the write client's secret rotated: the run fails, #2 stays pending
        world.secrets["CAPILLARY_OAUTH_SECRET"] = "rotated-away"
        assert world.apply_push(before, second).failed
        assert result_comment(world, 2).startswith(f"{RESULT_HEADING} ERROR")
        world.secrets["CAPILLARY_OAUTH_SECRET"] = "sandbox"
    assert world.served.fake.refs == {f"tags/{APPLIED_TAG}": first}
    before, third = world.merge(3)
    world.sandbox.clear_log()
    run = world.apply_push(before, third)
    assert not run.failed, {n: s.stderr for n, s in run.steps.items()}
    expected = [(second, reviewed(world, 2)), (third, reviewed(world, 3))]
    assert [(m["sha"], m["checksum"]) for m in queue(run)] == expected
    assert _customers_in_write_order(world) == [JOE, JANE]  # in merge order
    assert world.identifiers(JOE)["email"] == "joe@harper.example.com"
    for number in (2, 3):
        assert result_comment(world, number).startswith(f"{RESULT_HEADING} Applied.")
    assert world.served.fake.refs == {f"tags/{APPLIED_TAG}": third}


def test_a_stale_merge_holds_back_only_later_merges_of_the_same_files(world: World) -> None:
    tom_again = {"state/instore.yaml": ('mobile: "919876543210"', 'mobile: "919876543299"')}
    _plan_all(world, [JOE_EMAIL, JANE_EMAIL])
    change_live_identifier(world.sandbox, JOE, "externalId", "EXT-LIVE-1")  # makes #1 stale
    start, first = world.merge(1)
    assert world.apply_push(start, first).failed
    _, second = world.merge(2)
    world.open_pull_request(3, tom_again)
    assert not world.plan_pull_request(3).failed
    before, third = world.merge(3)
    world.sandbox.clear_log()
    run = world.apply_push(before, third)
    assert run.failed  # #1 is still stale
    assert _customers_in_write_order(world) == [JANE]  # bennets.yaml: applied; instore.yaml: waits for #1
    assert result_comment(world, 1).startswith(f"{RESULT_HEADING} STALE (exit 5)")
    assert result_comment(world, 2).startswith(f"{RESULT_HEADING} Applied.")
    assert result_comment(world, 3).startswith(f"{RESULT_HEADING} PENDING. waits for #1")
    assert world.served.fake.refs == {f"tags/{APPLIED_TAG}": start}  # where the first run began
    assert world.identifiers(TOM)["mobile"] != "919876543299"
    assert second in {m["sha"] for m in queue(run)}
