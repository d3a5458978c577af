"""Backpressure benchmark: an apply while another client of the org (a store's till) spends part of the quota.

The sandbox runs in its own process with its rate limit on (``--limit`` requests per API per ``--window``
seconds, one count for every client, as the real limit is per API key). The till reads customers the apply
does not touch at a fixed pace (``--till-share`` of the limit, on the API the apply reads most:
``GET /v2/customers/{id}``), whatever the answers, from before the apply starts until it ends. The apply
(``tests/apply/population.py``, as ``bench_apply.py``) runs as the CLI runs it, configured at the org's whole
limit (``api.requests_per_minute`` = ``--limit``, the window shortened to ``--window`` on both sides).

Three runs: the apply alone (the reference), beside the till with the org's ``X-RateLimit-*`` headers on
(the client paces from their figures), and beside the till with 429s as the only signal (Capillary
documents no header). Each prints, for both clients, the requests, the 429s, the most 429s in any one
window and the longest run of consecutive 429s (a burst), and the rate each achieved on the shared API
(per window, and as a share of what the other leaves), then the apply's time and exit code, and the
client's notes on the progress line. The load average is printed beside the figures. Asserts nothing.

Run: ``python tests/perf/bench_backpressure.py [--customers 100] [--limit 120] [--window 6]
[--till-share 0.4] [--latency-ms 20]`` (about two minutes).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sandbox_process import admin, clear_log, request_log, serve_sandbox, set_latency

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from reconciler.commands.apply import ApplyOptions, run_apply
from reconciler.commands.progress import PACE_LOG
from reconciler.commands.runner import run_async
from reconciler.workspace import ScopeOptions, load_workspace, resolve_scope
from tests.apply import population

SHARED = "/v2/customers/{id}"


@dataclass
class Till:
    """The org's other client: ``per_window`` customer reads a window, on a fixed schedule."""

    url: str
    ids: list[int]
    per_window: float
    window: float
    statuses: list[tuple[float, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """Read until stopped, one request every ``window / per_window`` seconds."""
        every, due, i = self.window / self.per_window, time.monotonic(), 0
        headers = {"Authorization": _basic("sandbox.till", "sandbox")}  # the sandbox's credentials
        with httpx.Client(base_url=self.url, trust_env=False, timeout=30) as client:
            while not self.stop.is_set():
                cid = self.ids[i % len(self.ids)]
                answer = client.get(f"/v2/customers/{cid}", params={"source": "ALL"}, headers=headers)
                self.statuses.append((time.time(), answer.status_code))  # the sandbox log's clock
                i, due = i + 1, due + every
                self.stop.wait(max(0.0, due - time.monotonic()))


def _basic(till: str, password: str) -> str:
    """The sandbox's Basic header (the API's scheme: till and the MD5 of the password)."""
    digest = hashlib.md5(password.encode()).hexdigest()
    return "Basic " + base64.b64encode(f"{till}:{digest}".encode()).decode()


def workspace(root: Path, url: str, n: int, limit: int) -> Path:
    """reconciler.yaml at the org's whole limit, and the desired state; the config's path."""
    return population.write_repo(root, url, n, f"  concurrency: 16\n  requests_per_minute: {limit}\n")


class Notes(logging.Handler):
    """Counts the client's pacing notes (the lines shown beside the progress) and keeps the first few."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep one note."""
        self.lines.append(record.getMessage())


def apply_once(root: Path, url: str, args: argparse.Namespace) -> tuple[int, float, float, Notes]:
    """Run the apply as the CLI runs it (result suppressed); its exit code, start (epoch), seconds, notes."""
    ws = load_workspace(workspace(root, url, args.customers, args.limit))
    scope = resolve_scope(ws, ScopeOptions(all=True))
    opts = ApplyOptions(None, True, root / "journal.jsonl", False, "json")
    notes, pace = Notes(), logging.getLogger(PACE_LOG)
    pace.addHandler(notes)
    started, epoch = time.perf_counter(), time.time()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = run_async(run_apply(ws, scope, opts, rate_window=args.window))
    finally:
        pace.removeHandler(notes)
    return code, epoch, time.perf_counter() - started, notes


def run(name: str, url: str, fixture: dict[str, Any], args: argparse.Namespace, *, till: bool) -> None:
    """One run: reseed, set the limit, start the till (if any), apply, print the figures."""
    time.sleep(args.window)  # the last run's requests leave the sandbox's windows (a reset keeps them)
    admin().post(f"{url}/_sandbox/reset").raise_for_status()
    admin().post(f"{url}/_sandbox/seed", json=fixture).raise_for_status()
    settings = {
        "rate_limit_per_minute": args.limit,
        "rate_limit_window_seconds": float(args.window),
        "rate_limit_headers": name == "headers",
    }
    admin().put(f"{url}/_sandbox/settings", json=settings).raise_for_status()
    set_latency(url, args.latency_ms)
    clear_log(url)
    undeclared = sorted(population.undeclared_ids(args.customers, args.customers // 4))
    other = Till(url, undeclared, args.till_share * args.limit, args.window)
    thread = threading.Thread(target=other.run, daemon=True)
    if till:
        thread.start()
        time.sleep(args.window)  # the till has been at it for a window when the apply starts
    with tempfile.TemporaryDirectory(prefix="bench-backpressure-") as tmp:
        code, epoch, seconds, notes = apply_once(Path(tmp), url, args)
    other.stop.set()
    if till:
        thread.join()
    report(name, args, (code, epoch, seconds, notes), other)


def report(name: str, args: argparse.Namespace, result: tuple[int, float, float, Notes], till: Till) -> None:
    """The figures of one run, both clients."""
    code, epoch, seconds, notes = result
    till_paths = {f"/v2/customers/{cid}" for cid in till.ids}
    ours = [e for e in request_log(till.url)["requests"] if e["path"] not in till_paths]
    shared = [e["time"] for e in ours if e["route"] == SHARED and e["method"] == "GET"]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{name}: apply {seconds:.1f} s, exit code {code} (load average {load})")
    left = args.limit * (1 - (args.till_share if till.statuses else 0))
    average = len(shared) / (seconds / args.window)
    refused = _refusals([e["time"] - epoch for e in ours if e["status"] == 429], args.window)
    print(
        f"  apply: {len(ours)} requests, {refused}, "
        f"longest run {_longest_run([e['status'] for e in ours])}; {SHARED}: {len(shared)} reads, "
        f"{average:.1f} a window on average, at most {_most_in_window(shared, args.window)} in one "
        f"(the limit leaves it {left:.0f})"
    )
    if till.statuses:
        statuses = [s for _, s in till.statuses]
        span = till.statuses[-1][0] - till.statuses[0][0]
        served = sum(1 for s in statuses if s != 429) / (span / args.window) if span else 0.0
        refused = _refusals([t - epoch for t, s in till.statuses if s == 429], args.window)
        print(
            f"  till:  {len(statuses)} requests, {refused}, "
            f"longest run {_longest_run(statuses)}; served {served:.1f} a window of the "
            f"{till.per_window:.0f} it asks"
        )
    more = f"; ... ({len(notes.lines)} in all)" if len(notes.lines) > 3 else ""
    print(f"  notes on the progress line: {'; '.join(notes.lines[:3]) + more or 'none'}")


def _refusals(times: list[float], window: float) -> str:
    """``N 429s (at most M in a window, the last T s into the apply)``; ``times`` from the apply's start."""
    if not times:
        return "0 429s"
    most, last = _most_in_window(times, window), max(times)
    return f"{len(times)} 429s (at most {most} in a window, the last {last:.1f} s into the apply)"


def _most_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)


def _longest_run(statuses: list[int]) -> int:
    best = run = 0
    for status in statuses:
        run = run + 1 if status == 429 else 0
        best = max(best, run)
    return best


def main() -> None:
    """Seed a sandbox process; apply alone, then beside the till with and without the rate-limit headers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--limit", type=int, default=120, help="requests per API per window (the org's)")
    parser.add_argument("--window", type=float, default=6.0, help="the limit's window in seconds")
    parser.add_argument("--till-share", type=float, default=0.4, help="the till's share of the limit")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    os.environ.setdefault("RECONCILER_MASK_KEY", "benchmark-masking-key-not-secret")
    fixture = population.fixture(args.customers, args.customers // 4)
    print(
        f"{args.customers} customers; limit {args.limit} per API per {args.window:g} s window, shared by "
        f"both clients; till {args.till_share:.0%} of it on {SHARED}; latency {args.latency_ms:g} ms"
    )
    with tempfile.TemporaryDirectory(prefix="bench-backpressure-") as name:
        proc, url = serve_sandbox([], cwd=Path(name), stderr=subprocess.DEVNULL)
        try:
            run("alone", url, fixture, args, till=False)
            run("headers", url, fixture, args, till=True)
            run("429s only", url, fixture, args, till=True)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
