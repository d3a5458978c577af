"""The apply journal: one JSON object per line, written before the next step and synced to disk.

Events (``Event``; every line has ``ts`` and ``event``; values are masked exactly as in the plan output; each
line is described by ``schemas/journal.schema.json``)::

    run          the header: checksum, target, calls, customers, format_version
    precondition customer_id, ok (live facts still equal the plan's), facts | error (the re-read failed)
    holder_check the write-time holder check before an add or a generate: call, verdict, detail
    intent       before a write is sent: call, attempt, customer_id, op, method, path, query, body, generated
    outcome      after it: result ok (created_id, warnings) | failed (status, code, message) | unknown
    resolved     how an unknown outcome was settled by re-reading: applied true | false | null | "merged"
    skipped      a call that was not sent, and why
    stop         when and why the run stopped starting writes (a signal, a journal it could not write)
    verified     the re-read of the customers written: verified, written, reread
    end          counts, the exit code, and how many low-priority lines were dropped (a full disk)

Each line is written to the file (the kernel has it: a killed process loses nothing) before ``record``
returns, then synced: concurrent writers share one ``fsync`` (group commit), and ``close`` syncs again.

A full disk must not cost the outcome of a write that was answered. So the file always ends with
``RESERVE_BYTES`` of spaces already written (a blank last line every reader skips; ``close`` truncates
it): a line is written over the reserve, then the reserve is extended. When it cannot be extended (disk
full, file-size limit), the journal is *full*: an ``intent`` is refused (``JournalError``, so that write
is never sent) and ``on_full`` is told, ``precondition``/``skipped`` lines are dropped and counted, and
the outcome, resolved and end lines of the writes in flight still fit in the reserve (the write gate,
``stop.py``, bounds how many are in flight).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from reconciler.errors import JournalError

JOURNAL_DIR = ".reconciler/journal"
FORMAT_VERSION = 1
RESERVE_BYTES = 64 * 1024


class Event(StrEnum):
    """The journal's events, in the order a run first writes them (docs/architecture.md 5.8)."""

    RUN = "run"
    PRECONDITION = "precondition"
    HOLDER_CHECK = "holder_check"
    INTENT = "intent"
    OUTCOME = "outcome"
    RESOLVED = "resolved"
    SKIPPED = "skipped"
    STOP = "stop"
    VERIFIED = "verified"
    END = "end"


STRICT = frozenset({Event.RUN, Event.INTENT})  # refused unless the reserve is intact after them
DROPPABLE = frozenset({Event.PRECONDITION, Event.SKIPPED})  # dropped once the journal is full


def default_journal_path(root: Path) -> Path:
    """``<root>/.reconciler/journal/<UTC timestamp>.jsonl`` (unique per run)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return root / JOURNAL_DIR / f"{stamp}.jsonl"


def _line(event: Event, fields: dict[str, Any]) -> bytes:
    data = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event.value, **fields}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
    return text.encode("utf-8")


def _open(path: Path) -> int:
    if path.exists() and not path.is_file():
        raise JournalError(f"journal {path}: not a regular file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    except OSError as exc:
        raise JournalError(f"journal {path}: {exc.strerror or exc}") from None


class Journal:
    """An append-only JSON-lines file with a reserve for the lines a full disk must not lose."""

    def __init__(self, path: Path, reserve: int = RESERVE_BYTES) -> None:
        self.path = path
        self.full: str | None = None  # why the journal refuses intents, once it does
        self.dropped = 0  # droppable lines not written because the journal was full
        self.lost = 0  # lines that should have been written and could not be
        self.on_full: Callable[[str], None] | None = None
        self._fd = self._open()
        self._end = self._allocated = self._size()
        self._reserve = reserve
        self._synced = self._end
        self._sync_error: OSError | None = None
        self._syncing: asyncio.Future[None] | None = None
        self._lock = threading.Lock()  # fsync (in a worker thread) against close
        self._closed = False

    def _open(self) -> int:
        return _open(self.path)

    def _size(self) -> int:
        return os.fstat(self._fd).st_size

    def write_now(self, event: Event | str, **fields: Any) -> None:
        """Write one line and sync it (the header and the end line)."""
        event = Event(event)  # a name that is no event is a bug: fail here, not in a reader
        if self._append(_line(event, fields), event):
            self._fsync()
            self._check_sync()

    async def record(self, event: Event | str, **fields: Any) -> None:
        """Append one line and wait until it is on disk; raises ``JournalError`` only for a refused intent."""
        event = Event(event)
        if not self._append(_line(event, fields), event):
            return
        target = self._end
        while self._synced < target and self._sync_error is None and not self._closed:
            if self._syncing is None or self._syncing.done():
                self._syncing = asyncio.ensure_future(asyncio.to_thread(self._fsync))
            await asyncio.shield(self._syncing)
        self._check_sync()
        if event in STRICT and self._synced < target:
            raise JournalError(self.full or f"journal {self.path}: closed")

    def _append(self, data: bytes, event: Event) -> bool:
        """Write ``data`` at the end; False if it was dropped. Raises ``JournalError`` if refused."""
        if self._closed:
            raise JournalError(f"journal {self.path}: closed")
        if self.full is None:  # (may write a ``stop`` line first, through on_full: compute ``need`` after)
            self._allocate(self._end + len(data) + self._reserve)
        need = self._end + len(data)
        if self.full is not None and event in DROPPABLE:
            self.dropped += 1
            return False
        if self.full is not None and event in STRICT:
            raise JournalError(self.full)
        try:
            if need > self._allocated:
                raise OSError(f"no room left in its reserve ({len(data)} bytes needed)")
            self._pwrite(data, self._end)
        except OSError as exc:
            self.lost += 1
            self._fail(exc)
            return False
        self._end = need
        return True

    def _allocate(self, size: int) -> None:
        """Extend the reserve of spaces to ``size`` bytes; on failure the journal is full."""
        if size > self._allocated:
            try:
                self._pwrite(b" " * (size - self._allocated), self._allocated, grow=True)
            except OSError as exc:
                self._fail(exc)

    def _pwrite(self, data: bytes, offset: int, *, grow: bool = False) -> None:
        view = memoryview(data)
        while view:
            n = os.pwrite(self._fd, view, offset)
            if n == 0:
                raise OSError("the file cannot grow")
            view, offset = view[n:], offset + n
            if grow:  # a short write (file-size limit) still counts: those bytes are the reserve
                self._allocated = offset

    def _fail(self, exc: OSError) -> None:
        if self.full is None:
            self.full = f"cannot write the journal {self.path}: {exc.strerror or exc}"
            if self.on_full is not None:
                self.on_full(self.full)

    def _fsync(self) -> None:
        with self._lock:
            if self._closed:
                return
            target = self._end
            try:
                os.fsync(self._fd)
            except OSError as exc:  # reported by _check_sync, on the event loop
                self._sync_error = exc
                return
            self._synced = max(self._synced, target)

    def _check_sync(self) -> None:
        if self._sync_error is not None:
            self._fail(self._sync_error)

    def close(self) -> None:
        """Drop the reserve, sync, close (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                os.ftruncate(self._fd, self._end)
                os.fsync(self._fd)
            except OSError as exc:
                self._sync_error = exc
            finally:
                os.close(self._fd)


class MemoryJournal(Journal):
    """A journal kept in memory, for the simulated apply: the same lines, reserve and refusals as a
    file's, without a disk to fill or an fsync per write (``lines()`` reads it back)."""

    def __init__(self, reserve: int = RESERVE_BYTES) -> None:
        self._buffer = bytearray()
        super().__init__(Path("<memory>"), reserve)

    def _open(self) -> int:
        return -1

    def _size(self) -> int:
        return 0

    def _pwrite(self, data: bytes, offset: int, *, grow: bool = False) -> None:
        end = offset + len(data)
        if len(self._buffer) < end:
            self._buffer.extend(b" " * (end - len(self._buffer)))
        self._buffer[offset:end] = data
        if grow:
            self._allocated = end

    def _append(self, data: bytes, event: Event) -> bool:
        written = super()._append(data, event)
        self._synced = self._end  # memory is as durable as it gets
        return written

    def _fsync(self) -> None:
        self._synced = self._end

    def close(self) -> None:
        self._closed = True
        del self._buffer[self._end :]

    def lines(self) -> list[dict[str, Any]]:
        """Every line written, parsed."""
        text = self._buffer[: self._end].decode("utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a journal (a torn last line, or a killed run's reserve, is ignored)."""
    out = []
    for text in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            out.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return out
