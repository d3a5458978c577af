"""The apply journal: one JSON object per line, each on disk (flushed and fsync'd) before it is acknowledged.

Events (every line has ``ts`` and ``event``; values are masked exactly as in the plan output)::

    run          the header: checksum, target, calls, customers, format_version
    precondition customer_id, ok (live facts still equal the plan's), facts
    intent       before a write is sent: call, attempt, customer_id, op, method, path, query, body
    outcome      after it: result ok (created_id, warnings) | failed (status, code, message) | unknown
    resolved     how an unknown outcome was settled by re-reading: applied true | false | null (cannot tell)
    skipped      a call that was not sent, and why
    end          counts and the exit code

Lines are written by one flusher at a time, grouped: concurrent writers share one ``fsync`` (group
commit), so the journal costs a disk sync per burst, not per line, and no line is acknowledged before it
is durable. An apply killed at any point leaves every acknowledged line on disk.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

JOURNAL_DIR = ".reconciler/journal"
FORMAT_VERSION = 1


def default_journal_path(root: Path) -> Path:
    """``<root>/.reconciler/journal/<UTC timestamp>.jsonl`` (unique per run)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return root / JOURNAL_DIR / f"{stamp}.jsonl"


def _line(event: str, fields: dict[str, Any]) -> str:
    data = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event, **fields}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"


class Journal:
    """An append-only JSON-lines file; ``await record(...)`` returns once the line is durable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("a", encoding="utf-8")
        self._pending: list[tuple[str, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def write_now(self, event: str, **fields: Any) -> None:
        """Write one line synchronously (the header and the end line)."""
        self._sync(_line(event, fields))

    async def record(self, event: str, **fields: Any) -> None:
        """Append one line and wait until it is on disk."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((_line(event, fields), future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(self._sync, "".join(text for text, _ in batch))
            except OSError as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    def _sync(self, text: str) -> None:
        self._file.write(text)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a journal (a torn last line, from a killed run, is ignored)."""
    out = []
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return out
