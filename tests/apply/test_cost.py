"""The plan's stated apply cost is what the apply spends: the sandbox's request log counts every request
of ``reconciler apply --checksum`` (the re-plan under the lock, the preconditions, the holder checks, the
writes, the verification) and the plan's figure must be within 5 % of it, API by API where nothing is
batched. And ``safety.max_calls`` blocks a plan that would spend more, unless ``--force``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.commands.apply import ApplyOptions, run_apply
from reconciler.commands.plan import compute_plan
from reconciler.commands.runner import run_async
from reconciler.errors import EXIT_BLOCKED, EXIT_OK
from reconciler.plan import Plan
from reconciler.sandbox.server import SandboxServer
from reconciler.workspace import ScopeOptions, load_workspace, resolve_scope
from tests.apply import population
from tests.testing import Workspace, demo_state, make_workspace, serve


def _plan_then_apply(
    ws: Workspace, capsys: pytest.CaptureFixture[str], options: ScopeOptions | None = None
) -> tuple[Plan, dict[str, Any]]:
    """The reviewed plan, then the apply of its checksum; the requests the apply sent, as counted by the
    sandbox."""
    space = load_workspace(ws.config_path)
    scope = resolve_scope(space, options or ScopeOptions(all=True))
    plan = asyncio.run(compute_plan(space, scope, progress=False))
    assert plan.cost is not None and not plan.blocked
    ws.server.clear_log()
    opts = ApplyOptions(plan.checksum, False, ws.root / "journal.jsonl", False, "json")
    code = run_async(run_apply(space, scope, opts))
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    assert json.loads(out)["verification"]["verified"] == len({c.customer_id for c in plan.calls})
    return plan, ws.server.request_log()


def _within(plan: Plan, log: dict[str, Any], share: float = 0.05) -> None:
    assert plan.cost is not None
    stated, counted = plan.cost.calls, log["total"]
    assert abs(stated - counted) <= share * counted, (plan.cost.to_dict(), log["countsByRoute"])


@pytest.mark.slow
def test_the_demo_apply_spends_what_its_plan_states(
    tmp_path: Path, demo_server: SandboxServer, oauth_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = make_workspace(tmp_path, demo_server, demo_state(), auth="oauth")
    plan, log = _plan_then_apply(ws, capsys)
    assert plan.cost is not None
    assert dict(plan.cost.by_api) == log["countsByRoute"]  # exactly, API by API (the OAuth token too)
    assert "POST /v3/oauth/token/generate" in log["countsByRoute"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("bulk", "verify"),
    [(False, "auto"), (True, "auto"), (False, "reread")],
    ids=["single-reads", "bulk-reads", "every-customer-re-read"],
)
def test_the_benchmarks_apply_spends_what_its_plan_states(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bulk: bool, verify: str
) -> None:
    n = 40  # every kind of change five times, moves between customers included
    srv = serve(population.fixture(n, 4))
    try:
        ws = make_workspace(
            tmp_path,
            srv,
            {"population.yaml": population.state_yaml(n)},
            safety={"verify": verify},
            bulk_read=bulk,
            bulk_batch_size=16,
        )
        plan, log = _plan_then_apply(ws, capsys)
    finally:
        srv.stop()
    _within(plan, log)
    if not bulk:  # nothing is batched: every API's count is foreseen exactly
        assert plan.cost is not None
        assert dict(plan.cost.by_api) == log["countsByRoute"]


@pytest.mark.slow
def test_a_plan_that_would_spend_more_than_max_calls_is_blocked_unless_forced(
    tmp_path: Path, demo_server: SandboxServer
) -> None:
    ws = make_workspace(tmp_path, demo_server, demo_state(), safety={"max_calls": 10})
    over = ws.plan_cli("--no-simulate")
    assert over.exit_code == EXIT_BLOCKED, over.output
    assert "safety.max_calls:" in over.stdout and "exceeded" in over.stdout
    forced = ws.plan_cli("--no-simulate", "--force")
    assert forced.exit_code == EXIT_OK, forced.output
    assert "(overridden by --force)" in forced.stdout
    ws.configure(api={"auth": "basic"}, safety={"max_calls": 100000})
    within = ws.plan_cli("--no-simulate", "--format", "json")
    assert within.exit_code == EXIT_OK, within.output
    plan = json.loads(within.stdout)
    budget = next(b for b in plan["budgets"] if b["name"] == "safety.max_calls")
    assert budget["actual"] == plan["cost"]["calls"] and not budget["exceeded"]


def test_every_plan_states_its_cost_in_text_markdown_and_json(
    tmp_path: Path, demo_server: SandboxServer
) -> None:
    ws = make_workspace(tmp_path, demo_server, demo_state())
    text = ws.plan_cli("--no-simulate").stdout
    markdown = ws.plan_cli("--no-simulate", "--format", "markdown").stdout
    data = json.loads(ws.plan_cli("--no-simulate", "--format", "json").stdout)
    calls = data["cost"]["calls"]
    assert calls > 0 and sum(data["cost"]["by_api"].values()) == calls
    line = f"Apply cost: about {calls:,} API calls"
    assert line in text and line in markdown
    assert "at 100,000/min per API" in text  # the tests' requests_per_minute


@pytest.mark.slow
def test_a_holder_pulled_into_the_scope_is_looked_up_again_and_the_reviewed_plan_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--customer`` 0 takes customer 7's email (a move): the plan pulls 7 into its scope from a lookup.
    Apply's re-plan, which takes holders from the customers it reads, cannot see 7 hold it, so its checksum
    differs; it plans again with every lookup, finds the reviewed plan, and applies it, both customers
    verified. The stated cost counts both re-plans."""
    n = 8
    srv = serve(population.fixture(n, 0))
    try:
        ws = make_workspace(tmp_path, srv, {"population.yaml": population.state_yaml(n)})
        scope = ScopeOptions(customers=(population.cid(0),))
        plan, log = _plan_then_apply(ws, capsys, scope)
        assert {c.customer_id for c in plan.calls} == {population.cid(0), population.cid(7)}
        assert plan.observed is not None and population.cid(7) in plan.observed.joined
        assert log["countsByRoute"]["GET /v2/customers/lookup/customerDetails"] > 0  # the second re-plan
    finally:
        srv.stop()
    assert plan.cost is not None
    assert dict(plan.cost.by_api) == log["countsByRoute"]
