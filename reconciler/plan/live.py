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
import logging
from collections.abc import Iterable, Mapping, Sequence

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
    Progress,
    SourceAccounts,
    gather_counted,
    no_progress,
    parse_sources,
)
from reconciler.plan import Plan, build_plan
from reconciler.plan.diff import Changes, compute_changes, holders_needed

log = logging.getLogger(__name__)

MAX_ROUNDS = 5  # holder-customers pulled into scope; each round adds only declared holders
CHUNK = 250  # customers per progress step; chunks run concurrently, so this costs no throughput


async def read_customers(
    reader: LiveReader, ids: Sequence[int], progress: Progress = no_progress
) -> dict[int, LiveCustomer | ApiError]:
    """Every customer in ``ids`` (a failed read is kept as its error), reporting progress by chunk."""
    chunks = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
    out: dict[int, LiveCustomer | ApiError] = {}
    progress("customers", 0, len(ids))
    for task in asyncio.as_completed([reader.get_customers(chunk) for chunk in chunks]):
        out.update(await task)
        progress("customers", len(out), len(ids))
    return out


async def read_holders(
    reader: LiveReader,
    identifiers: Iterable[Identifier],
    cards: Iterable[str],
    progress: Progress = no_progress,
) -> tuple[dict[Identifier, Holder | None], dict[str, LiveCard | None]]:
    """The current holder of each identifier (any scope) and the live record of each card number."""
    idents, numbers = sorted(identifiers), sorted(cards)
    reads = [*(reader.find_identifier_holder(i) for i in idents), *(reader.get_card(n) for n in numbers)]
    found: list[object] = await gather_counted("holders", reads, progress)
    holders = dict(zip(idents, found[: len(idents)], strict=True))
    card_holders = dict(zip(numbers, found[len(idents) :], strict=True))
    return holders, card_holders  # type: ignore[return-value]


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
) -> Plan:
    """Read what the plan needs and build it; never writes (``reader`` may be read-only)."""
    # One request first: it authenticates once and fails fast (one error, not one per customer) when
    # the API is unreachable or the credentials are wrong; the rest then fan out concurrently.
    series = await reader.list_series()
    reader.declare_scopes(p.key for c in all_declared.values() for p in c.profiles)
    sources = await org_sources(reader, config)
    labels = asyncio.ensure_future(reader.list_labels())
    try:
        changes, holders, cards = await _read_scope(reader, scope, all_declared, config, unmanaged, progress)
        label_list = await labels
    finally:
        if not labels.done():
            labels.cancel()  # a failed read ends the plan: do not leave the label read running
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await labels
    return build_plan(
        changes,
        holders,
        cards,
        series,
        label_list,
        config,
        all_declared,
        target=target,
        force=force,
        sources=sources,
    )


async def org_sources(reader: LiveReader, config: Config) -> SourceAccounts | None:
    """The org's sources and accounts: as the API lists them, else ``sources:`` in the config, else None."""
    listed = await reader.list_sources()
    if listed is not None:
        return listed
    return parse_sources(config.sources) if config.sources else None


async def _read_scope(
    reader: LiveReader,
    scope: Sequence[DesiredCustomer],
    all_declared: Mapping[int, DesiredCustomer],
    config: Config,
    unmanaged: Sequence[int],
    progress: Progress,
) -> tuple[Changes, dict[Identifier, Holder | None], dict[str, LiveCard | None]]:
    """Customers in scope, then the holders of what they add, pulling declared holders into scope."""
    in_scope = {c.id: c for c in scope}
    live: dict[int, LiveCustomer | ApiError] = {}
    holders: dict[Identifier, Holder | None] = {}
    cards: dict[str, LiveCard | None] = {}
    changes = Changes(())
    for _ in range(MAX_ROUNDS):
        missing = [cid for cid in in_scope if cid not in live]
        live.update(_checked(await read_customers(reader, missing, progress)))
        changes = compute_changes(DesiredState(tuple(in_scope.values())), live, config, unmanaged=unmanaged)
        idents, numbers = holders_needed(changes)
        new_h, new_c = await read_holders(reader, idents - holders.keys(), numbers - cards.keys(), progress)
        holders.update(new_h)
        cards.update(new_c)
        extra = _declared_holders(holders, cards, all_declared) - in_scope.keys()
        if not extra:
            break
        log.info("pulling declared holders into scope: %s", ", ".join(map(str, sorted(extra))))
        in_scope.update((cid, all_declared[cid]) for cid in sorted(extra))
    return changes, holders, cards
