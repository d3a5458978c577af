"""Checks across customers and files: duplicates (with every location involved), card labels and series."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from reconciler.errors import Problem
from reconciler.model import DesiredCustomer, Location


def cross_file_problems(
    customers: Iterable[DesiredCustomer], declared: Iterable[tuple[int, Location]]
) -> list[Problem]:
    """Every customer id (of ``declared``), identifier (per scope) and card number declared more than once."""
    ids: dict[int, list[tuple[Location, int]]] = {}
    identifiers: dict[tuple[Any, ...], list[tuple[Location, int]]] = {}
    cards: dict[str, list[tuple[Location, int]]] = {}
    for cid, loc in declared:
        ids.setdefault(cid, []).append((loc, cid))
    for customer in customers:
        for profile in customer.profiles:
            scope = str(profile.key)  # a str hashes in C; the dataclass's hash is Python code
            for ident in profile.identifiers:
                identifiers.setdefault((scope, ident.type, ident.value), []).append((ident.loc, customer.id))
        for card in customer.cards or ():
            if card.number is not None:
                cards.setdefault(card.number, []).append((card.loc, customer.id))
    problems: list[Problem] = []
    for cid, places in ids.items():
        if len(places) > 1:
            problems += _repeated(places, f"customer {cid} declared {len(places)} times")
    for (scope, type_, value), places in identifiers.items():
        if len(places) > 1:
            problems += _repeated(places, f"{type_} '{value}' in {scope} declared on {_owners(places)}")
    for number, places in cards.items():
        if len(places) > 1:
            problems += _repeated(
                places, f"card number '{number}' declared {len(places)} times ({_owners(places)})"
            )
    return problems


def _owners(places: list[tuple[Location, int]]) -> str:
    owners = sorted({cid for _, cid in places})
    return f"customer{'s' if len(owners) > 1 else ''} {', '.join(map(str, owners))}"


def _repeated(places: list[tuple[Location, int]], message: str) -> list[Problem]:
    problems = []
    for loc, _ in places:
        others = ", ".join(str(other) for other, _ in places if other != loc)
        problems.append(Problem(loc.file, loc.line, loc.col, f"{message}; also at {others}"))
    return problems


def catalogue_problems(
    customers: Iterable[DesiredCustomer],
    labels: Collection[str] | None,
    series: Collection[int | str] | None,
) -> list[Problem]:
    """Card status labels and series that the org does not have (only for what is given)."""
    problems: list[Problem] = []
    known_labels = frozenset(labels) if labels is not None else None
    known_series = frozenset(series) if series is not None else None
    for customer in customers:
        for card in customer.cards or ():
            loc = card.loc
            if known_labels is not None and card.status not in known_labels:
                choices = ", ".join(sorted(known_labels))
                problems.append(
                    Problem(
                        loc.file,
                        loc.line,
                        loc.col,
                        f"unknown card status '{card.status}' (org labels: {choices})",
                    )
                )
            if known_series is not None and card.series not in known_series:
                problems.append(Problem(loc.file, loc.line, loc.col, f"unknown card series {card.series!r}"))
    return problems
