"""The desired-state tests' helpers: the ``write`` fixture's type, and a file's problems as strings."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

from reconciler.desired import collect_problems

Write = Callable[..., Path]  # the ``write`` fixture (conftest.py): (name, text) -> the written path


def problems_of(
    *paths: Path, labels: Collection[str] | None = None, series: Collection[int | str] | None = None
) -> list[str]:
    """Every problem of loading ``paths``, as ``file:line:col: message`` strings."""
    return [str(p) for p in collect_problems(list(paths), labels=labels, series=series)]
