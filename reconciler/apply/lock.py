"""One apply per target at a time on this machine: an exclusive ``fcntl`` lock on a file per target.

The file lives in the user's state directory (``$XDG_STATE_HOME/reconciler/locks``, by default
``~/.local/state/reconciler/locks``), keyed by the target, so every checkout and every repository on the
machine that applies to one target shares it: two branches' or two state repositories' applies to one org
exclude each other. ``RECONCILER_LOCK_DIR`` overrides the directory (a shared one for several users).
Not excluded: applies from two machines, or by two users with different state directories; for those the
write-time holder check (``apply/guard.py``) and the merge-incident check are what remain.

The kernel holds the lock, so it dies with its process however that process ends; the file's content (pid,
host, start time, target) only says who holds or held it. A clean release empties the file: finding
content in a file whose lock we just took means its holder died mid-apply, and the takeover is said so.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from reconciler.errors import ApplyRunningError

LOCK_DIR_ENV = "RECONCILER_LOCK_DIR"


def lock_dir() -> Path:
    """``RECONCILER_LOCK_DIR``, else ``$XDG_STATE_HOME/reconciler/locks`` (``~/.local/state/...``)."""
    chosen = os.environ.get(LOCK_DIR_ENV)
    if chosen:
        return Path(chosen)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "reconciler" / "locks"


def lock_path(target_key: str) -> Path:
    """The lock file of ``target_key`` (``commands.apply.lock_key``: a URL without credentials, or the
    sandbox database's path)."""
    base = lock_dir()
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", target_key)[-40:].strip("_")
    digest = hashlib.sha256(target_key.encode()).hexdigest()[:12]
    return base / f"{slug}-{digest}.lock"


def _describe(info: dict[str, object]) -> str:
    return f"pid {info.get('pid', '?')} on {info.get('host', '?')} since {info.get('started', '?')}"


def _read(handle: IO[str]) -> dict[str, object]:
    handle.seek(0)
    text = handle.read().strip()
    if not text:
        return {}
    try:
        found = json.loads(text)
    except json.JSONDecodeError:
        return {"pid": "?", "host": "?", "started": "?"}  # a holder died while writing it
    return found if isinstance(found, dict) else {}


@contextmanager
def target_lock(path: Path, target: str) -> Iterator[str]:
    """Hold ``path`` exclusively; yields "" or a note that a dead apply's lock was taken over.

    Raises ``ApplyRunningError`` at once (no waiting) when a live apply holds it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            running = _read(handle)
            raise ApplyRunningError(
                f"another apply to {target} is running ({_describe(running)}; lock {path}); "
                "nothing was read or written: wait for it, then run apply again"
            ) from None
        previous = _read(handle)
        note = (
            f"took over the lock of a dead apply to {target} ({_describe(previous)}); "
            "its journal says what it wrote"
            if previous
            else ""
        )
        _write(handle, target)
        try:
            yield note
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _write(handle: IO[str], target: str) -> None:
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": target,
    }
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(info) + "\n")
    handle.flush()
