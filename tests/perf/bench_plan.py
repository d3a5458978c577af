"""Benchmark: a full plan of 10,000 customers and a ``--changed-since`` plan on 100,000 declared customers.

The sandbox runs as a separate process (``reconciler sandbox serve``) with 20 ms latency on every endpoint,
so the planner's measured time is not inflated by the server's CPU work. For each plan it prints the API
calls (from the sandbox's request log), the seconds the plan took to read and build, the bound
``max(calls / rate, calls x latency / concurrency)`` and bound / seconds. The last line is
``plan efficiency: X.XX`` (the full plan). Target: >= 0.85. Asserts nothing about wall-clock time.

Run: ``python tests/perf/bench_plan.py [--customers 10000] [--declared 100000] [--latency-ms 20]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for the plan test helpers

from sandbox_process import serve_sandbox  # this folder: the script's own

from reconciler.commands.plan import compute_plan
from reconciler.commands.runner import run_async
from reconciler.workspace import load_workspace, resolve_scope
from tests.plan import bulk
from tests.plan.harness import seed_fixture


def start_sandbox(tmp: Path, declared: int, latency_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    """A sandbox process seeded with ``declared`` generated customers, ``latency_ms`` on every endpoint."""
    fixture, faults = tmp / "seed.json", tmp / "faults.json"
    fixture.write_text(json.dumps(seed_fixture(bulk.seed_customers(declared))), encoding="utf-8")
    faults.write_text(
        json.dumps({"seed": 1, "endpoints": {"*": {"latency_ms": latency_ms}}}), encoding="utf-8"
    )
    args = ["--seed", str(fixture), "--faults", str(faults)]
    return serve_sandbox(args, stderr=subprocess.DEVNULL)


def workspace(root: Path, url: str, rpm: int, concurrency: int) -> Path:
    """reconciler.yaml for a plan against ``url``; returns its path."""
    root.mkdir(parents=True)
    config = {
        "api": {"url": url, "auth": "oauth", "requests_per_minute": rpm, "concurrency": concurrency},
        "manage": {"identifiers": ["mobile", "email", "externalId"], "cards": True},
        "safety": {"max_removals": 1_000_000},
    }
    path = root / "reconciler.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def measure(config_path: Path, url: str, changed_since: str | None = None) -> dict[str, Any]:
    """Load, select the scope, then time the plan (reads and build); calls from the request log."""
    started = time.perf_counter()
    ws = load_workspace(config_path)
    scope = resolve_scope(ws, False, changed_since, None)
    loaded = time.perf_counter()
    httpx.delete(f"{url}/_sandbox/requests").raise_for_status()
    plan = run_async(compute_plan(ws, scope, progress=False))  # as the CLI runs it
    seconds = time.perf_counter() - loaded
    log = httpx.get(f"{url}/_sandbox/requests", timeout=60).json()
    return {
        "calls": log["total"],
        "seconds": seconds,
        "load": loaded - started,
        "actions": len(plan.actions),
        "customers": plan.customers_in_scope,
        "by_route": log["countsByRoute"],
    }


def full_plan(tmp: Path, url: str, n: int, rpm: int, concurrency: int) -> dict[str, Any]:
    """Every one of ``n`` declared customers read; one in ten changes its mobile (a holder lookup)."""
    config = workspace(tmp / "full", url, rpm, concurrency)
    blocks = {i: bulk.block(i, mobile_value=bulk.mobile(i, 8) if i % 10 == 0 else None) for i in range(n)}
    bulk.write_files(config.parent / "state", blocks)
    return measure(config, url)


def pr_plan(tmp: Path, url: str, declared: int, rpm: int, concurrency: int) -> dict[str, Any]:
    """``declared`` customers committed; 10 changed in the working tree; ``--changed-since HEAD``."""
    config = workspace(tmp / "pr", url, rpm, concurrency)
    blocks = {i: bulk.block(i) for i in range(declared)}
    bulk.write_files(config.parent / "state", blocks)
    bulk.commit_all(config.parent, "declare")
    for i in range(0, declared, declared // 10):
        blocks[i] = bulk.block(i, mobile_value=bulk.mobile(i, 8))
    bulk.write_files(config.parent / "state", blocks)
    return measure(config, url, changed_since="HEAD")


def report(name: str, m: dict[str, Any], rate: float, latency: float, concurrency: int) -> float:
    """Print one plan's figures; returns bound / seconds."""
    bound = max(m["calls"] / rate, m["calls"] * latency / concurrency)
    ratio = float(bound / m["seconds"])
    print(
        f"{name}: {m['customers']} customers in scope, {m['actions']} actions, calls {m['calls']}, "
        f"seconds {m['seconds']:.2f} (load+scope {m['load']:.2f} s not counted), bound {bound:.2f}, "
        f"ratio {ratio:.2f}"
    )
    print(f"  calls by route: {json.dumps(m['by_route'], sort_keys=True)}")
    return ratio


def main() -> None:
    """Run both plans against one sandbox process and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--declared", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rpm", type=int, default=600_000, help="api.requests_per_minute (per API)")
    args = parser.parse_args()
    os.environ.setdefault("CAPILLARY_OAUTH_KEY", "sandbox")
    os.environ.setdefault("CAPILLARY_OAUTH_SECRET", "sandbox")
    # a loopback target counts as real: it needs a masking key
    os.environ.setdefault("RECONCILER_MASK_KEY", "benchmark-masking-key-not-secret")
    rate, latency = args.rpm / 60, args.latency_ms / 1000
    print(f"sandbox process, {args.latency_ms:g} ms latency; concurrency {args.concurrency}, {args.rpm}/min")
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as name:
        tmp = Path(name)
        proc, url = start_sandbox(tmp, max(args.declared, args.customers), args.latency_ms)
        try:
            full = full_plan(tmp, url, args.customers, args.rpm, args.concurrency)
            pr = pr_plan(tmp, url, args.declared, args.rpm, args.concurrency)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    efficiency = report("full plan", full, rate, latency, args.concurrency)
    report("changed-since plan", pr, rate, latency, args.concurrency)
    print(f"plan efficiency: {efficiency:.2f}")


if __name__ == "__main__":
    main()
