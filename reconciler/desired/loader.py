"""Loading the desired state: find the files, read each one, build customers, check across files.

State files come from pull requests, so a file is read only if it is a regular file that resolves inside
the repository (the directory of reconciler.yaml; for a path named outside it, that path's own directory):
a symbolic link out of it, a loop of links, a FIFO, a device, a socket or a directory named ``*.yaml`` is a
problem located at the file, and its content is never read (nor quoted in a message).
"""

from __future__ import annotations

import errno
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
from reconciler.yaml.files import not_regular

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What loading found: the well-formed customers, the files read, and every problem."""

    state: DesiredState
    problems: list[Problem]


def state_files(paths: Sequence[Path], root: Path | None = None) -> tuple[list[Path], list[Problem]]:
    """The state files named by ``paths``: files as given, directories walked for *.yaml/*.yml, sorted.

    Only regular files inside the repository ``root`` are returned; every other path is a problem.
    """
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        boundary = _boundary(path, root)
        found = sorted(_walk(path)) if path.is_dir() else [path]
        for file in found:
            why = _refusal(file, boundary)
            if why:
                problems.append(Problem(display_name(file), 1, 1, why))
            else:
                files.append(file)
    return files, problems


def _boundary(path: Path, root: Path | None) -> str:
    """The real directory every file found through ``path`` must resolve into."""
    absolute = os.path.abspath(path)
    if root is not None:
        for top in (os.path.abspath(root), os.path.realpath(root)):
            if os.path.commonpath([absolute, top]) == top:
                return os.path.realpath(root)
    return os.path.realpath(path if path.is_dir() else path.parent)


def _refusal(path: Path, boundary: str) -> str | None:
    """Why ``path`` is not read as a state file, or None."""
    try:
        real = path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop of symbolic links this way
        return "symbolic link loop"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        return "broken symbolic link" if path.is_symlink() else "no such file or directory"
    if os.path.commonpath([str(real), boundary]) != boundary:
        return "resolves outside the repository (a symbolic link out of it): refused, not read"
    try:
        why = not_regular(real.stat().st_mode)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    return why


def _walk(directory: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        # a directory (or a link to one) named *.yaml is reported, not walked: it looks like a state file
        names += [d for d in dirs if d.endswith(SUFFIXES)]
        dirs[:] = [d for d in dirs if not d.endswith(SUFFIXES)]
        for name in names:
            if name.endswith(SUFFIXES) and not name.startswith("."):
                yield Path(root, name)


def collect(
    paths: Sequence[Path],
    *,
    labels: Collection[str] | None = None,
    series: Collection[int | str] | None = None,
    root: Path | None = None,
) -> LoadResult:
    """Load every file and return the customers with every problem found (never raises for bad input).

    ``root``: the repository (the config's root); files must resolve inside it (see the module doc).
    """
    # Building ~20 objects per customer makes the cyclic GC rescan everything again and again (3x slower at
    # 100,000 customers); nothing built here holds a cycle, so pause it for the load.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _collect(paths, labels, series, root)
    finally:
        if paused:
            gc.enable()


def _collect(
    paths: Sequence[Path],
    labels: Collection[str] | None,
    series: Collection[int | str] | None,
    root: Path | None,
) -> LoadResult:
    files, problems = state_files(paths, root)
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
    root: Path | None = None,
) -> list[Problem]:
    """Every problem in every file, sorted by file, line and column."""
    return collect(paths, labels=labels, series=series, root=root).problems


def load_state(
    paths: Sequence[Path],
    *,
    labels: Collection[str] | None = None,
    series: Collection[int | str] | None = None,
    root: Path | None = None,
) -> DesiredState:
    """The desired state declared by ``paths``; raises StateError listing every problem."""
    result = collect(paths, labels=labels, series=series, root=root)
    if result.problems:
        raise StateError(result.problems)
    return result.state
