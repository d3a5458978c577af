"""Runs an apply of the synthetic population as a subprocess and checks its journal against the sandbox.

A seeded latency on every endpoint keeps the writes going long enough to interrupt them; the test waits
for the journal's Nth intent line (not for a time), so the point of interruption is deterministic in
the number of writes announced.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.apply.journal import read_journal
from reconciler.sandbox.server import SandboxServer
from tests.apply import population
from tests.apply.accounting import journal_classes, log_classes
from tests.testing import Workspace, make_workspace, serve

N = 96  # customers; every one has at least one write
WRITE_ROUTES = (
    "POST /v2/customers/{id}/changeIdentifier",
    "POST /v2/card",
    "PUT /v2/card",
    "POST /v2/card/generate",
)
JOURNAL = "run.jsonl"


@dataclass
class Run:
    server: SandboxServer
    ws: Workspace
    journal: Path

    def events(self) -> list[dict[str, Any]]:
        return read_journal(self.journal)

    def start(self, preexec: Callable[[], None] | None = None) -> subprocess.Popen[str]:
        args = ["apply", "--auto-approve", "--journal", str(self.journal)]
        return subprocess.Popen(
            [sys.executable, "-m", "reconciler", *args],
            cwd=self.ws.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=preexec,
        )


def prepare(tmp_path: Path, seed: int, journal: Path | None = None, write_ms: int = 40) -> Run:
    """The population in a sandbox whose writes take ``write_ms`` (reads stay fast: a short re-plan)."""
    server = serve(population.fixture(N, N // 10))
    ws = make_workspace(tmp_path, server, {"population.yaml": population.state_yaml(N)}, concurrency=4)
    latency = {route: {"latency_ms": write_ms} for route in WRITE_ROUTES}
    server.set_faults({"seed": seed, "endpoints": latency})
    return Run(server, ws, journal or tmp_path / JOURNAL)


def lines(path: Path, event: str) -> int:
    try:
        return path.read_bytes().count(f'"event":"{event}"'.encode())
    except FileNotFoundError:  # not yet written, or the writability probe's empty file removed again
        return 0


def wait_for(run: Run, proc: subprocess.Popen[str], event: str, n: int) -> None:
    """Until the journal has ``n`` lines of ``event`` (the apply still running)."""
    deadline = time.monotonic() + 120
    while lines(run.journal, event) < n and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert proc.poll() is None, f"apply ended before its journal showed {n} {event} lines"


def interrupt_after(run: Run, proc: subprocess.Popen[str], n: int, signals: int = 1) -> tuple[str, str]:
    """SIGINT once the journal shows ``n`` intents; a second one once it shows the stop."""
    # the sandbox before any write (the apply is still starting): a snapshot taken after the intents could
    # already hold the first writes (card writes commit on arrival), and then wait for one that never comes
    before = run.server.dump() if signals == 2 else None
    wait_for(run, proc, "intent", n)
    if signals == 2:  # the second SIGINT must find a write in flight: one that committed, unanswered
        while run.server.dump() == before and proc.poll() is None:
            time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    if signals == 2:
        wait_for(run, proc, "stop", 1)
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return out, err


def assert_answered_writes_journaled(log: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Every write the sandbox answered 2xx has an outcome line: ``ok``, or ``unknown`` if halted."""
    sent, journaled = log_classes(log), journal_classes(events)
    for route, n in sent["ok"].items():
        ok, unknown = journaled["ok"][route], journaled["unknown"][route]
        assert ok <= n <= ok + unknown, (route, n, ok, unknown)
    assert set(journaled["ok"]) <= set(sent["ok"])


def assert_clean(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr[-3000:]
    assert "never retrieved" not in stderr, stderr[-3000:]


def end_line(events: list[dict[str, Any]]) -> dict[str, Any]:
    ends = [e for e in events if e["event"] == "end"]
    assert len(ends) == 1, Counter(e["event"] for e in events)
    return ends[0]
