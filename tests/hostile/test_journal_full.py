"""A journal on a full filesystem: the write that cannot be announced is not sent, no write starts after
it, every write the sandbox answered keeps its outcome line (the journal's reserve), the journal ends
with its ``end`` line, the summary is printed, exit 6, no traceback."""

from __future__ import annotations

import contextlib
import resource
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.apply.journal import RESERVE_BYTES
from tests.apply.accounting import journal_classes, log_classes
from tests.hostile.journaling import assert_clean, end_line, prepare

# End to end (CLI subprocesses, a GitHub job run, signals, a full scenario): `-m "not slow"` skips it.
pytestmark = pytest.mark.slow

ROOM = RESERVE_BYTES + 24 * 1024  # the reserve and about forty writes' lines


@contextlib.contextmanager
def small_disk(where: Path, kind: str) -> Iterator[Callable[[], None] | None]:
    """A tmpfs of ``ROOM`` bytes at ``where`` (ENOSPC), or a file-size limit for the child set in its
    ``preexec_fn`` (EFBIG): either way the journal's writes fail once it reaches ``ROOM``."""
    where.mkdir()
    mounted = False
    if kind == "tmpfs":
        mount = ["mount", "-t", "tmpfs", "-o", f"size={ROOM}", "tmpfs", str(where)]
        with contextlib.suppress(OSError):
            mounted = subprocess.run(mount, capture_output=True, check=False).returncode == 0
        if not mounted:
            pytest.skip("cannot mount a tmpfs here (needs root); the file-size-limit case still runs")
    try:
        yield None if mounted else _limit_file_size
    finally:
        if mounted:
            subprocess.run(["umount", str(where)], check=False)


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (ROOM, ROOM))


@pytest.mark.parametrize(("kind", "seed"), [("tmpfs", 31), ("file-size limit", 32)])
def test_full_journal_stops_writes_and_keeps_every_answered_outcome(
    tmp_path: Path, kind: str, seed: int
) -> None:
    with small_disk(tmp_path / "disk", kind) as preexec:
        run = prepare(tmp_path, seed, journal=tmp_path / "disk" / "run.jsonl", write_ms=5)
        try:
            proc = run.start(preexec)
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 6, out[-2000:] + err[-2000:]
            assert_clean(err)
            events = run.events()
            sent, journaled = log_classes(run.server.request_log()), journal_classes(events)
            assert journaled["ok"] == sent["ok"] and sum(sent["ok"].values()) > 0
            assert journaled["unknown"] == sent["unknown"]
            intents = sum(1 for e in events if e["event"] == "intent")
            assert intents == sum(1 for e in events if e["event"] == "outcome")  # none sent unannounced
            end = end_line(events)
            assert end["exit_code"] == 6 and end["stopped"].startswith("cannot write the journal")
            assert end["writes"]["not_started"] > 0
            assert "STOPPED: cannot write the journal" in out and f"Journal: {run.journal}" in out
            assert "reconciler plan --all" in out
        finally:
            run.server.stop()
