"""The workflows' GitHub steps run exactly as written (same script, same env) against the fake GitHub."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .fake_github import BOT
from .harness import Served, cli_shim, github_env, run_step_script
from .workflow_steps import resolve_env, step

MERGE_SHA = "9c1d5e0b7a3f2e4d6c8b0a1f3e5d7c9b1a2f4e6d"
HEAD = "5b7e3a1c9d0f2e4b6a8c1d3f5e7a9b0c2d4f6e8a"
NEW = "ef" * 32


@pytest.fixture
def runner_env(served: Served, tmp_path: Path) -> dict[str, str]:
    """What a runner provides: GITHUB_* variables, the output and summary files, reconciler on PATH."""
    bin_dir = tmp_path / "bin"
    cli_shim(bin_dir)
    (tmp_path / "work").mkdir()
    return github_env(
        served,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        GITHUB_SHA=MERGE_SHA,
        GITHUB_OUTPUT=str(tmp_path / "output"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary"),
    )


def run(
    workflow: str, label: str, env: dict[str, str], served: Served, **context: str
) -> subprocess.CompletedProcess[str]:
    """Run one step's script as written, its ``${{ }}`` env resolved from ``context``."""
    s = step(workflow, label)
    assert s.run is not None
    context = {"github.token": served.fake.token, **context}
    work = Path(env["GITHUB_OUTPUT"]).parent / "work"
    return run_step_script(s.run, env | resolve_env(s.env, context), work)


@pytest.mark.slow
def test_plan_workflow_comment_step_updates_the_one_plan_comment(
    served: Served, runner_env: dict[str, str]
) -> None:
    work = Path(runner_env["GITHUB_OUTPUT"]).parent / "work"
    (work / "plan.md").write_text(f"## Plan\n\n1 to add\n\n<!-- reconciler-plan checksum={NEW} -->\n")
    (work / "target-note.md").write_text("")
    for _ in range(2):
        pr = {"github.event.pull_request.number": "42", "github.event.pull_request.head.sha": HEAD}
        done = run("reusable-plan.yml", "Comment on the pull request", runner_env, served, **pr)
        assert done.returncode == 0, done.stderr
    bot = [c for c in served.fake.comments[42] if c["user"]["login"] == BOT["login"]]
    assert len(bot) == 1 and NEW in bot[0]["body"]


@pytest.mark.parametrize(
    ("shards", "state", "summary"),
    [
        ({"drift-1.md": "## Shard 1\n\n2 differ.\n", "drift-2.md": ""}, "open", "2 differ"),
        ({"drift-1.md": "", "drift-2.md": ""}, "closed", "No drift."),
    ],
    ids=["drift", "clean"],
)
@pytest.mark.slow
def test_drift_workflow_report_step_keeps_one_issue(
    served: Served, runner_env: dict[str, str], shards: dict[str, str], state: str, summary: str
) -> None:
    drift_dir = Path(runner_env["GITHUB_OUTPUT"]).parent / "work" / "drift"
    drift_dir.mkdir()
    for name, text in shards.items():
        (drift_dir / name).write_text(text)
    done = run("reusable-drift.yml", "Drift issue", runner_env, served)
    assert done.returncode == 0, done.stderr
    [issue] = served.fake.issues
    assert issue["state"] == state and summary in Path(runner_env["GITHUB_STEP_SUMMARY"]).read_text()
