"""Benchmark: a repository of 100,000 customers in 1,000 files, loaded cold, loaded warm, and validated.

Run: ``python tests/perf/bench_load.py [--customers N] [--files F]``. It prints:

- ``cold load``: ``collect`` with an empty state cache (every file parsed, in worker processes, and cached);
- ``warm load``: the same again, every file's result from the cache (what plan and apply load);
- ``validate``: ``reconciler validate`` in a subprocess on the unchanged repository (the pre-commit hook),
  start-up included;
- ``memory``: the peak resident memory of this process plus, for the worker processes, the largest one's
  times their number (an upper bound of the whole), and the validate subprocess's.

The last line is ``load: N customers, cold S s, warm S s, validate S s, M MB``. Targets: warm < 5 s,
validate < 1 s, < 1 GB. The state cache's key is made in the run's own ``XDG_STATE_HOME``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reconciler.desired import LoadResult, collect, state_cache
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


def timed_load(root: Path) -> tuple[LoadResult, float]:
    """Load the repository's state as plan does (through its cache), with the org's labels and series."""
    start = time.perf_counter()
    result = collect(
        [root / "state"],
        labels={"ACTIVE"},
        series={121212, "DIGI01"},
        root=root,
        cache=state_cache(root),
    )
    return result, time.perf_counter() - start


def timed_validate(root: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return done, time.perf_counter() - start


def main() -> int:
    """Generate, load cold and warm, validate, report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["XDG_STATE_HOME"] = str(root / "user-state")
        os.environ.pop("RECONCILER_NO_CACHE", None)
        (root / "state").mkdir()
        (root / "reconciler.yaml").write_text(CONFIG)
        generate(root / "state", args.customers, args.files)
        cold, cold_s = timed_load(root)
        workers_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest worker
        warm, warm_s = timed_load(root)
        validated, validate_s = timed_validate(root)
    if cold.problems or warm.problems or validated.returncode != 0:
        print(f"unexpected problems: {(cold.problems or warm.problems)[:3]} {validated.stdout[:300]}")
        return 1
    if warm.state != cold.state:
        print("the warm load differs from the cold load", file=sys.stderr)
        return 1
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    validate_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    workers = min(os.cpu_count() or 1, MAX_WORKERS) if args.files >= PARALLEL_FROM_FILES else 0
    peak_mb = own_mb + workers * workers_mb
    customers = len(warm.state.customers)
    print(f"files: {len(warm.state.files)}, {workers} worker processes for the cold load")
    print(f"cold load (empty cache): {cold_s:.2f} s")
    print(f"warm load (every file cached): {warm_s:.2f} s")
    print(f"validate, unchanged repository (subprocess): {validate_s:.2f} s: {validated.stdout.strip()}")
    print(
        f"memory: this process {own_mb:.0f} MB, largest worker {workers_mb:.0f} MB, "
        f"validate {validate_mb:.0f} MB"
    )
    print(
        f"load: {customers} customers, cold {cold_s:.2f} s, warm {warm_s:.2f} s, "
        f"validate {validate_s:.2f} s, {peak_mb:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
