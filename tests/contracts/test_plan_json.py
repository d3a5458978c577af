"""Every JSON plan the tool writes validates against ``schemas/plan.schema.json``, the schema it publishes:
the demo (blocked by its one merge, and unblocked), with and without the simulation, through ``--json-out``,
scoped, forced past a budget; apply's re-plan when the checksum is stale or the plan blocked; a simulation
that diverged; the golden files' plans. And the schema is strict enough to reject a plan broken in one key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.errors import EXIT_BLOCKED, EXIT_OK, EXIT_STALE
from reconciler.mask import MASK_KEY_ENV, choose_mask_key
from reconciler.plan import GENERATE_CARD
from reconciler.render import render_json
from reconciler.simulate import DIVERGED, PASSED
from tests.plan.org import declared
from tests.simulate.plant import card_moves_through_a_merge, relabel, reverse_releases, run_twin, unblock
from tests.testing import DIGI, Workspace, live_customer
from tests.unit.factory import card, desired, fixed_plan, live, make_plan, spec

from .schemas import PLAN, assert_valid, broken, parsed, problems

LYDIA = ('mobile: "919876543343"', 'mobile: "919876543336"')  # the demo's one blocked merge, and its fix


def _unblock_demo(root: Path) -> None:
    bennets = root / "state" / "bennets.yaml"
    text = bennets.read_text(encoding="utf-8")
    assert LYDIA[0] in text
    bennets.write_text(text.replace(*LYDIA), encoding="utf-8")


def _run(*args: str, code: int) -> Result:
    done = CliRunner().invoke(main, list(args))
    assert done.exit_code == code, done.output
    return done


def test_the_blocked_demo_plan_is_valid_with_and_without_its_simulation(demo_repo: Path) -> None:
    plan = parsed(_run("plan", "--format", "json", code=EXIT_BLOCKED).stdout)
    assert plan["blocked"] and plan["simulation"]["status"] == PASSED and plan["simulation"]["blocked"] == 1
    assert_valid(plan, PLAN)
    off = parsed(_run("plan", "--format", "json", "--no-simulate", code=EXIT_BLOCKED).stdout)
    assert "simulation" not in off
    assert_valid(off, PLAN)


def test_the_demo_plan_beside_the_golden_markdown_is_valid(demo_repo: Path) -> None:
    """``--json-out`` with the PR comment (the golden file's format): the same plan, as CI uploads it."""
    _run("plan", "--format", "markdown", "--json-out", "plan.json", code=EXIT_BLOCKED)
    assert_valid(parsed((demo_repo / "plan.json").read_text(encoding="utf-8")), PLAN)


def test_the_unblocked_demo_plan_is_valid(demo_repo: Path) -> None:
    _unblock_demo(demo_repo)
    plan = parsed(_run("plan", "--format", "json", code=EXIT_OK).stdout)
    assert not plan["blocked"] and plan["simulation"]["blocked"] == 0
    assert_valid(plan, PLAN)


@pytest.mark.slow
def test_a_scoped_and_a_forced_plan_are_valid(demo_repo: Path) -> None:
    _unblock_demo(demo_repo)
    whole = parsed(_run("plan", "--format", "json", code=EXIT_OK).stdout)
    one = whole["customers"][0]["id"]
    scoped = parsed(_run("plan", "--customer", str(one), "--format", "json", code=EXIT_OK).stdout)
    assert scoped["scope"] == {"customers": [one]}
    assert_valid(scoped, PLAN)
    config = demo_repo / "reconciler.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("max_removals: 50", "max_removals: 1"), encoding="utf-8")
    forced = parsed(_run("plan", "--force", "--format", "json", code=EXIT_OK).stdout)
    assert any(b["exceeded"] and b["forced"] for b in forced["budgets"]), forced["budgets"]
    assert_valid(forced, PLAN)


def test_apply_writes_a_valid_plan_when_it_refuses_one(demo_repo: Path) -> None:
    """A blocked re-plan and a stale one (the reviewed checksum no longer matches): apply prints the plan it
    made instead of a result, in the format asked."""
    blocked = _run("apply", "--auto-approve", "--format", "json", code=EXIT_BLOCKED)
    assert_valid(parsed(blocked.stdout), PLAN)
    _unblock_demo(demo_repo)
    stale = _run("apply", "--checksum", "0" * 64, "--format", "json", code=EXIT_STALE)
    assert "stale: the plan now has checksum" in stale.stderr
    replanned = parsed(stale.stdout)
    assert replanned["checksum"] != "0" * 64 and not replanned["blocked"]
    assert_valid(replanned, PLAN)


def test_apply_in_json_with_nothing_to_apply_or_a_diverged_twin_prints_a_valid_plan(ws: Workspace) -> None:
    """Nothing to apply: the plan, which says so. A diverged simulated apply: the plan with its simulation,
    as ``plan --format json`` shows it. Never text where JSON was asked."""
    nothing = CliRunner().invoke(
        main, ["apply", "--auto-approve", "--format", "json", "--config", str(ws.config_path)]
    )
    assert nothing.exit_code == EXIT_OK, nothing.output
    document = parsed(nothing.stdout)
    assert_valid(document, PLAN)
    assert not document["has_changes"] and not document["calls"]
    card_moves_through_a_merge(ws)
    diverged = CliRunner().invoke(
        main, ["apply", "--auto-approve", "--format", "json", "--config", str(ws.config_path)]
    )
    assert diverged.exit_code == EXIT_BLOCKED and "diverged (above)" in diverged.stderr, diverged.output
    document = parsed(diverged.stdout)
    assert_valid(document, PLAN)
    assert document["simulation"]["status"] == DIVERGED


@pytest.mark.slow
def test_a_diverged_simulation_is_valid(ws: Workspace) -> None:
    a, mobile = 9101, {"mobile": "919800001001"}
    ws.seed([live_customer(a, mobile)])
    ws.write_state([declared(a, mobile, cards=[{"series": DIGI}])])
    plan = ws.plan()
    gen = next(c for c in plan.calls if c.op == GENERATE_CARD)
    link = next(c for c in plan.calls if gen.id in c.after)
    planted = relabel(plan, link.id, "NOT_ISSUED")  # a label that cannot issue the generated card
    sim = run_twin(ws, planted)
    assert sim.status == DIVERGED and sim.divergences
    document = parsed(render_json(planted, sim.to_dict()))
    assert document["simulation"]["divergences"][0]["customer_id"] == a
    assert_valid(document, PLAN)


@pytest.mark.slow
def test_a_diverged_move_and_an_unallowed_merge_are_valid(ws: Workspace) -> None:
    a, b, mobile = 9101, 9102, {"mobile": "919800001001"}
    ws.seed([live_customer(a, mobile), live_customer(b, {"email": "b@example.com"})])
    ws.write_state([declared(a, {**mobile, "email": "b@example.com"}), declared(b, {})])
    plan = ws.plan()
    assert_valid(parsed(render_json(plan, run_twin(ws, plan).to_dict())), PLAN)
    moved_wrong = reverse_releases(plan)
    sim = run_twin(ws, moved_wrong)
    assert sim.status == DIVERGED
    assert_valid(parsed(render_json(moved_wrong, sim.to_dict())), PLAN)
    h = 9301
    ws.seed([live_customer(a, mobile), live_customer(h, None, wechat={"wechat-con1": {"email": "h@x.com"}})])
    ws.write_state([declared(a, {**mobile, "email": "h@x.com"})])
    merged = unblock(ws.plan(), lambda action: action.customer_id == a)
    sim = run_twin(ws, merged)
    assert sim.status == DIVERGED
    assert_valid(parsed(render_json(merged, sim.to_dict())), PLAN)


@pytest.fixture
def golden_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASK_KEY_ENV, raising=False)
    choose_mask_key(sandbox=True)  # the embedded sandbox's fixed key, as the golden files were made


@pytest.mark.usefixtures("golden_key")
def test_the_core_golden_plans_are_valid() -> None:
    """The plans tests/unit/golden renders (and the one with a blocked merge and an unknown customer)."""
    moved = make_plan(
        [desired(1, {"INSTORE": {}}, cards=[spec(121212, "GOLD7")]), desired(2, {"INSTORE": {}}, cards=[])],
        {1: live(1), 2: live(2, cards=[card("GOLD7", 2)])},
        card_holders={"GOLD7": card("GOLD7", 2)},
        unmanaged=[5],
    )
    for plan in (fixed_plan(), fixed_plan(hard=True), moved):
        assert_valid(parsed(render_json(plan)), PLAN)


# ----- strict enough to fail ------------------------------------------------------------------------

# Where a plan may lack a key and still be a plan: the simulation (--no-simulate), the scope (no
# --customer), a count of a kind or risk the plan has none of. A call's body is the API's, not ours.
OPTIONAL = re.compile(r"^(/-simulation|/-scope|/summary/(actions|risks)/-\w+|/cost/by_api/-.+)$")
FREE = re.compile(r"^/calls/\d+/(body|query)(/|$)")


def _rejections(document: dict[str, Any]) -> tuple[int, list[str]]:
    checked, accepted = 0, []
    for label, changed in broken(document, FREE):
        if OPTIONAL.match(label):
            continue
        checked += 1
        if not problems(changed, PLAN):
            accepted.append(label)
    return checked, accepted


@pytest.mark.slow
def test_a_plan_with_a_key_dropped_or_added_anywhere_is_rejected(demo_repo: Path) -> None:
    plan = parsed(_run("plan", "--format", "json", code=EXIT_BLOCKED).stdout)
    assert plan["simulation"] and plan["budgets"] and plan["calls"] and plan["customers"]
    checked, accepted = _rejections(plan)
    assert checked > 50 and not accepted, accepted
    assert problems({**plan, "simulation": {**plan["simulation"], "cost": 1}}, PLAN)
    assert problems({k: v for k, v in plan.items() if k != "checksum"}, PLAN)
