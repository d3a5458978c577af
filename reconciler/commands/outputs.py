"""What commands write: lines to the terminal (``echo``), errors, logging, colour, and output files.

Every line a command prints goes through ``echo``, which shows control characters escaped: a value, a file
name or an API message cannot retitle, recolour or reorder the reader's terminal. Output files
(``--out``, ``--json-out``, ``--journal``) are checked by ``check_writable`` before the first API call, so
a directory, an unwritable path or a full device fails at once, in one line, with nothing sent.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from reconciler.errors import OutputError, StateError
from reconciler.render.escape import visible, visible_styled


def echo(text: str, *, err: bool = False, nl: bool = True, styled: bool = False) -> None:
    """Print ``text`` with its control characters escaped (line breaks kept; colours too if ``styled``)."""
    shown = visible_styled(text) if styled else visible(text, keep="\n")
    try:
        click.echo(shown, err=err, nl=nl)
    except OSError as exc:
        if not err:
            # stdout is broken (a full device, a closed pipe): point it at /dev/null so the interpreter's
            # last flush at exit does not fail again, and report the failure once on stderr
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise OutputError(
            f"cannot write to standard {'error' if err else 'output'}: {_reason(exc)}"
        ) from None


def say_error(message: str) -> None:
    """``error: MESSAGE`` on stderr, as one line whatever the message holds."""
    echo(f"error: {visible(message)}", err=True)


def report_state_error(exc: StateError) -> None:
    """Every problem of an invalid state, one per line, on stderr."""
    for problem in exc.problems:
        echo(visible(str(problem)), err=True)


def use_color(stream: Any = None) -> bool:
    """Colour only on a TTY, and never when NO_COLOR is set."""
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


class _VisibleFormatter(logging.Formatter):
    """Log lines with control characters shown escaped: a logged API message cannot drive the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record), keep="\n")


def configure_logging(verbose: int) -> None:
    """WARNING by default; -v info, -vv debug."""
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_VisibleFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # httpx/httpcore log full URLs, and a holder lookup's URL carries an identifier value: keep them quiet
    # at every verbosity. Our own client logs method, path template and status instead.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_writable(path: Path, option: str) -> None:
    """Fail now, in one line, if ``path`` cannot be written: a directory, a parent that is a file, an
    unwritable place, a full device. The file is opened for appending and given an empty write, which
    changes nothing but fails where a real write would (``/dev/full`` answers ENOSPC); a file this check
    created is removed again, and only missing parent directories are left (the write makes them anyway)."""
    try:
        if path.is_dir():
            raise OutputError(f"{option} {path}: is a directory")
        existed = path.exists() or path.is_symlink()
        _probe(path)
        if not existed:
            path.unlink(missing_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(f"{option} {path}: a parent of it is not a directory") from None
    except OSError as exc:
        raise OutputError(f"{option} {path}: cannot write: {_reason(exc)}") from None


def _probe(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_NONBLOCK: a FIFO without a reader fails here (ENXIO) instead of hanging the command
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
    try:
        os.write(fd, b"")
    finally:
        os.close(fd)


def write_output(text: str, out: Path | None, option: str = "--out", *, styled: bool = False) -> None:
    """``text`` to ``out`` (a file; a failure is one line) or to stdout through ``echo``."""
    if out is None:
        echo(text, nl=not text.endswith("\n"), styled=styled)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{option} {out}: cannot write: {_reason(exc)}") from None
