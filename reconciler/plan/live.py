"""Reads the live state a plan needs, and builds the plan from it.

A plan reads, concurrently and through whatever client it is given (the read-only one for ``plan``):
the declared customers in scope, the current holder of every identifier and card the diff would add,
and the org's card series and labels. When a holder is itself a declared customer outside the scope,
it joins the scope (its own diff decides whether it releases the item: a move, or a conflict), so a
``--changed-since`` plan stays correct while its cost grows only with the change.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.config import Config
from reconciler.errors import ApiError, MergedCustomerError, NotFoundError
from reconciler.model import (
    DesiredCustomer,
    DesiredState,
    Holder,
    Identifier,
    LiveCard,
    LiveCustomer,
    LiveReader,
    Observed,
    ProfileKey,
    Progress,
    no_progress,
)
from reconciler.plan import Plan, build_plan
from reconciler.plan.diff import Changes, compute_changes, holders_needed
from reconciler.reads import chunk_size, gather_counted, read_customers

log = logging.getLogger(__name__)

MAX_ROUNDS = 5  # holder-customers pulled into scope; each round adds only declared holders
Found = tuple[dict[Identifier, Holder | None], dict[str, LiveCard | None]]  # holders, cards


async def read_holders(
    reader: LiveReader,
    identifiers: Iterable[Identifier],
    cards: Iterable[str],
    progress: Progress = no_progress,
) -> Found:
    """The current holder of each identifier (any scope) and the live record of each card number."""
    idents, numbers = sorted(identifiers), sorted(cards)
    reads = [*(reader.find_identifier_holder(i) for i in idents), *(reader.get_card(n) for n in numbers)]
    found: list[object] = await gather_counted("holders", reads, progress)
    holders = dict(zip(idents, found[: len(idents)], strict=True))
    card_holders = dict(zip(numbers, found[len(idents) :], strict=True))
    return holders, card_holders  # type: ignore[return-value]


def holders_from_reads(
    live: Mapping[int, LiveCustomer | ApiError], identifiers: Iterable[Identifier]
) -> dict[Identifier, Holder | None]:
    """The holder of each identifier among the customers read, as a lookup in every scope would name it;
    None where no customer read holds it.

    Apply's re-plan against a reviewed checksum (docs/architecture.md 5.2): a plan that is not blocked names
    no holder but nobody, the customer itself, or a declared customer it read, so when live state is as
    reviewed these are the reviewed holders. Whoever else took a value since, the write-time holder check
    (``apply/guard.py``) looks up in every scope and stops the call.
    """
    index: dict[tuple[str, str], list[tuple[LiveCustomer, ProfileKey]]] = {}
    wanted = {(i.type.lower(), i.value) for i in identifiers}
    for customer in live.values():
        if isinstance(customer, ApiError):
            continue
        for profile in customer.profiles:
            for ident in profile.identifiers:
                key = (ident.type.lower(), ident.value)
                if key in wanted:
                    index.setdefault(key, []).append((customer, profile.key))
    out: dict[Identifier, Holder | None] = {}
    for ident in identifiers:
        held = index.get((ident.type.lower(), ident.value), [])
        ids = sorted({c.id for c, _ in held})
        if not held:
            out[ident] = None
        elif len(ids) > 1:
            listed = ", ".join(f"{c.id} in {where}" for c, where in held)
            out[ident] = Holder(ids[0], scope=held[0][1], unknown=f"several customers hold it ({listed})")
        else:
            customer, scope = held[0]
            out[ident] = Holder(customer.id, scope=scope, campaign=customer.campaign)
    return out


class HolderLookups:
    """The holder lookups of a round, started chunk by chunk while its customers are still being read.

    Lookups are another API than customer reads, with their own rate limit: started as each chunk's
    additions are known, they use the quota and the slots the reads leave free, instead of following
    every read. Progress shows them as one ``holders`` phase once the reads are done.
    """

    def __init__(
        self,
        reader: LiveReader,
        holders: Iterable[Identifier],
        cards: Iterable[str],
        progress: Progress,
        *,
        identifiers: bool = True,
    ) -> None:
        self._reader, self._progress = reader, progress
        self._identifiers = identifiers  # False: cards only (the holders come from the reads)
        self._asked, self._asked_cards = set(holders), set(cards)
        self._tasks: list[asyncio.Task[Found]] = []
        self._counts: dict[int, tuple[int, int]] = {}  # batch -> (done, total)
        self._shown = False

    def chunk_read(
        self,
        declared: Mapping[int, DesiredCustomer],
        config: Config,
        chunk: Mapping[int, LiveCustomer | ApiError],
    ) -> None:
        """Start the lookups a chunk of just-read customers needs (``read_customers``' ``on_chunk``)."""
        read = {cid: live for cid, live in chunk.items() if cid in declared}
        self.start(compute_changes(DesiredState(tuple(declared[cid] for cid in read)), read, config))

    def start(self, changes: Changes) -> None:
        """Look up the holders ``changes`` need that no earlier batch asked for."""
        idents, numbers = holders_needed(changes)
        idents = idents - self._asked if self._identifiers else frozenset()
        numbers = numbers - self._asked_cards
        if not idents and not numbers:
            return
        self._asked |= idents
        self._asked_cards |= numbers
        batch = len(self._tasks)
        self._counts[batch] = (0, len(idents) + len(numbers))
        count = functools.partial(self._count, batch)
        self._tasks.append(asyncio.ensure_future(read_holders(self._reader, idents, numbers, count)))

    def _count(self, batch: int, phase: str, done: int, total: int) -> None:
        self._counts[batch] = (done, total)
        if self._shown:
            self._show(phase)

    def _show(self, phase: str = "holders") -> None:
        done = sum(d for d, _ in self._counts.values())
        self._progress(phase, done, sum(t for _, t in self._counts.values()))

    async def results(self) -> Found:
        """Every batch's answers, once all are in."""
        self._shown = True
        self._show()
        holders: dict[Identifier, Holder | None] = {}
        cards: dict[str, LiveCard | None] = {}
        for found, found_cards in await asyncio.gather(*self._tasks):
            holders.update(found)
            cards.update(found_cards)
        return holders, cards

    async def cancel(self) -> None:
        """Stop the lookups still running (the plan failed) and wait until they have stopped."""
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _declared_holders(
    holders: Mapping[Identifier, Holder | None],
    cards: Mapping[str, LiveCard | None],
    declared: Mapping[int, DesiredCustomer],
) -> set[int]:
    ids = {h.customer_id for h in holders.values() if h is not None and not h.victim}
    ids |= {c.customer_id for c in cards.values() if c is not None and c.customer_id}
    return {i for i in ids if i in declared}


def _checked(read: dict[int, LiveCustomer | ApiError]) -> dict[int, LiveCustomer | ApiError]:
    """Unknown (8015) and merged-away (8069) customers are facts a plan reports; any other error fails it."""
    for result in read.values():
        if isinstance(result, ApiError) and not isinstance(result, NotFoundError | MergedCustomerError):
            raise result
    return read


async def make_plan(
    reader: LiveReader,
    scope: Sequence[DesiredCustomer],
    all_declared: Mapping[int, DesiredCustomer],
    config: Config,
    *,
    target: str,
    unmanaged: Sequence[int] = (),
    force: bool = False,
    progress: Progress = no_progress,
    lookups: bool = True,
) -> Plan:
    """Read what the plan needs and build it; never writes (``reader`` may be read-only).

    ``lookups=False`` (apply's re-plan against a reviewed checksum) takes the holders of identifiers from
    the customers read (``holders_from_reads``) instead of looking each up in every scope: the write-time
    holder check looks them up once, just before the write.
    """
    # One request first: it authenticates once and fails fast (one error, not one per customer) when
    # the API is unreachable or the credentials are wrong; the rest then fan out concurrently.
    series = await reader.list_series()
    # The org's sources (its id came with the series) and the labels are read beside the customers:
    # only the holder lookups and the build need them, and the lookups share the one sources read.
    sources_read = asyncio.ensure_future(reader.list_sources())
    labels = asyncio.ensure_future(reader.list_labels())
    try:
        changes, holders, cards, live = await _read_scope(
            reader, scope, all_declared, config, unmanaged, progress, lookups=lookups
        )
        sources, label_list = await sources_read, await labels
    finally:
        for read in (sources_read, labels):
            if not read.done():
                read.cancel()  # a failed read ends the plan: do not leave these running
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await read
    joined = frozenset(live) - {c.id for c in scope}
    observed = Observed(live, holders, cards, tuple(series), tuple(label_list), sources, joined)
    return build_plan(changes, observed, config, all_declared, target=target, force=force)


async def _read_scope(
    reader: LiveReader,
    scope: Sequence[DesiredCustomer],
    all_declared: Mapping[int, DesiredCustomer],
    config: Config,
    unmanaged: Sequence[int],
    progress: Progress,
    *,
    lookups: bool = True,
) -> tuple[
    Changes, dict[Identifier, Holder | None], dict[str, LiveCard | None], dict[int, LiveCustomer | ApiError]
]:
    """Customers in scope, then the holders of what they add, pulling declared holders into scope."""
    in_scope = {c.id: c for c in scope}
    live: dict[int, LiveCustomer | ApiError] = {}
    holders: dict[Identifier, Holder | None] = {}
    cards: dict[str, LiveCard | None] = {}
    changes = Changes(())
    for _ in range(MAX_ROUNDS):
        read = _Round(reader, in_scope, config, unmanaged, progress, lookups)
        changes, new_h, new_c = await read.run(live, holders, cards)
        holders.update(new_h)
        cards.update(new_c)
        extra = _declared_holders(holders, cards, all_declared) - in_scope.keys()
        if not extra:
            break
        log.info("pulling declared holders into scope: %s", ", ".join(map(str, sorted(extra))))
        in_scope.update((cid, all_declared[cid]) for cid in sorted(extra))
    return changes, holders, cards, live


@dataclass(frozen=True, slots=True)
class _Round:
    """One round of ``_read_scope``: read the customers in scope not read yet, diff the scope, and look
    up the holders of what it adds that no earlier round looked up."""

    reader: LiveReader
    in_scope: Mapping[int, DesiredCustomer]
    config: Config
    unmanaged: Sequence[int]
    progress: Progress
    lookups: bool

    async def run(
        self,
        live: dict[int, LiveCustomer | ApiError],
        holders: Mapping[Identifier, Holder | None],
        cards: Mapping[str, LiveCard | None],
    ) -> tuple[Changes, dict[Identifier, Holder | None], dict[str, LiveCard | None]]:
        """The scope's changes and the new holders; ``live`` gains the customers read."""
        missing = [cid for cid in self.in_scope if cid not in live]
        found = HolderLookups(
            self.reader, holders.keys(), cards.keys(), self.progress, identifiers=self.lookups
        )
        look_up = functools.partial(found.chunk_read, self.in_scope, self.config)
        try:
            read = await read_customers(self.reader, missing, self.progress, look_up, chunk_size(self.config))
            live.update(_checked(read))
            desired = DesiredState(tuple(self.in_scope.values()))
            changes = compute_changes(desired, live, self.config, unmanaged=self.unmanaged)
            found.start(changes)  # what no chunk asked for: customers read in an earlier round
            new_h, new_c = await found.results()
        finally:
            await found.cancel()
        if not self.lookups:
            new_h = holders_from_reads(live, holders_needed(changes)[0])
        return changes, new_h, new_c
