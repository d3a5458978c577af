"""Benchmark: a repository of 100,000 customers in 1,000 files, loaded cold, loaded warm, and validated.

Run: ``python tests/perf/bench_load.py [--customers N] [--files F]``. It prints:

- ``cold load``: ``collect`` with an empty state cache (every file parsed, in worker processes, and cached);
- ``warm load``: the same again, every file's result from the cache (what plan and apply load);
- ``validate``: ``reconciler validate`` in a subprocess on the unchanged repository (the pre-commit hook),
  start-up included: once after the loads (it reads every file's entry, and remembers the state clean),
  and again (it reads the one entry of the whole state), the figure of the last line.

Each runs in a fresh process, so each peak memory is its own: the cold load's is the loading process's
plus, for the worker processes, the largest one's times their number (an upper bound of the whole). Each
line gives the wall time, the CPU time (which the machine's load changes less) and the memory.

The last line is ``load: N customers, cold S s, warm S s, validate S s, peak M MB (load average L)``.
Targets: warm < 5 s, validate < 1 s, < 1 GB. The state cache's key is made in the run's own
``XDG_STATE_HOME``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from reconciler.desired import collect, state_cache
from reconciler.desired.parallel import MAX_WORKERS, PARALLEL_FROM_FILES

CUSTOMER = """  - id: {id}
    note: Customer {id}
    identifiers:
      INSTORE:
        mobile: "91{n:010d}"
        email: customer.{n}@example.com
        externalId: EXT{n}
      WECHAT:wechat-con1:
        wechat: oWx{n:012x}
    cards:
      - number: "GOLD{n:09d}"
        series: 121212
        status: ACTIVE
      - series: DIGI01
    allow:
      merge_with: []
"""
CONFIG = "api:\n  url: sandbox\nstate_dir: state\n"


def generate(directory: Path, customers: int, files: int) -> None:
    """Write ``customers`` customers spread evenly over ``files`` state files."""
    per_file = -(-customers // files)
    for f in range(files):
        numbers = range(f * per_file, min(customers, (f + 1) * per_file))
        body = "".join(CUSTOMER.format(id=600_000_000 + n, n=n) for n in numbers)
        (directory / f"customers-{f:04d}.yaml").write_text(f"# generated\ncustomers:\n{body}")


def measure_load(root: Path) -> dict[str, object]:
    """Load the repository's state as plan does (through its cache, with the org's labels and series), in
    this process, which does nothing else: its peak memory is the load's."""
    start, cpu = time.perf_counter(), time.process_time()
    result = collect(
        [root / "state"], labels={"ACTIVE"}, series={121212, "DIGI01"}, root=root, cache=state_cache(root)
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "workers_cpu": children.ru_utime + children.ru_stime,
        "own_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_mb": children.ru_maxrss / 1024,  # the largest worker (an upper bound: see main)
        "customers": len(result.state.customers),
        "problems": [str(p) for p in result.problems[:3]],
        "digest": hashlib.sha256(repr(result.state).encode()).hexdigest(),
    }


def measure_validate(root: Path) -> dict[str, object]:
    """``reconciler validate`` in a subprocess of this small process (so that the child's peak memory is
    its own, not a copy of a large parent's), timed from its start to its exit."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": seconds,
        "cpu": children.ru_utime + children.ru_stime,
        "mb": children.ru_maxrss / 1024,
        "code": done.returncode,
        "out": done.stdout.strip()[:300],
    }


def phase(name: str, root: Path) -> dict[str, object]:
    """Run one phase in a fresh process and return what it measured."""
    done = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--root", str(root)],
        capture_output=True,
        text=True,
        check=True,
    )
    measured: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return measured


def main() -> int:
    """Generate; load cold, load warm and validate, each in its own process; report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=1_000)
    parser.add_argument("--phase", choices=["load", "validate"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps((measure_load if args.phase == "load" else measure_validate)(args.root)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["XDG_STATE_HOME"] = str(root / "user-state")  # the cache's key: this run's own
        os.environ.pop("RECONCILER_NO_CACHE", None)
        (root / "state").mkdir()
        (root / "reconciler.yaml").write_text(CONFIG)
        generate(root / "state", args.customers, args.files)
        cold, warm = phase("load", root), phase("load", root)
        first, again = phase("validate", root), phase("validate", root)
    return report(cold, warm, (first, again), args.files)


def print_validate(what: str, validated: dict[str, Any]) -> None:
    print(
        f"{what}: {validated['seconds']:.2f} s; cpu {validated['cpu']:.2f} s; {validated['mb']:.0f} MB: "
        f"{validated['out']}"
    )


def report(
    cold: dict[str, Any], warm: dict[str, Any], validations: tuple[dict[str, Any], dict[str, Any]], files: int
) -> int:
    """Print the figures; 1 if a load found problems or the warm load differs from the cold one."""
    first, validated = validations
    if cold["problems"] or warm["problems"] or first["code"] != 0 or validated["code"] != 0:
        print(f"unexpected problems: {cold['problems'] or warm['problems'] or validated['out']}")
        return 1
    if warm["digest"] != cold["digest"]:
        print("the warm load differs from the cold load", file=sys.stderr)
        return 1
    # A worker's peak includes the parent's memory when it was spawned (Linux counts the pages it started
    # with), so the largest worker times their number bounds the workers from above.
    workers = min(os.cpu_count() or 1, MAX_WORKERS) if files >= PARALLEL_FROM_FILES else 0
    peak_mb = max(cold["own_mb"] + workers * cold["worker_mb"], warm["own_mb"], validated["mb"])
    print(f"files: {files}, {workers} worker processes for the cold load")
    print(
        f"cold load (empty cache): {cold['seconds']:.2f} s; cpu {cold['cpu']:.2f} s here + "
        f"{cold['workers_cpu']:.2f} s in workers; {cold['own_mb']:.0f} MB + {workers} x "
        f"{cold['worker_mb']:.0f} MB"
    )
    seconds, cpu, warm_mb = warm["seconds"], warm["cpu"], warm["own_mb"]
    print(f"warm load (every file cached): {seconds:.2f} s; cpu {cpu:.2f} s; {warm_mb:.0f} MB")
    print_validate("validate after plan's load (every file's entry)", first)
    print_validate("validate again (the whole state remembered clean)", validated)
    print(
        f"load: {warm['customers']} customers, cold {cold['seconds']:.2f} s, warm {warm['seconds']:.2f} s, "
        f"validate {validated['seconds']:.2f} s, peak {peak_mb:.0f} MB "
        f"(load average {os.getloadavg()[0]:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
