"""The verdict where reviewers look: the demo plan proves itself in text, markdown and JSON; the twin
costs the target no request; apply refuses a plan whose simulation diverged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.commands import apply as apply_command
from reconciler.errors import EXIT_BLOCKED, EXIT_OK
from reconciler.sandbox.server import SandboxServer
from tests.simulate.plant import card_moves_through_a_merge
from tests.testing import Workspace, route_counts, writes

REPO = Path(__file__).resolve().parents[2]
DEMO_LINE = (
    "Simulated apply: 9 of 9 customers reach the declared state (13 calls; 1 blocked change left undone, "
    "as planned)"
)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_the_demo_plan_says_every_customer_reaches_the_declared_state(demo_repo: Path, fmt: str) -> None:
    shown = CliRunner().invoke(main, ["plan", "--format", fmt])
    assert shown.exit_code == EXIT_BLOCKED  # the demo's one merge nobody allowed
    assert DEMO_LINE in shown.stdout.splitlines()
    if fmt == "markdown":  # near the summary: within the comment's first lines
        assert DEMO_LINE in shown.stdout.splitlines()[:8]
    off = CliRunner().invoke(main, ["plan", "--format", fmt, "--no-simulate"])
    assert "Simulated apply" not in off.stdout
    checksum = [x for x in shown.stdout.splitlines() if "Checksum" in x or "checksum" in x]
    assert checksum and checksum == [x for x in off.stdout.splitlines() if "Checksum" in x or "checksum" in x]


def test_the_quickstart_plan_says_all_8_customers_reach_it(demo_repo: Path) -> None:
    """README's quickstart: once Lydia has her own number back, nothing is blocked."""
    bennets = demo_repo / "state" / "bennets.yaml"
    text = bennets.read_text(encoding="utf-8")
    assert 'mobile: "919876543343"' in text
    bennets.write_text(text.replace('mobile: "919876543343"', 'mobile: "919876543336"'), encoding="utf-8")
    shown = CliRunner().invoke(main, ["plan"])
    assert shown.exit_code == EXIT_OK, shown.stdout
    line = "Simulated apply: 8 of 8 customers reach the declared state (12 calls)"
    assert line in shown.stdout.splitlines()


def test_the_demo_json_plan_carries_the_simulation(demo_repo: Path) -> None:
    shown = CliRunner().invoke(main, ["plan", "--format", "json"])
    data = json.loads(shown.stdout)
    assert data["simulation"] == {
        "status": "passed",
        "customers": 9,
        "reached": 9,
        "calls": 13,
        "blocked": 1,
        "divergences": [],
        "not_simulated": [],
    }
    off = json.loads(CliRunner().invoke(main, ["plan", "--format", "json", "--no-simulate"]).stdout)
    assert "simulation" not in off
    assert off["checksum"] == data["checksum"]  # the checksum covers the plan, not its simulation


def test_the_config_key_turns_it_off(demo_repo: Path) -> None:
    config = demo_repo / "reconciler.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "simulate: false\n", encoding="utf-8")
    assert "Simulated apply" not in CliRunner().invoke(main, ["plan"]).stdout


@pytest.mark.slow
def test_a_simulated_plan_makes_exactly_the_requests_of_an_unsimulated_one(
    tmp_path: Path, oauth_env: None
) -> None:
    with SandboxServer(seed="demo") as server:
        ws = Workspace(tmp_path / "repo", server)
        ws.configure(manage={"identifiers": ["mobile", "email", "externalId", "wechat"], "cards": True})
        for path in (REPO / "state").glob("*.yaml"):
            shutil.copy(path, ws.root / "state" / path.name)
        counts = {}
        for args in ((), ("--no-simulate",)):
            server.clear_log()
            shown = ws.plan_cli(*args)
            assert shown.exit_code == EXIT_BLOCKED, shown.stdout
            assert ("Simulated apply: 9 of 9" in shown.stdout) == (not args)
            counts[args] = route_counts(ws.requests())
            assert writes(ws.requests()) == []
        assert counts[()] == counts[("--no-simulate",)]
        assert sum(counts[()].values()) > 0


LOOKUP = "/v2/customers/lookup/customerDetails"


@pytest.mark.parametrize(
    "worker", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["twin-here", "twin-in-a-worker"]
)
def test_apply_refuses_a_plan_whose_simulation_diverged_with_one_line(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, worker: bool
) -> None:
    """In this process, or (a scope of ``TWIN_PROCESS_FROM`` customers or more) in a worker process beside
    the precondition reads: the divergence stops the apply before its first holder check."""
    if worker:
        monkeypatch.setattr(apply_command, "TWIN_PROCESS_FROM", 1)
    card_moves_through_a_merge(ws)
    done = CliRunner().invoke(main, ["apply", "--auto-approve", "--all", "--config", str(ws.config_path)])
    assert done.exit_code == EXIT_BLOCKED, done.output
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: the simulated apply of this plan diverged (above): nothing was written"]
    assert "customer 9301: still to delink" in done.stderr
    assert writes(ws.requests()) == []  # the ws fixture checks it again: nothing reached the org
    applied_lookups = sum(1 for e in ws.requests() if e["route"] == LOOKUP)
    off = CliRunner().invoke(main, ["plan", "--no-simulate", "--config", str(ws.config_path)])
    assert off.exit_code == EXIT_OK  # without the twin, this plan would have been applied
    # the apply's lookups were its re-plan's (as many as this plan's): no holder check ran
    assert sum(1 for e in ws.requests() if e["route"] == LOOKUP) == 2 * applied_lookups


@pytest.mark.slow
def test_a_twin_in_its_worker_process_lets_the_reviewed_plan_apply(
    demo_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apply_command, "TWIN_PROCESS_FROM", 1)
    planned = CliRunner().invoke(main, ["plan", "--format", "json", "--config", str(demo_ws.config_path)])
    checksum = json.loads(planned.stdout)["checksum"]
    done = CliRunner().invoke(main, ["apply", "--checksum", checksum, "--config", str(demo_ws.config_path)])
    assert done.exit_code == EXIT_OK, done.output
    assert done.stdout.splitlines()[-1] == "verified 9 of 9 customers"  # demo_state: Lydia keeps a new number
