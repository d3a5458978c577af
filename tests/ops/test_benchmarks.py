"""The benchmarks (tests/perf, not collected) stay runnable: each script runs at a tiny size, no latency.

Nothing here is timed: the figures of a run this small mean nothing. It checks that each script ends well
and prints, per regime, the figures line (with the client's CPU per call) and its last line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# End to end (CLI subprocesses, a GitHub job run, signals, a full scenario): `-m "not slow"` skips it.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--latency-ms", "0", "--window", "1"]
FIGURES = r"\[{regime}\]: calls \d+, seconds [\d.]+, bound [\d.]+, ratio [\d.]+, client CPU [\d.]+ ms/call"


def _run(script: str, *args: str, fast: bool = True) -> str:
    """The script's output, run as a user runs it (tiny and with no latency, unless ``fast`` is off)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "perf" / script), *args, *(FAST if fast else [])],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def _ends_well(out: str, regimes: list[str], last: str) -> None:
    for regime in regimes:
        assert re.search(FIGURES.format(regime=regime), out), out
    assert re.fullmatch(rf"{last}: \d+\.\d\d", out.strip().splitlines()[-1]), out


def test_client_benchmark_runs_in_both_regimes() -> None:
    out = _run("bench_client.py", "--count", "10", "--regime", "both")
    _ends_well(out, ["real", "latency"], "client efficiency")


def test_plan_benchmark_runs_and_counts_calls_per_customer_with_bulk_reads_off_and_on() -> None:
    sizes = ["--customers", "20", "--declared", "20", "--no-change", "10"]
    out = _run("bench_plan.py", *sizes, "--regime", "latency")
    _ends_well(out, ["latency"], "plan efficiency")
    line = r"bulk reads (off|on): 10 customers, 0 actions, calls \d+, ([\d.]+) calls per customer"
    per = dict(re.findall(line, out))
    assert set(per) == {"off", "on"}, out
    assert float(per["on"]) < float(per["off"]), out  # a batch reads many customers in one call


def test_apply_benchmark_runs() -> None:
    out = _run("bench_apply.py", "--customers", "16", "--regime", "latency")
    _ends_well(out, ["latency"], "apply efficiency")
    assert "exit code 0;" in out, out


def test_backpressure_benchmark_runs_alone_and_beside_the_till() -> None:
    out = _run("bench_backpressure.py", "--customers", "8", "--limit", "60")
    for run in ("alone", "headers", "429s only"):
        assert re.search(rf"^{run}: apply [\d.]+ s, exit code 0 \(load average", out, re.M), out
    assert len(re.findall(r"^  till:  \d+ requests, \d+ 429s", out, re.M)) == 2, out


def test_the_two_checkout_race_script_runs_and_no_race_merges() -> None:
    out = _run("race_two_checkouts.py", "--races", "2", "--max-latency", "0.3", fast=False)
    assert re.search(r"^races: 2 in \d+ s; merges: 0; value held by other than one customer: 0$", out, re.M)
