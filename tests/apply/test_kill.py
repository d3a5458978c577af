"""Kill: apply as a subprocess, SIGKILLed mid-way, then run again: it converges, no merge, undeclared
customers unchanged, and the killed run's journal announced every write the sandbox received.

Counted, not timed (a loaded machine must not change the outcome):
- the kill point is a number of writes: a hold in front of the sandbox lets ``target`` writes through and
  holds every later one, so the apply is certainly mid-way (never "finished before it could be killed");
- the killed run's requests are all settled before its log is read: a request of a dead client may still
  be in the sandbox (answer held by the latency, body not yet read: a ``ClientDisconnect``, logged as a
  500 write that never ran), and would otherwise be logged after the snapshot, into the next run's log.
  Stopping the server waits for every one of them; it then serves the next run on the same port (the
  same target, so the killed run's lock is there to take over), with the same store and an empty log.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from reconciler.apply.journal import read_journal
from reconciler.sandbox.app import SandboxApp
from reconciler.sandbox.server import SandboxServer
from tests.apply import population
from tests.apply.accounting import assert_intents_cover, assert_journal_accounts, assert_untouched
from tests.client.throttle import Receive, Scope, Send
from tests.testing import is_write, make_workspace
from tests.testing.verified import assert_verified

# End to end (CLI subprocesses, a GitHub job run, signals, a full scenario): `-m "not slow"` skips it.
pytestmark = pytest.mark.slow

N = 120
LATENCY = {"*": {"latency_ms": 10}}  # requests overlap, so some are in the sandbox when the kill comes
LIVENESS = 300  # seconds; only a hung run waits this long


class WriteHold:
    """ASGI wrapper: lets ``allow`` writes through, then holds each later one until ``release()``."""

    def __init__(self, app: SandboxApp, allow: int) -> None:
        self.app = app
        self.allow = allow
        self.passed = 0
        self.holding = threading.Event()  # set once a write is held: the apply is waiting mid-way
        self.opened = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_api_write(scope):
            if self.passed < self.allow:
                self.passed += 1  # one event loop: no lock needed
            else:
                self.holding.set()
                while not self.opened.is_set():
                    await asyncio.sleep(0.01)
        await self.app(scope, receive, send)

    def release(self) -> None:
        self.opened.set()


def _is_api_write(scope: Scope) -> bool:
    path = scope["path"]
    return not path.startswith("/_sandbox/") and is_write({"method": scope["method"], "path": path})


def _held(fixture: dict[str, object], allow: int) -> tuple[SandboxServer, WriteHold]:
    server = SandboxServer(seed=fixture)
    hold = WriteHold(server.app, allow)
    server.served = hold  # uvicorn serves the wrapper
    return server.start(), hold


def _popen_apply(root: Path, *args: str) -> subprocess.Popen[bytes]:
    """``reconciler apply`` in ``root``, its output to files (a full pipe cannot stall it)."""
    with (root / "killed.out").open("wb") as out, (root / "killed.err").open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "reconciler", "apply", "--auto-approve", *args],
            cwd=root,
            stdout=out,
            stderr=err,
            env={**os.environ, "NO_COLOR": "1"},
        )


def _wait_until_held(hold: WriteHold, proc: subprocess.Popen[bytes], err: Path) -> None:
    """Wait until the apply's next write is held (it cannot finish before the kill)."""
    deadline = time.monotonic() + LIVENESS  # liveness only: a hung run fails here, not the CI job
    while not hold.holding.wait(0.1):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"apply never sent write {hold.allow + 1}: {err.read_text()[-2000:]}")


def _drain(server: SandboxServer) -> None:
    """Stop the server: uvicorn finishes every request it accepted, so its log is then complete."""
    server.stop()
    thread = server._thread
    assert thread is not None
    thread.join(LIVENESS)
    assert not thread.is_alive(), "the sandbox did not finish the killed run's requests"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_apply_converges_on_the_next_run(tmp_path: Path, seed: int) -> None:
    target = random.Random(seed).randint(1, 60)  # the run has well over 60 writes
    server, hold = _held(population.fixture(N, N // 10), target)
    try:
        state = {"population.yaml": population.state_yaml(N)}
        ws = make_workspace(tmp_path, server, state, timeout_seconds=LIVENESS)  # liveness only
        before = server.dump()
        server.set_faults({"seed": seed, "endpoints": LATENCY})
        proc = _popen_apply(tmp_path, "--journal", "killed.jsonl")
        _wait_until_held(hold, proc, tmp_path / "killed.err")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=LIVENESS)
        hold.release()  # the held writes meet a closed connection, as a real server's would
        _drain(server)
        killed_log = hold.app.runtime.request_log()
        assert hold.passed == target
        assert_intents_cover(killed_log, read_journal(tmp_path / "killed.jsonl"))
        hold.app.runtime.clear_log()
        server.start()  # on its port again (the same URL, so the same apply lock), the same store
        done = ws.cli("apply", "--auto-approve", "--journal", "again.jsonl", timeout=LIVENESS)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert_verified(done.stdout)
        assert "took over the lock of a dead apply" in done.stderr  # the killed one's lock
        assert_journal_accounts(server.request_log(), read_journal(tmp_path / "again.jsonl"))
        assert ws.cli("plan", "--all", "--detailed-exitcode", timeout=LIVENESS).returncode == 0
        assert_untouched(before, server.dump(), population.undeclared_ids(N, N // 10))
    finally:
        hold.release()
        server.stop()
