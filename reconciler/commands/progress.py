"""Progress of long work on stderr: one line per phase with count, rate and ETA.

On a terminal the line is redrawn in place and erased when the phase ends; nothing is drawn before the run
is a second old, nor for a phase's first (0 done) or last (all done) report, so a short run never draws
(a 3-customer plan reports each phase only at its start and its end). Elsewhere (CI logs) a plain line every
10 s. Empty phases (0 to do) are never shown. The clock is injectable so tests need not wait.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO

import click

from reconciler.model import Progress
from reconciler.render.escape import visible

DELAY = 1.0  # seconds before anything is drawn on a terminal
EVERY = 10.0  # seconds between lines off a terminal
REDRAW = 0.1  # at most this often on a terminal: the line is for people, not a benchmark
ERASE = "\r\033[K"
PACE_LOG = "reconciler.capillary.pace"  # the logger of the client's pacing notes (capillary/_limits.py)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressReporter:
    """Called as ``(phase, done, total)``; never writes to stdout."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        tty: bool | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.clock = clock
        self.started = self.last = clock()
        self.phase: tuple[str, int] | None = None
        self.phase_started = self.started
        self.drawn = False
        self.drawn_phase: tuple[str, int] | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = self.clock()
        if (phase, total) != self.phase:  # a new phase (or a new round of one, with a new total)
            self.phase, self.phase_started = (phase, total), now
        if total <= 0:
            return
        if self.tty:
            self._draw(phase, done, total, now)
        elif now - self.last >= EVERY:
            self.stream.write(self.line(phase, done, total, now) + "\n")
            self.stream.flush()
            self.last = now

    def _draw(self, phase: str, done: int, total: int, now: float) -> None:
        if done >= total:
            self.close()  # the phase is over: erase its line
            return
        if done == 0 or now - self.started < DELAY:
            return
        if self.drawn_phase == self.phase and now - self.last < REDRAW:
            return  # a new phase is drawn at once, however short
        self.stream.write(ERASE + self.line(phase, done, total, now))
        self.stream.flush()
        self.drawn, self.drawn_phase, self.last = True, self.phase, now

    def line(self, phase: str, done: int, total: int, now: float) -> str:
        """``writes: 1200/2000 (60%), 310/s, ETA 0:03``."""
        text = f"{phase}: {done}/{total} ({100 * done // total}%)"
        elapsed = now - self.phase_started
        if done and elapsed > 0:
            rate = done / elapsed
            text += f", {rate:.0f}/s, ETA {_duration((total - done) / rate)}"
        return text

    def note(self, text: str) -> None:
        """One line above the progress line (the client slowing down for the org's rate limit)."""
        self.stream.write((ERASE if self.drawn else "") + visible(text) + "\n")
        self.stream.flush()
        self.drawn = False  # the next report draws the progress line again below the note

    def close(self) -> None:
        """Erase the line, if one was drawn."""
        if self.drawn:
            self.stream.write(ERASE)
            self.stream.flush()
            self.drawn = False


def quiet(phase: str, done: int, total: int) -> None:
    """A reporter that says nothing (``--quiet``)."""
    del phase, done, total


def is_quiet() -> bool:
    """Whether ``--quiet`` was given, before or after the subcommand."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get("reconciler.quiet"))


class _Notes(logging.Handler):
    """The API client's pacing notes (``reconciler.capillary.pace``), shown through a reporter."""

    def __init__(self, shown: ProgressReporter) -> None:
        super().__init__(logging.INFO)
        self.shown = shown

    def emit(self, record: logging.LogRecord) -> None:
        """Show one note."""
        self.shown.note(record.getMessage())


def reporter() -> tuple[Progress, Callable[[], None]]:
    """The progress callback for this command and the function that ends it (erases its line).

    While it runs, the client's notes that it slows down for the org's rate limit come out beside it (not
    only with ``-v``): the logger is at INFO and its records go to the reporter instead of the log.
    """
    if is_quiet():
        return quiet, lambda: None
    shown = ProgressReporter()
    pace, notes = logging.getLogger(PACE_LOG), _Notes(shown)
    level, propagate = pace.level, pace.propagate
    pace.addHandler(notes)
    pace.setLevel(logging.INFO)
    pace.propagate = False

    def close() -> None:
        shown.close()
        pace.removeHandler(notes)
        pace.setLevel(level)
        pace.propagate = propagate

    return shown, close
