"""Pure diff: desired state + live state -> the minimal changes per declared customer
(docs/architecture.md 4.3).

No I/O. ``compute_changes`` is the first of two phases: its result says which identifiers and cards the
plan would add (``holders_needed``), so ``live.py`` looks up only their holders before ``build_plan``.

Ownership decisions (docs/architecture.md 3.3):
- In each *declared* profile the types in ``manage.identifiers`` are owned: a live value of such a type
  that the YAML does not list is removed. Live values of other types are never removed, but a declared
  value of an unmanaged type is still added when missing (the YAML asks for it explicitly).
  Undeclared profiles and undeclared customers are never touched.
- Card identifiers inside live profiles (``cardNumber``/``cardExternalId``) are ignored here: cards are
  diffed from ``LiveCustomer.cards`` and only when the customer declares ``cards:`` (``[]`` delinks all).
- A specific card number held by the customer is kept (a ``status`` change if its label differs); one not
  held becomes a ``link`` change (``build_plan`` turns it into create+link, link, or a move from its holder).
- A numberless spec ``{series}`` is satisfied by any held card of that series that is not EXPIRED/DELETED
  and not claimed by another spec; it never causes a status change. Unsatisfied: a ``generate`` change.
- Held cards no spec claims are delinked, except EXPIRED/DELETED cards: the API cannot unlink them, so
  they are left alone (a dead card is not something to own).
- Card calls go through the customer's ``default_source`` profile if it has one (declared or live), else
  its first declared profile (``card_profile``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from reconciler.config import Config
from reconciler.errors import ApiError, MergedCustomerError, NotFoundError
from reconciler.mask import keyed_hash
from reconciler.model import (
    DEAD_CARD_STATUSES,
    CardSpec,
    DesiredCustomer,
    DesiredState,
    Identifier,
    LiveCard,
    LiveCustomer,
    Location,
    ProfileKey,
    is_card_type,
)
from reconciler.plan.parts import CARD_NUMBER


class Kind(StrEnum):
    """What a change does to one identifier or card; listed in the order a customer's changes run."""

    REMOVE = "remove"
    DELINK = "delink"
    ADD = "add"
    STATUS = "status"
    CREATE = "create"
    GENERATE = "generate"
    LINK = "link"


REMOVE, DELINK, ADD, STATUS, CREATE, GENERATE, LINK = Kind
KINDS = tuple(Kind)


@dataclass(frozen=True, slots=True)
class Change:
    """One minimal change to one customer. ``value`` is None only for ``generate``."""

    kind: Kind
    profile: ProfileKey
    type: str
    value: str | None
    loc: Location | None = None  # the declaration; None for removals of undeclared values
    series: int | str | None = None  # cards: the declared series (id or code), or the live card's id
    label: str | None = None  # cards: the declared status label
    card: LiveCard | None = None  # cards: the live card a delink/status refers to
    problem: str = ""  # a reason the diff already knows this change cannot be made


@dataclass(frozen=True, slots=True)
class CustomerChanges:
    """The changes of one declared customer and what they were computed from."""

    desired: DesiredCustomer
    live: LiveCustomer | None
    error: str  # why this customer cannot be changed at all (8015, 8069, status); "" if it can
    changes: tuple[Change, ...]
    facts: str  # live_facts() of the live customer; "" if it could not be read or nothing changes
    managed_live: int  # live items this customer's declaration owns (safety ratio denominator)

    @property
    def id(self) -> int:
        return self.desired.id


@dataclass(frozen=True, slots=True)
class Changes:
    """The result of ``compute_changes``: per customer in scope (sorted by id), plus unmanaged ids."""

    customers: tuple[CustomerChanges, ...]
    unmanaged: tuple[int, ...] = ()


def compute_changes(
    desired: DesiredState,
    live: Mapping[int, LiveCustomer | ApiError],
    config: Config,
    *,
    unmanaged: Sequence[int] = (),
) -> Changes:
    """Diff every desired customer against its live state; ``unmanaged`` = ids no longer declared."""
    out = []
    for customer in sorted(desired.customers, key=lambda c: c.id):
        if customer.id not in live:
            raise ValueError(f"live state of customer {customer.id} was not read")
        out.append(_customer_changes(customer, live[customer.id], config))
    return Changes(tuple(out), tuple(sorted(set(unmanaged))))


def holders_needed(changes: Changes) -> tuple[frozenset[Identifier], frozenset[str]]:
    """The identifiers and card numbers whose current holders ``build_plan`` needs."""
    idents: set[Identifier] = set()
    cards: set[str] = set()
    for cc in changes.customers:
        if cc.error:
            continue
        for ch in cc.changes:
            if ch.kind == ADD and ch.value is not None:
                idents.add(Identifier(ch.type, ch.value))
            elif ch.kind == LINK and ch.value is not None and not ch.problem:
                cards.add(ch.value)
    return frozenset(idents), frozenset(cards)


def card_profile(desired: DesiredCustomer, live: LiveCustomer | None, default_source: str) -> ProfileKey:
    """The profile card link/delink calls use: the default source's, else the first declared one."""
    default = ProfileKey(default_source)
    if any(p.key == default for p in desired.profiles):
        return default
    if live is not None and live.profile(default) is not None:
        return default
    return desired.profiles[0].key if desired.profiles else default


def live_facts(customer: LiveCustomer, desired: DesiredCustomer, config: Config) -> str:
    """A stable keyed digest of exactly the live data this customer's actions are computed from."""
    managed = set(config.manage.identifiers)
    profiles = {}
    for dp in desired.profiles:
        types = managed | {d.type for d in dp.identifiers}
        lp = customer.profile(dp.key)
        values = sorted((i.type, i.value) for i in (lp.identifiers if lp else ()) if i.type in types)
        profiles[str(dp.key)] = values
    cards = None
    if desired.cards is not None:
        cards = sorted(
            (c.number, c.series_id, c.series_code, c.status_label, c.status) for c in customer.cards
        )
    data = {
        "status": customer.status,
        "profiles": profiles,
        "cards": cards,
        "card_profile": str(card_profile(desired, customer, config.default_source)),
    }
    return keyed_hash(json.dumps(data, sort_keys=True, separators=(",", ":")), 16)


def _customer_error(live: LiveCustomer | ApiError) -> str:
    if isinstance(live, NotFoundError):
        return "customer not found (8015)"
    if isinstance(live, MergedCustomerError):
        return "customer is a merge victim (8069): it was merged into another account"
    if isinstance(live, ApiError):
        return f"live state could not be read: {live.api_message}"
    if live.status.upper() != "ACTIVE":
        return f"customer status is {live.status}: the API rejects identifier and card changes"
    return ""


def _customer_changes(
    desired: DesiredCustomer, live: LiveCustomer | ApiError, config: Config
) -> CustomerChanges:
    error = _customer_error(live)
    lc = live if isinstance(live, LiveCustomer) else None
    managed = frozenset(config.manage.identifiers)
    changes = _identifier_changes(desired, lc, managed)
    if config.manage.cards:
        changes += _card_changes(desired, lc, card_profile(desired, lc, config.default_source))
    # Facts only matter where there is something to apply (apply re-checks them before writing).
    facts = live_facts(lc, desired, config) if lc is not None and changes else ""
    return CustomerChanges(desired, lc, error, tuple(changes), facts, _managed_live(desired, lc, config))


def _live_identifiers(live: LiveCustomer | None, key: ProfileKey) -> set[Identifier]:
    lp = live.profile(key) if live is not None else None
    if lp is None:
        return set()
    return {i for i in lp.identifiers if not is_card_type(i.type)}


def _identifier_changes(
    desired: DesiredCustomer, live: LiveCustomer | None, managed: frozenset[str]
) -> list[Change]:
    out: list[Change] = []
    for dp in sorted(desired.profiles, key=lambda p: p.key):
        have = _live_identifiers(live, dp.key)
        wanted = {d.identifier: d for d in dp.identifiers}
        for ident in sorted(have - wanted.keys()):
            if ident.type in managed:
                out.append(Change(REMOVE, dp.key, ident.type, ident.value))
        for ident in sorted(wanted.keys() - have):
            out.append(Change(ADD, dp.key, ident.type, ident.value, loc=wanted[ident].loc))
    return out


def in_series(card: LiveCard, series: int | str) -> bool:
    """Whether ``card`` belongs to the series given by id (int) or code (str)."""
    return card.series_id == series if isinstance(series, int) else card.series_code == series


def _card_changes(desired: DesiredCustomer, live: LiveCustomer | None, profile: ProfileKey) -> list[Change]:
    if desired.cards is None:
        return []
    held = {c.number: c for c in (live.cards if live is not None else ())}
    claimed: set[str] = set()
    keep: list[Change] = []
    for spec in (s for s in desired.cards if s.number is not None):
        keep += _specific_card(spec, held.get(spec.number or ""), profile)
        claimed.add(spec.number or "")
    for spec in (s for s in desired.cards if s.number is None):
        match = _claim(held.values(), spec.series, claimed)
        if match is None:
            keep.append(Change(GENERATE, profile, CARD_NUMBER, None, spec.loc, spec.series, spec.status))
        else:
            claimed.add(match.number)
    delinks = [
        Change(DELINK, profile, CARD_NUMBER, c.number, series=c.series_id, card=c)
        for c in sorted(held.values(), key=lambda c: c.number)
        if c.number not in claimed and c.status not in DEAD_CARD_STATUSES
    ]
    return delinks + keep


def _specific_card(spec: CardSpec, card: LiveCard | None, profile: ProfileKey) -> list[Change]:
    number = spec.number or ""
    if card is None:
        return [Change(LINK, profile, CARD_NUMBER, number, spec.loc, spec.series, spec.status)]
    if not in_series(card, spec.series):
        problem = f"the card is held in series {card.series_code} ({card.series_id}), not {spec.series}"
        return [Change(LINK, profile, CARD_NUMBER, number, spec.loc, spec.series, spec.status, card, problem)]
    if card.status_label != spec.status:
        return [Change(STATUS, profile, CARD_NUMBER, number, spec.loc, card.series_id, spec.status, card)]
    return []


def _claim(cards: Iterable[LiveCard], series: int | str, claimed: set[str]) -> LiveCard | None:
    # Prefer an ACTIVE card, then the lowest number, so the choice is stable.
    for card in sorted(cards, key=lambda c: (c.status != "ACTIVE", c.number)):
        if card.number not in claimed and card.status not in DEAD_CARD_STATUSES and in_series(card, series):
            return card
    return None


def _managed_live(desired: DesiredCustomer, live: LiveCustomer | None, config: Config) -> int:
    if live is None:
        return 0
    managed = set(config.manage.identifiers)
    count = sum(1 for dp in desired.profiles for i in _live_identifiers(live, dp.key) if i.type in managed)
    if config.manage.cards and desired.cards is not None:
        count += sum(1 for c in live.cards if c.status not in DEAD_CARD_STATUSES)
    return count
