"""Loading the desired state: find the files, read each one, build customers, check across files.

State files come from pull requests, so a file is read only if it is a regular file that resolves inside
the repository (the directory of reconciler.yaml; for a path named outside it, that path's own directory):
a symbolic link out of it, a loop of links, a FIFO, a device, a socket or a directory named ``*.yaml`` is a
problem located at the file, and its content is never read (nor quoted in a message).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import hashlib
import os
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.desired.cache import StateCache, state_digest
from reconciler.desired.invariants import catalogue_problems, cross_file_problems
from reconciler.desired.parallel import parse_files
from reconciler.desired.plain import PlainFile, to_result, unreadable
from reconciler.errors import Problem, StateError
from reconciler.model import DesiredCustomer, DesiredState, Location
from reconciler.yaml import display_name
from reconciler.yaml.files import NotReadable, not_regular, read_regular

SUFFIXES = (".yaml", ".yml")
Source = tuple[bytes, bytes] | PlainFile  # a file's bytes and sha256, or the result of a file not read


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
    cache: StateCache | None = None,
) -> LoadResult:
    """Load every file and return the customers with every problem found (never raises for bad input).

    ``root``: the repository (the config's root); files must resolve inside it (see the module doc).
    ``cache``: where each file's parsed result is kept by content hash (``cache.py``); the checks across
    files run over every file all the same.
    """
    with _gc_paused():
        files, problems = state_files(paths, root)
        names = [display_name(path) for path in files]
        plains = _read(_sources(files), cache)
        return _build(names, plains, problems, labels, series)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What ``check`` found: every problem, and how many customers and files were checked."""

    problems: list[Problem]
    customers: int
    files: int


def check(paths: Sequence[Path], *, root: Path | None = None, cache: StateCache | None = None) -> CheckResult:
    """Every problem of ``paths``, as ``collect`` finds them (``reconciler validate``).

    When no file has a problem of its own, the checks across files first compare every file's keys in one
    set: if none repeats, there is no duplicate to report and no customer object needs building. Otherwise
    the customers are built and checked as ``collect`` does, for the messages with every location. A state
    found clean is remembered by the hashes of its files' bytes, in order (``StateCache.put_clean``): the
    same bytes, read by the same code, are clean again without reading an entry per file (the checks are
    functions of the bytes alone; any changed byte is another state, checked again across every file).
    """
    with _gc_paused():
        files, problems = state_files(paths, root)
        sources = _sources(files)
        digests = [s[1] for s in sources if not isinstance(s, PlainFile)]
        state = state_digest(digests) if cache and not problems and len(digests) == len(files) else None
        count = cache.clean_count(state) if cache and state else None
        if count is not None:  # these very bytes were found clean, across files too, by this very code
            return CheckResult([], count, len(files))
        plains = list(_read(sources, cache))
        if not problems and not any(p.problems for p in plains) and _distinct(p.keys for p in plains):
            count = sum(p.count for p in plains)
            if cache and state:
                cache.put_clean(state, count)
            return CheckResult([], count, len(files))
        names = [display_name(path) for path in files]
        result = _build(names, plains, problems, None, None)
        return CheckResult(result.problems, len(result.state.customers), len(files))


def _distinct(keys: Iterable[bytes]) -> bool:
    """True if no key of the checks across files repeats (``plain._keys``): they would find nothing."""
    seen: set[int] = set()
    total = 0
    for each in keys:
        hashes = memoryview(each).cast("Q").tolist()  # a list: the set takes it faster
        seen.update(hashes)
        total += len(hashes)
    return len(seen) == total


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    # Building ~20 objects per customer makes the cyclic GC rescan everything again and again (3x slower at
    # 100,000 customers); nothing built here holds a cycle, so pause it for the load. Re-enabled as it was,
    # the first collection would then scan every object built (2 to 4 s at 100,000 customers): freezing and
    # unfreezing moves them to the oldest generation first, in constant time.
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _sources(files: list[Path]) -> list[Source]:
    """Each file's bytes and their sha256; for a file that cannot be read, its result (the reason)."""
    sources: list[Source] = []
    for path in files:
        try:
            raw = read_regular(path)
        except NotReadable as exc:
            sources.append(unreadable(str(exc)))
            continue
        sources.append((raw, hashlib.sha256(raw).digest()))
    return sources


def _read(sources: list[Source], cache: StateCache | None) -> Iterator[PlainFile]:
    """Each file's result, in order: from the cache when its bytes are known, else parsed (and then cached).

    Every file is looked up first, so that the worker processes parse the misses while the caller builds
    the customers of the results already at hand. ``sources`` is emptied (each file's bytes freed).
    """
    found: list[PlainFile | None] = []
    digests: list[bytes] = []
    missing: list[tuple[bytes, bytes]] = []
    sources.reverse()
    while sources:
        source = sources.pop()
        if isinstance(source, PlainFile):
            found.append(source)
            continue
        digests.append(source[1])
        hit = cache.get(source[1]) if cache is not None else None
        if hit is None:
            missing.append(source)
        found.append(hit)
    written = bool(missing)
    parsed = parse_files(missing, cache)
    del missing
    found.reverse()
    try:
        while found:  # popped: each result is freed once the caller is done with it
            plain = found.pop()
            yield next(parsed) if plain is None else plain
    finally:
        parsed.close()  # the worker processes end here
    if cache is not None and written:  # keep the directory in bounds
        cache.prune(digests)


def _build(
    names: list[str],
    plains: Iterable[PlainFile],
    problems: list[Problem],
    labels: Collection[str] | None,
    series: Collection[int | str] | None,
) -> LoadResult:
    repeats = bool(problems)
    keys: list[bytes] = []
    customers: list[DesiredCustomer] = []
    declared: list[tuple[int, Location]] = []
    for name, plain in zip(names, plains, strict=True):  # each encoded form freed as its objects are built
        found, found_problems, found_declared = to_result(name, plain)
        repeats = repeats or bool(found_problems)
        keys.append(plain.keys)
        customers += found
        problems += found_problems
        declared += found_declared
    # with no problem in any file and no key repeated, the checks across files would find nothing
    if repeats or not _distinct(keys):
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
    cache: StateCache | None = None,
) -> DesiredState:
    """The desired state declared by ``paths``; raises StateError listing every problem."""
    result = collect(paths, labels=labels, series=series, root=root, cache=cache)
    if result.problems:
        raise StateError(result.problems)
    return result.state
