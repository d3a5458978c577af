"""Builders of desired and live state for the unit tests: real model objects, written compactly; and
``fixed_plan``, the plan of fixed inputs that the golden outputs, the checksum and the JSON contract read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypedDict, Unpack

from reconciler.config import Config
from reconciler.errors import ApiError, NotFoundError
from reconciler.model import (
    CardLabel,
    CardSpec,
    DesiredCustomer,
    DesiredIdentifier,
    DesiredProfile,
    DesiredState,
    Holder,
    Identifier,
    LiveCard,
    LiveCustomer,
    LiveProfile,
    Location,
    Observed,
    ProfileKey,
    Series,
)
from reconciler.plan import SANDBOX_TARGET, Plan, build_plan
from reconciler.plan.diff import compute_changes, holders_needed

FILE = "state/customers.yaml"
Values = Mapping[str, str | Sequence[str]]

SERIES = (
    Series(121212, "GOLD", "Gold", "PHYSICAL", max_active_per_customer=3),  # room for the fixtures' links
    Series(555, "DIGI01", "Digital", "DIGITAL", generation_enabled=True),
    Series(777, "OLD", "Retired", active=False),
)
LABELS = (
    CardLabel("ACTIVE", "ACTIVE", True),
    CardLabel("NOT_ISSUED", "NOT_ISSUED", True),
    CardLabel("SUSPENDED", "SUSPENDED", True),
    CardLabel("CARD BLOCKED", "SUSPENDED"),
    CardLabel("EXPIRED", "EXPIRED", True),
)


def _pairs(values: Values) -> list[tuple[str, str]]:
    out = []
    for type_, v in values.items():
        out += [(type_, v)] if isinstance(v, str) else [(type_, x) for x in v]
    return out


def desired(
    cid: int,
    profiles: Mapping[str, Values] | None = None,
    cards: Iterable[CardSpec] | None = None,
    merge_with: Iterable[int] = (),
    line: int = 1,
) -> DesiredCustomer:
    """A declared customer; identifiers get consecutive line numbers after ``line``."""
    profs = []
    n = line
    for key, values in (profiles or {}).items():
        n += 1
        ids = []
        for type_, value in _pairs(values):
            n += 1
            ids.append(DesiredIdentifier(type_, value, Location(FILE, n, 9)))
        profs.append(DesiredProfile(ProfileKey.parse(key), tuple(ids), Location(FILE, n, 7)))
    card_specs = None if cards is None else tuple(cards)
    return DesiredCustomer(cid, tuple(profs), card_specs, frozenset(merge_with), Location(FILE, line, 5))


def spec(series: int | str, number: str | None = None, status: str = "ACTIVE", line: int = 90) -> CardSpec:
    """A declared card."""
    return CardSpec(number, series, status, Location(FILE, line, 9))


def card(
    number: str, customer: int = 0, series: int = 121212, label: str = "ACTIVE", status: str = "ACTIVE"
) -> LiveCard:
    """A live card; the series code follows from its id."""
    code = {s.id: s.code for s in SERIES}.get(series, f"S{series}")
    return LiveCard(number, series, code, label, status, customer)


def live(
    cid: int,
    profiles: Mapping[str, Values] | None = None,
    cards: Iterable[LiveCard] = (),
    *,
    campaign: bool = False,
    status: str = "ACTIVE",
) -> LiveCustomer:
    """A live customer."""
    profs = tuple(
        LiveProfile(ProfileKey.parse(k), tuple(Identifier(t, v) for t, v in _pairs(vals)))
        for k, vals in (profiles or {}).items()
    )
    return LiveCustomer(cid, profs, tuple(cards), campaign=campaign, status=status)


class HolderFlags(TypedDict, total=False):
    """What a holder may be besides a plain customer (Holder's flags)."""

    victim: bool
    campaign: bool


def holder(cid: int, scope: str | None = "INSTORE", **flags: Unpack[HolderFlags]) -> Holder:
    """A holder of an identifier (scope given) or of a card (scope None)."""
    return Holder(cid, ProfileKey.parse(scope) if scope else None, **flags)


def make_plan(
    declared: Sequence[DesiredCustomer],
    lives: Mapping[int, LiveCustomer | ApiError],
    *,
    holders: Mapping[Identifier, Holder | None] | None = None,
    card_holders: Mapping[str, LiveCard | None] | None = None,
    config: Config | None = None,
    others: Sequence[DesiredCustomer] = (),
    unmanaged: Sequence[int] = (),
    force: bool = False,
    target: str = SANDBOX_TARGET,
) -> Plan:
    """Both planning phases, as the plan command runs them; unlisted holders default to nobody."""
    cfg = config or Config()
    changes = compute_changes(DesiredState(tuple(declared)), lives, cfg, unmanaged=unmanaged)
    idents, numbers = holders_needed(changes)
    found: dict[Identifier, Holder | None] = {i: None for i in idents}
    found.update(holders or {})
    cards: dict[str, LiveCard | None] = {n: None for n in numbers}
    cards.update(card_holders or {})
    every = {d.id: d for d in (*declared, *others)}
    observed = Observed(dict(lives), found, cards, tuple(SERIES), tuple(LABELS), None)
    return build_plan(changes, observed, cfg, every, target=target, force=force)


def fixed_plan(
    line: int = 1,
    mobile: str = "919000000002",
    target: str = "embedded sandbox (demo data)",
    *,
    gold_label: str = "ACTIVE",
    config: Config | None = None,
    hard: bool = False,
) -> Plan:
    """A plan touching every action kind, from fixed inputs (the golden outputs' plan). ``hard`` adds what
    carries words of its own: a blocked merge (customer 2's holder in WECHAT) and an unknown customer."""
    cards = [spec(121212, "GOLD1", status="CARD BLOCKED"), spec(121212, "GOLD2"), spec("DIGI01")]
    d = desired(1, {"INSTORE": {"mobile": mobile, "email": "tom@example.com"}}, line=line, cards=cards)
    lv_ids = {"INSTORE": {"mobile": "919000000001", "email": "tom@example.com"}}
    lv = live(1, lv_ids, cards=[card("GOLD1", 1, label=gold_label), card("GOLD9", 1)])
    other = desired(2, {"INSTORE": {"externalId": "EXT-1"}}, line=line + 40)
    holders = {Identifier("externalId", "EXT-1"): holder(3, "WECHAT:wx" if hard else "INSTORE")}
    lives: dict[int, LiveCustomer | ApiError] = {1: lv, 2: live(2)}
    declared = [d, other]
    if hard:
        declared.append(desired(4, {"INSTORE": {"externalId": "EXT-4"}}, line=line + 60))
        lives[4] = NotFoundError("customer not found", code=8015)
    return make_plan(declared, lives, holders=holders, target=target, config=config)
