"""Apply benchmark: apply ``--customers`` customers' changes (tests/apply/population.py: every kind of change,
moves between customers included) against a loopback sandbox (its own process), in both regimes of
regimes.py, the sandbox re-seeded before each.

"calls" counts every request of the run, each of which pays the latency: the re-plan's reads, the
per-customer precondition reads and holder checks, the writes, and the verification's re-reads. The bound
is that of regimes.py: in the real regime two APIs pass a window's limit (customer reads 1,250, holder
lookups 1,200 at 400 customers), so both their remainders wait for the second window and share the slots.
It assumes every call could run concurrently, which apply's re-plan before the first write and each
customer's chain (read, check, write, in sequence) do not allow. Prints, per regime, calls, seconds,
bound, ratio and the client's CPU ms per call (process time of this process, which runs only the client),
then the writes and the sandbox's CPU seconds. The last line is ``apply efficiency: X.XX``, the latency
regime's ratio (target 0.90 or better on an idle 2-core machine; the real regime's, 0.95). Asserts nothing.

Run: ``python tests/perf/bench_apply.py [--regime both] [--customers 400] [--window 60]`` (a default run
takes about two minutes at 150 ms latency: the real regime waits for a second window).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from regimes import Regime, add_arguments, regimes, report
from sandbox_process import admin, clear_log, request_log, serve_sandbox, set_latency

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reconciler.commands.apply import ApplyOptions, run_apply
from reconciler.commands.plan import compute_plan
from reconciler.commands.runner import run_async
from reconciler.plan.scope import Scope
from reconciler.workspace import ScopeOptions, Workspace, load_workspace, resolve_scope
from tests.apply import population


def workspace(tmp: Path, url: str, n: int, regime: Regime, *, bulk: bool = False) -> Path:
    """reconciler.yaml and the desired state; the config's path."""
    return population.write_repo(tmp / regime.name, url, n, f"  bulk_read: {'true' if bulk else 'false'}\n")


# The reads among the APIs (the bulk read is a POST that reads); every other API is a write.
READS = frozenset({"POST /v2/bulk/getCustomers"})


def reseed(url: str, fixture: dict[str, Any]) -> None:
    """The sandbox back to the population's live state (an earlier regime applied it)."""
    admin().post(f"{url}/_sandbox/reset").raise_for_status()
    admin().post(f"{url}/_sandbox/seed", json=fixture).raise_for_status()


def run(tmp: Path, url: str, n: int, regime: Regime, pid: int, *, bulk: bool = False) -> float:
    """Apply once in ``regime`` (timed); print its figures; returns the ratio."""
    ws = load_workspace(workspace(tmp, url, n, regime, bulk=bulk))
    # the regime's limit (0, none, is not a valid requests_per_minute in a file) and concurrency
    api = replace(ws.config.api, concurrency=regime.concurrency, requests_per_minute=regime.limit)
    ws = replace(ws, config=replace(ws.config, api=api))
    scope = resolve_scope(ws, ScopeOptions(all=True))
    # the reviewed plan (the pull request's, not counted), then the apply of its checksum, as on merge
    with contextlib.redirect_stderr(io.StringIO()):
        plan = run_async(compute_plan(ws, scope, progress=False))
    opts = ApplyOptions(plan.checksum, False, tmp / f"journal-{regime.name}.jsonl", False, "json")
    set_latency(url, regime.latency_ms)
    clear_log(url)
    server = _cpu_seconds(pid)
    started, cpu = time.perf_counter(), time.process_time()
    code = _quiet(ws, scope, opts, regime.window)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    server = _cpu_seconds(pid) - server
    log = request_log(url)
    ratio = report(f"apply ({n} customers)", regime, log["total"], seconds, cpu, log["countsByRoute"])
    by_api = log["countsByRoute"].items()
    writes = sum(count for api, count in by_api if not api.startswith("GET ") and api not in READS)
    per_write = log["total"] / writes if writes else 0.0
    print(f"  exit code {code}; {writes} writes; {per_write:.2f} calls per write; sandbox CPU {server:.2f} s")
    print(f"  calls by API: {json.dumps(log['countsByRoute'], sort_keys=True)}")
    return ratio


def main() -> None:
    """Seed a sandbox process, apply in each regime, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--bulk", action="store_true", help="api.bulk_read: true (customer reads in bulk)")
    args = parser.parse_args()
    # a loopback target counts as real: it needs a masking key
    os.environ.setdefault("RECONCILER_MASK_KEY", "benchmark-masking-key-not-secret")
    fixture = population.fixture(args.customers, 0)
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as name:
        tmp = Path(name)
        (tmp / "seed.json").write_text(json.dumps(fixture), encoding="utf-8")
        proc, url = serve_sandbox(["--seed", "seed.json"], cwd=tmp, stderr=subprocess.DEVNULL)
        try:
            ratio = 0.0
            for i, regime in enumerate(regimes(args)):
                print(regime.describe())
                if i:
                    reseed(url, fixture)
                ratio = run(tmp, url, args.customers, regime, proc.pid, bulk=args.bulk)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"apply efficiency: {ratio:.2f}")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _quiet(ws: Workspace, scope: Scope, opts: ApplyOptions, window: float) -> int:
    """Run apply as the CLI runs it, its result on stdout suppressed (only the figures are printed)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return run_async(run_apply(ws, scope, opts, rate_window=window))


if __name__ == "__main__":
    main()
