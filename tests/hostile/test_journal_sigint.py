"""SIGINT at seeded points among an apply's writes: every answered write keeps its outcome line, the
journal ends with its ``end`` line, the summary is printed, exit 130, no traceback or asyncio noise."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.hostile.journaling import (
    assert_answered_writes_journaled,
    assert_clean,
    end_line,
    interrupt_after,
    prepare,
)

# End to end (CLI subprocesses, a GitHub job run, signals, a full scenario): `-m "not slow"` skips it.
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_sigint_among_writes_keeps_every_answered_write(tmp_path: Path, seed: int) -> None:
    run = prepare(tmp_path, seed)
    try:
        proc = run.start()
        out, err = interrupt_after(run, proc, random.Random(seed).randint(1, 40))
        assert proc.returncode == 130, out[-2000:] + err[-2000:]
        assert_clean(err)
        events = run.events()
        assert_answered_writes_journaled(run.server.request_log(), events)
        end = end_line(events)
        assert end["exit_code"] == 130 and end["stopped"] == "interrupted by SIGINT"
        assert not [e for e in events if e.get("message") == "interrupted"]  # none had to be halted
        writes = end["writes"]
        assert f"Writes: {writes['applied']} applied" in out
        assert writes["not_started"] > 0
        assert f"Journal: {run.journal}" in out
    finally:
        run.server.stop()


def test_second_sigint_halts_and_journals_in_flight_writes_as_unknown(tmp_path: Path) -> None:
    # the second SIGINT comes while writes are in flight: their answers are 30 s away, so even a slow
    # machine sends it first (a write answered before it would count as applied)
    run = prepare(tmp_path, 21, write_ms=30_000)
    try:
        proc = run.start()
        out, err = interrupt_after(run, proc, 4, signals=2)
        assert proc.returncode == 130, out[-2000:] + err[-2000:]
        assert_clean(err)
        events = run.events()
        assert_answered_writes_journaled(run.server.request_log(), events)
        assert end_line(events)["exit_code"] == 130
        halted = [e for e in events if e.get("message") == "interrupted"]
        assert halted and all(e["result"] == "unknown" for e in halted)
        assert "were halted" in out and f"Writes: 0 applied, {len(halted)} failed or unknown" in out
    finally:
        run.server.stop()
