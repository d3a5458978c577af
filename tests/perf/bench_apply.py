"""Benchmark: apply 2,000 customers' changes against a loopback sandbox (a separate process) with 20 ms
latency per request. Prints calls, seconds, the bound max(calls / rate, calls x latency / concurrency) and
their ratio; the last line is ``apply efficiency: X.XX`` (bound / seconds; target 0.85 or better).

Run: ``python tests/perf/bench_apply.py [N]``. "calls" counts every request of the run (the re-plan's reads,
the per-customer precondition reads and the writes): each one pays the latency. Asserts nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sandbox_process import serve_sandbox  # this folder: the script's own

from reconciler.commands.apply import ApplyOptions, run_apply
from reconciler.commands.runner import run_async
from reconciler.plan.scope import Scope
from reconciler.workspace import Workspace, load_workspace, resolve_scope
from tests.apply import population

LATENCY_MS = 20
CONCURRENCY = 16
RATE_PER_MINUTE = 100_000


def _serve(tmp: Path, n: int) -> tuple[subprocess.Popen[bytes], str]:
    (tmp / "seed.json").write_text(json.dumps(population.fixture(n, 0)))
    (tmp / "faults.json").write_text(json.dumps({"endpoints": {"*": {"latency_ms": LATENCY_MS}}}))
    return serve_sandbox(["--seed", "seed.json", "--faults", "faults.json"], cwd=tmp)


def _workspace(tmp: Path, url: str, n: int) -> Path:
    config = f"""api:
  url: {url}
  auth: basic
  concurrency: {CONCURRENCY}
  requests_per_minute: {RATE_PER_MINUTE}
manage:
  identifiers: [mobile, email, externalId, wechat]
safety:
  max_removals: 1000000
  max_removal_ratio: 1.0
"""
    (tmp / "reconciler.yaml").write_text(config)
    (tmp / "state").mkdir()
    (tmp / "state" / "population.yaml").write_text(population.state_yaml(n))
    return tmp / "reconciler.yaml"


def main(n: int) -> None:
    """Seed, apply once (timed), count the requests, print the figures."""
    # a loopback target counts as real: it needs a masking key
    os.environ.setdefault("RECONCILER_MASK_KEY", "benchmark-masking-key-not-secret")
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as name:
        tmp = Path(name)
        proc, url = _serve(tmp, n)
        try:
            ws = load_workspace(_workspace(tmp, url, n))
            scope = resolve_scope(ws, True, None, None)
            httpx.delete(f"{url}/_sandbox/requests")
            opts = ApplyOptions(None, True, tmp / "journal.jsonl", False, "json")
            server_before = _cpu_seconds(proc.pid)
            started, cpu = time.monotonic(), time.process_time()
            code = _quiet(ws, scope, opts)
            seconds, client_cpu = time.monotonic() - started, time.process_time() - cpu
            log = httpx.get(f"{url}/_sandbox/requests", timeout=60).json()
            server_cpu = _cpu_seconds(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    calls = log["total"]
    writes = sum(1 for e in log["requests"] if e["method"] != "GET")
    bound = max(calls / (RATE_PER_MINUTE / 60), calls * LATENCY_MS / 1000 / CONCURRENCY)
    print(f"customers: {n}  exit code: {code}")
    print(f"calls: {calls} ({writes} writes)  latency: {LATENCY_MS} ms  concurrency: {CONCURRENCY}")
    print(f"cpu seconds: client {client_cpu:.2f}, sandbox {server_cpu - server_before:.2f}")
    print(f"seconds: {seconds:.2f}  bound: {bound:.2f}  ratio (seconds / bound): {seconds / bound:.2f}")
    print(f"apply efficiency: {bound / seconds:.2f}")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _quiet(ws: Workspace, scope: Scope, opts: ApplyOptions) -> int:
    """Run apply with its result on stdout suppressed (only the figures are printed)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return run_async(run_apply(ws, scope, opts))  # as the CLI runs it


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
