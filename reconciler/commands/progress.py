"""Progress of long reads on stderr: a bar on a TTY, a plain line every few seconds elsewhere (CI)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressReporter:
    """Called as ``(phase, done, total)``; quiet for short runs, never writes to stdout."""

    def __init__(self, stream: TextIO | None = None, *, every: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = every
        self.started = time.monotonic()
        self.last = self.started
        self.drawn = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if self.tty:
            if now - self.started < 0.5 and done < total:
                return  # do not flash a bar for a plan that takes a moment
            width = 30
            filled = width * done // max(total, 1)
            self.stream.write(f"\r{phase:>9} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
            self.drawn = True
        elif now - self.last >= self.every:
            self.stream.write(f"{phase}: {done}/{total} read ({now - self.started:.0f} s)\n")
            self.last = now
        self.stream.flush()

    @staticmethod
    def quiet(phase: str, done: int, total: int) -> None:
        """A reporter that says nothing."""
        del phase, done, total

    def close(self) -> None:
        """End the bar's line, if one was drawn."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
