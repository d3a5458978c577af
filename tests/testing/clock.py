"""The suite's clock: time that a test moves instead of waiting for it."""

from __future__ import annotations


class Clock:
    """A clock reading ``now``; with ``step``, each reading first moves it on by ``step`` seconds."""

    def __init__(self, now: float = 0.0, step: float = 0.0) -> None:
        self.now, self.step = now, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now
