"""The demo, through the real CLI in a subprocess: no raw identifier value in logs at -vv, nor in the
masked outputs; and the two README commands' first one behaves as README says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.sandbox import demo_fixture

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A copy of the demo workspace (reconciler.yaml, state/) with a fresh embedded sandbox."""
    shutil.copy(ROOT / "reconciler.yaml", tmp_path / "reconciler.yaml")
    shutil.copytree(ROOT / "state", tmp_path / "state")
    return tmp_path


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPILLARY_", "RECONCILER_"))}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def raw_values() -> set[str]:
    """Every identifier value the demo org holds (cards are shown as their last digits by design)."""
    seed = demo_fixture()
    values = {i["value"] for c in seed["customers"] for p in c["profiles"] for i in p["identifiers"]}
    return {v for v in values if len(v) >= 6}


@pytest.mark.slow
def test_demo_plan_is_blocked_by_the_merge_and_logs_no_raw_value(demo: Path) -> None:
    text = run(demo, "-vv", "plan")
    assert text.returncode == 4, text.stderr
    assert text.stdout.startswith("Target: embedded sandbox (demo data)")
    assert "[merge, BLOCKED]" in text.stdout and "Traceback" not in text.stderr
    for fmt in ("markdown", "json"):
        masked = run(demo, "-vv", "plan", "--format", fmt)
        assert masked.returncode == 4
        leaked = {v for v in raw_values() if v in masked.stdout or v in masked.stderr or v in text.stderr}
        assert not leaked, f"raw values in {fmt} output or -vv logs: {sorted(leaked)[:3]}"


@pytest.mark.slow
def test_apply_logs_no_raw_value_and_converges(demo: Path) -> None:
    state = demo / "state" / "bennets.yaml"
    state.write_text(state.read_text().replace('mobile: "919876543343"', 'mobile: "919876543336"'))
    applied = run(demo, "-vv", "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert re.fullmatch(r"verified (\d+) of \1 customers", applied.stdout.rstrip().splitlines()[-1])
    leaked = {v for v in raw_values() if v in applied.stderr}
    assert not leaked, f"raw values in -vv apply logs: {sorted(leaked)[:3]}"
    again = run(demo, "plan", "--detailed-exitcode")
    assert again.returncode == 0 and "No changes." in again.stdout
