"""Opening a file only if it is a regular file: a FIFO, device or socket is refused, never waited on."""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_BYTES = 32 * 1024 * 1024

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class NotReadable(Exception):
    """The file cannot be read as a file; the message says why, in a few words."""


def not_regular(mode: int) -> str | None:
    """Why a file of ``mode`` is not read (``is a FIFO (named pipe), not a regular file``), or None."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a regular file"


def read_regular(path: Path) -> bytes:
    """The bytes of ``path``; NotReadable if it is not a regular file, too large, or cannot be opened."""
    # O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer, and fstat
    # of the open descriptor then refuses it (a stat before opening alone would race a swap).
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise NotReadable(f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        why = not_regular(info.st_mode)
        if why:
            raise NotReadable(why)
        if info.st_size > MAX_BYTES:
            raise NotReadable(f"file is {info.st_size // 2**20} MiB: split it (limit 32 MiB)")
        try:
            return file.read()
        except OSError as exc:
            raise NotReadable(f"cannot read: {exc.strerror or exc}") from None
