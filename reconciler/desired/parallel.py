"""Parsing many state files in worker processes: one per core, for states of hundreds of files.

Workers parse the bytes the parent read and hashed (never the file again: the result must be of exactly
the bytes its cache entry is kept under), store each result in the cache, and send it back as plain
nested tuples (``plain.py``): pickling those is C work, while pickling the frozen dataclasses runs Python
code per object and cost more than the parse it saved. The parent rebuilds the objects. Workers are
spawned, not forked, so a parent with threads (a server, a test harness) cannot hand them a held lock.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from collections.abc import Generator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from reconciler.desired.cache import StateCache
from reconciler.desired.plain import PlainFile, parse_plain

PARALLEL_FROM_FILES = 64  # below this, starting worker processes costs more than it saves
MAX_WORKERS = 4

Source = tuple[bytes, bytes]  # a file's bytes and their sha256


def parse_files(sources: list[Source], cache: StateCache | None) -> Generator[PlainFile, None, None]:
    """``parse_plain`` of each file's bytes, in order, each stored in ``cache``; in worker processes when
    there are many files."""
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if len(sources) < PARALLEL_FROM_FILES or workers < 2:
        yield from (_parse(raw, digest, cache) for raw, digest in sources)
        return
    size = -(-len(sources) // (workers * 4))
    chunks = [sources[i : i + size] for i in range(0, len(sources), size)]
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        for chunk in pool.map(_parse_chunk, chunks, [cache] * len(chunks)):
            yield from (PlainFile(*t) for t in chunk)


def _parse(raw: bytes, digest: bytes, cache: StateCache | None) -> PlainFile:
    plain = parse_plain(raw)
    if cache is not None:
        cache.put(digest, plain)
    return plain


def _parse_chunk(chunk: list[Source], cache: StateCache | None) -> list[tuple[Any, ...]]:
    gc.disable()  # nothing built here holds a cycle (as in loader.collect())
    return [_parse(raw, digest, cache).as_tuple() for raw, digest in chunk]
