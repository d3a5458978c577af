"""Loading the desired state: find the files, read each one, build customers, check across files."""

from __future__ import annotations

import gc
import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.desired.invariants import catalogue_problems, cross_file_problems
from reconciler.desired.parallel import read_files
from reconciler.errors import Problem, StateError
from reconciler.model import DesiredCustomer, DesiredState, Location
from reconciler.yaml import display_name

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What loading found: the well-formed customers, the files read, and every problem."""

    state: DesiredState
    problems: list[Problem]


def state_files(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """The state files named by ``paths``: files as given, directories walked for *.yaml/*.yml, sorted."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            files += sorted(_walk(path))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(display_name(path), 1, 1, "no such file or directory"))
    return files, problems


def _walk(directory: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.endswith(SUFFIXES) and not name.startswith("."):
                yield Path(root, name)


def collect(
    paths: Sequence[Path],
    *,
    labels: Collection[str] | None = None,
    series: Collection[int | str] | None = None,
) -> LoadResult:
    """Load every file and return the customers with every problem found (never raises for bad input)."""
    # Building ~20 objects per customer makes the cyclic GC rescan everything again and again (3x slower at
    # 100,000 customers); nothing built here holds a cycle, so pause it for the load.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _collect(paths, labels, series)
    finally:
        if paused:
            gc.enable()


def _collect(
    paths: Sequence[Path], labels: Collection[str] | None, series: Collection[int | str] | None
) -> LoadResult:
    files, problems = state_files(paths)
    names = [display_name(path) for path in files]
    customers: list[DesiredCustomer] = []
    declared: list[tuple[int, Location]] = []
    for found, found_problems, found_declared in read_files(list(zip(files, names, strict=True))):
        customers += found
        problems += found_problems
        declared += found_declared
    problems += cross_file_problems(customers, declared)
    problems += catalogue_problems(customers, labels, series)
    problems.sort(key=lambda p: (p.file, p.line, p.col, p.message))
    return LoadResult(DesiredState(tuple(customers), tuple(names)), problems)


def collect_problems(
    paths: Sequence[Path],
    *,
    labels: Collection[str] | None = None,
    series: Collection[int | str] | None = None,
) -> list[Problem]:
    """Every problem in every file, sorted by file, line and column."""
    return collect(paths, labels=labels, series=series).problems


def load_state(
    paths: Sequence[Path],
    *,
    labels: Collection[str] | None = None,
    series: Collection[int | str] | None = None,
) -> DesiredState:
    """The desired state declared by ``paths``; raises StateError listing every problem."""
    result = collect(paths, labels=labels, series=series)
    if result.problems:
        raise StateError(result.problems)
    return result.state
