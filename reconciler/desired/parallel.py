"""Reading many state files in worker processes: one per core, for states of hundreds of files.

Workers parse and build as the single-process path does, then send each customer back as plain nested
tuples: pickling those is C work, while pickling the frozen dataclasses runs Python code per object and
cost more than the parse it saved. The parent rebuilds the objects as chunks arrive. Workers are spawned,
not forked, so a parent with threads (a server, a test harness) cannot hand them a held lock.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from reconciler.desired.decode import FileBuilder
from reconciler.errors import Problem
from reconciler.model import (
    CardSpec,
    DesiredCustomer,
    DesiredIdentifier,
    DesiredProfile,
    Location,
    ProfileKey,
)
from reconciler.yaml.reader import read_yaml

PARALLEL_FROM_FILES = 64  # below this, starting worker processes costs more than it saves
MAX_WORKERS = 4

Declared = list[tuple[int, Location]]
FileResult = tuple[list[DesiredCustomer], list[Problem], Declared]


def read_file(path: Path, name: str) -> FileResult:
    """One file's well-formed customers, its problems, and every customer id it declares."""
    parsed = read_yaml(path, name)
    builder = FileBuilder(name, parsed.source)
    customers = builder.customers(parsed.data)
    return customers, parsed.problems + builder.problems, builder.declared


def read_files(files: list[tuple[Path, str]]) -> Iterator[FileResult]:
    """``read_file`` for each (path, name), in order; in worker processes when there are many files."""
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if len(files) < PARALLEL_FROM_FILES or workers < 2:
        yield from (read_file(path, name) for path, name in files)
        return
    size = -(-len(files) // (workers * 4))
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        for chunk in pool.map(_read_chunk, chunks):
            for name, customers, problems, declared in chunk:
                yield [_decode(name, c) for c in customers], problems, _locations(name, declared)


def _read_chunk(chunk: list[tuple[Path, str]]) -> list[tuple[str, list[Any], list[Problem], list[Any]]]:
    gc.disable()  # nothing built here holds a cycle (as in collect())
    out = []
    for path, name in chunk:
        customers, problems, declared = read_file(path, name)
        plain = [(cid, loc.line, loc.col) for cid, loc in declared]
        out.append((name, [_encode(c) for c in customers], problems, plain))
    return out


def _encode(c: DesiredCustomer) -> tuple[Any, ...]:
    profiles = tuple(
        (
            p.key.source,
            p.key.account_id,
            p.loc.line,
            p.loc.col,
            tuple((i.type, i.value, i.loc.line, i.loc.col) for i in p.identifiers),
        )
        for p in c.profiles
    )
    cards = (
        None
        if c.cards is None
        else tuple((k.number, k.series, k.status, k.loc.line, k.loc.col) for k in c.cards)
    )
    return c.id, c.loc.line, c.loc.col, c.note, profiles, cards, tuple(c.merge_with)


def _decode(name: str, t: tuple[Any, ...]) -> DesiredCustomer:
    cid, line, col, note, profiles, cards, merge_with = t
    return DesiredCustomer(
        cid,
        tuple(
            DesiredProfile(
                ProfileKey(source, account),
                tuple(DesiredIdentifier(ty, v, Location(name, il, ic)) for ty, v, il, ic in idents),
                Location(name, pl, pc),
            )
            for source, account, pl, pc, idents in profiles
        ),
        None
        if cards is None
        else tuple(CardSpec(n, s, st, Location(name, kl, kc)) for n, s, st, kl, kc in cards),
        frozenset(merge_with),
        Location(name, line, col),
        note,
    )


def _locations(name: str, declared: list[tuple[int, int, int]]) -> Declared:
    return [(cid, Location(name, line, col)) for cid, line, col in declared]
