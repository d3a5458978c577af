"""A seed fixture from a live read: the sandbox as a twin of an org, as far as a read saw it.

``fixture_from_live`` turns what a plan read (``Observed``: the ``LiveCustomer``s, the holders of values and
cards, the series, labels and sources) into the seed format of README.md. The simulated apply
(``reconciler.simulate``) seeds its twin with it; tests and adopters can seed a sandbox from a read too.

What a read does not show cannot be seeded, and ``LiveFixture.unseeded`` says each such thing (a holder
the lookup could not classify, a card whose label the labels list lacks, ...). Other limits, by design:
a card's linking profile is the customer's INSTORE profile (else its first): reads do not say which profile
linked it; a generated card's number is the twin's own; series carry no generation configuration; the
org-wide card limit (``CONF_MAX_CARDS_PER_ORG``) is not read, so it is not enforced.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import (
    CardLabel,
    Holder,
    Identifier,
    LiveCard,
    LiveCustomer,
    Observed,
    ProfileKey,
    Series,
)

SYNTHETIC_IDS = 9_000_000_000_000  # ids for holders a read named without an id (a victim with no id)


@dataclass
class LiveFixture:
    """The seed fixture, and what of the read could not be seeded (one reason each)."""

    fixture: dict[str, Any]
    unseeded: list[str] = field(default_factory=list)


@dataclass
class _Builder:
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, set[str]] = field(default_factory=dict)
    labels: dict[str, CardLabel] = field(default_factory=dict)
    series: dict[int, Series] = field(default_factory=dict)
    unseeded: list[str] = field(default_factory=list)
    next_id: int = SYNTHETIC_IDS

    def synthetic(self) -> int:
        self.next_id += 1
        return self.next_id

    def customer(self, cid: int, **extra: Any) -> dict[str, Any]:
        entry = self.customers.setdefault(
            cid, {"id": cid, "firstName": "", "loyaltyType": "loyalty", "profiles": []}
        )
        entry.update(extra)
        return entry

    def identifier(self, cid: int, key: ProfileKey, identifier: Identifier) -> None:
        self.accounts.setdefault(key.source, set()).add(key.account_id)
        profiles = self.customer(cid)["profiles"]
        profile = next(
            (p for p in profiles if (p["source"], p["accountId"]) == (key.source, key.account_id)), None
        )
        if profile is None:
            profile = {"source": key.source, "accountId": key.account_id, "identifiers": []}
            profiles.append(profile)
        item = {"type": identifier.type, "value": identifier.value}
        if item not in profile["identifiers"]:
            profile["identifiers"].append(item)

    def card(self, card: LiveCard) -> None:
        if card.number in self.cards:
            return
        if card.status_label not in self.labels:
            if not card.status:
                self.unseeded.append(f"card …{card.number[-4:]}: its label {card.status_label!r} is unknown")
                return
            self.labels[card.status_label] = CardLabel(card.status_label, card.status)
        if card.series_id not in self.series:
            self.series[card.series_id] = Series(card.series_id, card.series_code or str(card.series_id))
            self.unseeded.append(
                f"series {card.series_id}: not listed by the org; seeded with default settings"
            )
        entry: dict[str, Any] = {
            "number": card.number,
            "seriesId": card.series_id,
            "statusLabel": card.status_label,
            "customerId": card.customer_id,
        }
        if card.customer_id:
            holder = self.customer(card.customer_id)
            via = _linking_profile(holder)
            entry["linkedVia"] = {"source": via.source, "accountId": via.account_id}
            if not holder["profiles"]:
                holder["profiles"].append(
                    {"source": via.source, "accountId": via.account_id, "identifiers": []}
                )
            self.accounts.setdefault(via.source, set()).add(via.account_id)
        self.cards[card.number] = entry


def _linking_profile(customer: Mapping[str, Any]) -> ProfileKey:
    keys = [ProfileKey(p["source"], p["accountId"]) for p in customer["profiles"]]
    return next((k for k in keys if k.source == "INSTORE"), keys[0] if keys else ProfileKey("INSTORE"))


def fixture_from_live(observed: Observed, *, customers: Collection[int] | None = None) -> LiveFixture:
    """A seed fixture holding every customer ``observed`` read (those of ``customers`` when given; a read
    that ended in an error has nothing to seed), every holder it found and every card it saw."""
    b = _Builder(
        labels={lab.label: lab for lab in observed.labels}, series={s.id: s for s in observed.series}
    )
    for source, accounts in (observed.sources or {}).items():
        b.accounts.setdefault(source, set()).update(accounts)
    for cid, live in observed.customers.items():
        if isinstance(live, LiveCustomer) and (customers is None or cid in customers):
            _seed_customer(b, live)
    for identifier, holder in observed.holders.items():
        _seed_holder(b, identifier, holder)
    for seen in observed.cards.values():
        if seen is not None:
            b.card(seen)
    return LiveFixture(_fixture(b), b.unseeded)


def _seed_customer(b: _Builder, live: LiveCustomer) -> None:
    """A customer as read: its type, status, profiles with their identifiers, and its cards."""
    b.customer(
        live.id,
        loyaltyType="non_loyalty" if live.campaign else "loyalty",
        status=live.status,
        profiles=[
            {"source": p.key.source, "accountId": p.key.account_id, "identifiers": []} for p in live.profiles
        ],
    )
    for profile in live.profiles:
        b.accounts.setdefault(profile.key.source, set()).add(profile.key.account_id)
        for identifier in profile.identifiers:
            b.identifier(live.id, profile.key, identifier)
    for card in live.cards:
        b.card(card)


def _fixture(b: _Builder) -> dict[str, Any]:
    """The seed format of README.md, everything in a stable order."""
    return {
        "formatVersion": 1,
        "sources": [{"source": s, "accounts": sorted(a)} for s, a in sorted(b.accounts.items())],
        "labels": [{"label": x.label, "status": x.status, "default": x.default} for x in b.labels.values()],
        "series": [_series(s) for s in sorted(b.series.values(), key=lambda s: s.id)],
        "customers": sorted(b.customers.values(), key=lambda c: c["id"]),
        "cards": sorted(b.cards.values(), key=lambda c: c["number"]),
    }


def _seed_holder(b: _Builder, identifier: Identifier, holder: Holder | None) -> None:
    if holder is None:
        return
    if holder.unknown:
        b.unseeded.append(f"a holder of a {identifier.type}: {holder.unknown}")
        return
    if holder.scope is None and not (holder.victim or holder.campaign):
        b.unseeded.append(f"a holder of a {identifier.type}: its profile is unknown")
        return
    cid = holder.customer_id or b.synthetic()
    scope = holder.scope or ProfileKey("INSTORE")
    extra: dict[str, Any] = {}
    if holder.victim:
        survivor = holder.survivor or b.synthetic()
        b.customer(survivor)
        extra["mergedInto"] = survivor
    if holder.campaign:
        extra["loyaltyType"] = "non_loyalty"
    known = cid in b.customers
    b.customer(cid, **extra)
    if not known or holder.victim or holder.campaign:
        b.identifier(cid, scope, identifier)
    elif not any(
        i["value"] == identifier.value
        for p in b.customers[cid]["profiles"]
        if (p["source"], p["accountId"]) == (scope.source, scope.account_id)
        for i in p["identifiers"]
    ):
        b.identifier(cid, scope, identifier)  # a holder read without this value: the lookup is newer


def _series(s: Series) -> dict[str, Any]:
    return {
        "id": s.id,
        "code": s.code,
        "name": s.name,
        "type": s.type,
        "maxActiveCardsPerCustomer": s.max_active_per_customer,
        "cardGenerationEnabled": s.generation_enabled,
        "isActive": s.active,
    }
