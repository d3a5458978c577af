"""Benchmark: generate 100,000 customers over 1,000 files, load and validate them, print time and memory.

Run: ``python tests/perf/bench_load.py [--customers N] [--files F]``. The last line is
``load: N customers, S s, M MB`` (M = peak resident memory of this process plus that of its largest worker
process, times the number of workers: an upper bound of the whole). Target: < 10 s, < 1 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from reconciler.desired import collect
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


def generate(directory: Path, customers: int, files: int) -> None:
    """Write ``customers`` customers spread evenly over ``files`` state files."""
    per_file = -(-customers // files)
    for f in range(files):
        numbers = range(f * per_file, min(customers, (f + 1) * per_file))
        body = "".join(CUSTOMER.format(id=600_000_000 + n, n=n) for n in numbers)
        (directory / f"customers-{f:04d}.yaml").write_text(f"# generated\ncustomers:\n{body}")


def main() -> int:
    """Generate, load, validate, report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        generate(directory, args.customers, args.files)
        start, cpu = time.perf_counter(), time.process_time()
        result = collect([directory], labels={"ACTIVE"}, series={121212, "DIGI01"})
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if result.problems:
        print(f"unexpected problems: {result.problems[:3]}", file=sys.stderr)
        return 1
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest worker
    workers = min(os.cpu_count() or 1, MAX_WORKERS) if args.files >= PARALLEL_FROM_FILES else 0
    peak_mb = own_mb + workers * worker_mb
    print(
        f"files: {len(result.state.files)}, cpu time {cpu:.2f} s in this process, {workers} worker processes"
    )
    print(f"memory: this process {own_mb:.0f} MB, largest worker {worker_mb:.0f} MB")
    print(f"load: {len(result.state.customers)} customers, {seconds:.2f} s, {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
