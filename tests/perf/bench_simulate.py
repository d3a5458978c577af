"""Simulation benchmark: what the simulated apply adds to a full plan, in both regimes of regimes.py.

The plan is bench_plan.py's full plan: ``--customers`` declared customers (2,500 by default), one in ten
changing its mobile (2 actions each: 500 actions, 250 calls, and the holder lookups they need), against a
loopback sandbox in its own process. For each regime it times the plan (its reads and its build), then the
simulated apply of that plan (seeding the twin, running the calls on it in process, reading it back and
judging it), and prints both, the simulation's share of the plan's wall time, the requests the simulation
sent to the target (the sandbox's request log; it must be 0) and its CPU ms per simulated call (process
time of this process). The last line is ``simulation overhead: X.X %`` for the real regime (the users':
1,000 calls per minute, 150 ms; target under 10 %). Asserts nothing.

Run: ``python tests/perf/bench_simulate.py [--regime both] [--customers 2500] [--window 60]``
(a default run takes about four minutes: the real regime's plan spans more than two windows).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench_plan import full_blocks, loaded, start_sandbox, workspace
from regimes import add_arguments, regimes
from sandbox_process import clear_log, request_log, set_latency

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reconciler.commands.plan import compute_plan, simulate_plan
from reconciler.commands.runner import run_async


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--customers", type=int, default=2500)
    args = parser.parse_args()
    os.environ.setdefault("CAPILLARY_OAUTH_KEY", "sandbox")
    os.environ.setdefault("CAPILLARY_OAUTH_SECRET", "sandbox")
    os.environ.setdefault("RECONCILER_MASK_KEY", "benchmark-masking-key-not-secret")
    overhead = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-simulate-") as name:
        tmp = Path(name)
        proc, url = start_sandbox(tmp, args.customers)
        try:
            ws, scope = loaded(workspace(tmp / "full", url, full_blocks(args.customers)))
            for regime in regimes(args):
                print(regime.describe())
                set_latency(url, regime.latency_ms)
                api = replace(ws.config.api, concurrency=regime.concurrency, requests_per_minute=regime.limit)
                rws = replace(ws, config=replace(ws.config, api=api))
                started = time.perf_counter()
                plan = run_async(compute_plan(rws, scope, progress=False, rate_window=regime.window))
                plan_s = time.perf_counter() - started
                clear_log(url)
                started, cpu = time.perf_counter(), time.process_time()
                sim = run_async(simulate_plan(plan, rws))
                sim_s, cpu = time.perf_counter() - started, time.process_time() - cpu
                sent = request_log(url)["total"]
                share = 100 * sim_s / plan_s
                print(
                    f"  plan: {plan.customers_in_scope} customers, {len(plan.actions)} actions, "
                    f"{len(plan.calls)} calls, {plan_s:.2f} s"
                )
                print(
                    f"  simulated apply: {sim.summary()}; {sim_s:.2f} s ({share:.1f} % of the plan), "
                    f"{sent} requests to the target, {1000 * cpu / max(1, sim.calls):.2f} ms CPU per call"
                )
                if regime.name == "real":
                    overhead = share
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"simulation overhead: {overhead:.1f} %")


if __name__ == "__main__":
    main()
