"""Plan benchmark: a full plan and a ``--changed-since`` plan against a loopback sandbox (its own process), in
both regimes of regimes.py; then the calls per customer of a full no-change plan, bulk reads off and on.

The full plan reads ``--customers`` declared customers (2,500 by default); one in ten changes its mobile, so
the plan also looks up the new number's holder (in each of the demo org's three scopes). In the real regime
the reads are the busiest API: 2,500 fill two windows and half a third, and the lookups (which need their
customer read first) use the slots the reads leave free while they wait for a window. At an exact multiple
of 1,000 there is no such wait in the last window, and the lookups of its customers come on top of a bound
that does not count them. The changed-since plan has ``--declared`` customers
(5,000) committed and ten changed in the working tree. For each plan and regime it prints calls (the
sandbox's request log), seconds (the reads and the build: loading the state and selecting the scope are not
counted), bound, ratio and the client's CPU ms per call (process time of this process, which runs only the
client). The bound is regimes.py's, or the plan's chain of dependent round trips (``CHAIN``) if longer. The
no-change plans run without latency: they count requests, they do not time them. The last line is
``plan efficiency: X.XX``, the latency regime's full-plan ratio (target 0.90 or better on an idle 2-core
machine; the real regime's, 0.95). Asserts nothing.

Run: ``python tests/perf/bench_plan.py [--regime both] [--customers 2500] [--declared 5000] [--window 60]``
(a default run takes about three minutes: the real regime's plan spans two minute-long windows and half a
third).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import yaml
from regimes import Regime, add_arguments, regimes, report
from sandbox_process import clear_log, request_log, serve_sandbox, set_latency

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for the plan test helpers

from reconciler.commands.plan import compute_plan
from reconciler.commands.runner import run_async
from reconciler.plan.scope import Scope
from reconciler.workspace import ScopeOptions, Workspace, load_workspace, resolve_scope
from tests.plan import bulk
from tests.testing.seed import seed_fixture

# A plan's round trips that follow one another: the token, the series (the first request: it authenticates
# and fails fast alone), the org's sources (they need the org id the series carry), a customer's read, then
# the lookup of a holder it adds. A small plan is bound by these, not by its calls.
CHAIN = 5


@dataclass
class Measured:
    calls: int
    per_api: dict[str, int]
    seconds: float
    cpu: float
    customers: int
    actions: int


def start_sandbox(tmp: Path, declared: int) -> tuple[subprocess.Popen[bytes], str]:
    """A sandbox process seeded with ``declared`` generated customers (latency is set per regime)."""
    fixture = tmp / "seed.json"
    fixture.write_text(json.dumps(seed_fixture(bulk.seed_customers(declared))), encoding="utf-8")
    return serve_sandbox(["--seed", str(fixture)], stderr=subprocess.DEVNULL)


def workspace(root: Path, url: str, blocks: dict[int, str], *, bulk_read: bool = False) -> Path:
    """reconciler.yaml and the state files for a plan against ``url``; returns the config's path."""
    root.mkdir(parents=True)
    config = {
        "api": {"url": url, "auth": "oauth", "bulk_read": bulk_read},
        "manage": {"identifiers": ["mobile", "email", "externalId"], "cards": True},
        "safety": {"max_removals": 1_000_000},
    }
    path = root / "reconciler.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    bulk.write_files(root / "state", blocks)
    return path


def loaded(config_path: Path, changed_since: str | None = None) -> tuple[Workspace, Scope]:
    """The workspace and its scope, as the CLI loads them (not timed)."""
    ws = load_workspace(config_path)
    return ws, resolve_scope(ws, ScopeOptions(changed_since=changed_since))


def measure(ws: Workspace, scope: Scope, url: str, regime: Regime) -> Measured:
    """Time one plan (its reads and its build) in ``regime``; calls from the request log."""
    api = replace(ws.config.api, concurrency=regime.concurrency, requests_per_minute=regime.limit)
    ws = replace(ws, config=replace(ws.config, api=api))
    clear_log(url)
    started, cpu = time.perf_counter(), time.process_time()
    plan = run_async(compute_plan(ws, scope, progress=False, rate_window=regime.window))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    log = request_log(url)
    counts = log["countsByRoute"]
    return Measured(log["total"], counts, seconds, cpu, plan.customers_in_scope, len(plan.actions))


def full_blocks(n: int) -> dict[int, str]:
    """``n`` declared customers; one in ten changes its mobile (a holder lookup)."""
    return {i: bulk.block(i, mobile_value=bulk.mobile(i, 8) if i % 10 == 0 else None) for i in range(n)}


def pr_workspace(root: Path, url: str, declared: int) -> Path:
    """``declared`` customers committed; ten changed in the working tree (``--changed-since HEAD``)."""
    blocks = {i: bulk.block(i) for i in range(declared)}
    config = workspace(root, url, blocks)
    bulk.commit_all(root, "declare")
    for i in range(0, declared, max(1, declared // 10)):
        blocks[i] = bulk.block(i, mobile_value=bulk.mobile(i, 8))
    bulk.write_files(root / "state", blocks)
    return config


def show(name: str, regime: Regime, m: Measured) -> float:
    """One plan's figures line and its calls by API; returns the ratio."""
    label = f"{name} ({m.customers} customers, {m.actions} actions)"
    ratio = report(label, regime, m.calls, m.seconds, m.cpu, m.per_api, CHAIN)
    print(f"  calls by API: {json.dumps(m.per_api, sort_keys=True)}")
    return ratio


def no_change(tmp: Path, url: str, n: int) -> None:
    """Calls per customer of a full plan where desired == live, bulk reads off and on (no latency)."""
    set_latency(url, 0)
    blocks = {i: bulk.block(i) for i in range(n)}
    for bulk_read in (False, True):
        ws, scope = loaded(workspace(tmp / f"same-{bulk_read}", url, blocks, bulk_read=bulk_read))
        latency = Regime("no-change", 0, 16, 0, 60.0)
        m = measure(ws, scope, url, latency)
        state = "on" if bulk_read else "off"
        print(
            f"no-change full plan, bulk reads {state}: {n} customers, {m.actions} actions, calls {m.calls}, "
            f"{m.calls / n:.3f} calls per customer"
        )


def main() -> None:
    """Run the plans in each regime against one sandbox process and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--customers", type=int, default=2500, help="the full plan's customers")
    parser.add_argument("--declared", type=int, default=5_000, help="the changed-since plan's customers")
    parser.add_argument("--no-change", type=int, default=500, help="the no-change plans' customers")
    args = parser.parse_args()
    os.environ.setdefault("CAPILLARY_OAUTH_KEY", "sandbox")
    os.environ.setdefault("CAPILLARY_OAUTH_SECRET", "sandbox")
    # a loopback target counts as real: it needs a masking key
    os.environ.setdefault("RECONCILER_MASK_KEY", "benchmark-masking-key-not-secret")
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as name:
        tmp = Path(name)
        proc, url = start_sandbox(tmp, max(args.declared, args.customers, args.no_change))
        try:
            full = loaded(workspace(tmp / "full", url, full_blocks(args.customers)))
            pr = loaded(pr_workspace(tmp / "pr", url, args.declared), "HEAD")
            ratio = 0.0
            for regime in regimes(args):
                print(regime.describe())
                set_latency(url, regime.latency_ms)
                ratio = show("full plan", regime, measure(*full, url, regime))
                show("changed-since plan", regime, measure(*pr, url, regime))
            no_change(tmp, url, args.no_change)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"plan efficiency: {ratio:.2f}")


if __name__ == "__main__":
    main()
