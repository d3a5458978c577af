"""Kill: apply as a subprocess, SIGKILLed at a random point, then run again: it converges, no merge,
undeclared customers unchanged, and the killed run's journal announced every write the sandbox received."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from reconciler.apply.journal import read_journal
from tests.apply import population
from tests.apply.accounting import assert_intents_cover, assert_journal_accounts, assert_untouched
from tests.apply.conftest import assert_verified, make_workspace, serve

N = 120
LATENCY = {"*": {"latency_ms": 10}}  # so the run lasts long enough to be killed mid-way


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_apply_converges_on_the_next_run(tmp_path: Path, seed: int) -> None:
    server = serve(population.fixture(N, N // 10))
    try:
        ws = make_workspace(tmp_path, server, {"population.yaml": population.state_yaml(N)})
        before = server.dump()
        server.set_faults({"seed": seed, "endpoints": LATENCY})
        proc = ws.popen("apply", "--auto-approve", "--journal", "killed.jsonl")
        deadline = time.monotonic() + 60
        while not (tmp_path / "killed.jsonl").exists() and time.monotonic() < deadline:
            time.sleep(0.01)  # the re-plan is done; the writes start
        # Kill after a random number of writes reached the sandbox (not after a random time: a faster
        # client would finish first), polling its request log.
        target = random.Random(seed).randint(1, 60)
        while _writes(server.request_log()) < target and proc.poll() is None:
            time.sleep(0.005)
        assert proc.poll() is None, "apply finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        killed_log = server.request_log()
        assert_intents_cover(killed_log, read_journal(tmp_path / "killed.jsonl"))
        server.clear_log()
        done = ws.cli("apply", "--auto-approve", "--journal", "again.jsonl")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert_verified(done.stdout)
        assert "took over the lock of a dead apply" in done.stderr  # the killed one's lock
        assert_journal_accounts(server.request_log(), read_journal(tmp_path / "again.jsonl"))
        assert ws.cli("plan", "--all", "--detailed-exitcode").returncode == 0
        assert_untouched(before, server.dump(), population.undeclared_ids(N, N // 10))
    finally:
        server.stop()


def _writes(log: dict[str, object]) -> int:
    return sum(1 for r in log["requests"] if r["method"] in ("POST", "PUT") and "oauth" not in r["path"])  # type: ignore[attr-defined, index]
