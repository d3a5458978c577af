"""From one file's positioned data to ``DesiredCustomer`` values, reporting every structural problem.

This is the loader's fast equivalent of ``schemas/state.schema.json`` (running jsonschema over 100,000
customers takes longer than the whole load budget); the tests check that both accept and reject the same
documents. Problems point at the offending key or value.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from reconciler.desired import rules
from reconciler.errors import Problem
from reconciler.model import (
    CardSpec,
    DesiredCustomer,
    DesiredIdentifier,
    DesiredProfile,
    Location,
    ProfileKey,
)
from reconciler.yaml.reader import Pos, YList, YMap

FILE_KEYS = ("customers",)
CUSTOMER_KEYS = ("id", "note", "identifiers", "cards", "allow")
CARD_KEYS = ("number", "series", "status")
ALLOW_KEYS = ("merge_with",)
DEFAULT_STATUS = "ACTIVE"


class FileBuilder:
    """Builds the customers of one file; ``problems`` collects what is wrong with them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[Problem] = []
        self.declared: list[tuple[int, Location]] = []  # every valid id, even of customers with problems

    def problem(self, pos: Pos, message: str) -> None:
        self.problems.append(Problem(self.name, pos[0], pos[1], message))

    def loc(self, pos: Pos) -> Location:
        return Location(self.name, pos[0], pos[1])

    def customers(self, data: Any) -> list[DesiredCustomer]:
        """Every well-formed customer of the file (an empty file declares none)."""
        if data is None:
            return []
        if not isinstance(data, YMap):
            self.problem(_pos_of(data), "a state file is a mapping with one key, 'customers:'")
            return []
        self.unknown_keys(data, FILE_KEYS, "file")
        items = data.get("customers")
        if "customers" not in data:
            self.problem(data.pos, "missing 'customers:' (a list of customers)")
            return []
        if not isinstance(items, YList):
            self.problem(data.val_pos["customers"], "'customers' must be a list of customers")
            return []
        built = (self.customer(item, pos) for item, pos in zip(items, items.item_pos, strict=True))
        return [c for c in built if c is not None]

    def unknown_keys(self, node: YMap, allowed: tuple[str, ...], what: str) -> None:
        for key in node:
            if key not in allowed:
                self.problem(
                    node.key_pos[key], f"unknown key '{key}' in {what} (allowed: {', '.join(allowed)})"
                )

    def customer(self, node: Any, pos: Pos) -> DesiredCustomer | None:
        if not isinstance(node, YMap):
            self.problem(pos, "a customer is a mapping with at least 'id:'")
            return None
        before = len(self.problems)
        self.unknown_keys(node, CUSTOMER_KEYS, "customer")
        cid = self.customer_id(node)
        if cid is not None:
            self.declared.append((cid, self.loc(node.pos)))
        note = self.string(node, "note", "") if "note" in node else ""
        profiles = self.profiles(node)
        cards = self.cards(node)
        merge_with = self.merge_with(node, cid)
        if cid is None or len(self.problems) > before:
            return None
        return DesiredCustomer(cid, profiles, cards, merge_with, self.loc(node.pos), note)

    def customer_id(self, node: YMap) -> int | None:
        if "id" not in node:
            self.problem(node.pos, "customer without 'id:' (the Capillary customer id)")
            return None
        value = node["id"]
        if type(value) is not int or value <= 0:
            self.problem(node.val_pos["id"], f"customer id must be a positive integer, not {_show(value)}")
            return None
        return value

    def string(self, node: YMap, key: str, what: str) -> str:
        value = node[key]
        if isinstance(value, str):
            return value
        hint = (
            f': quote it ("{value}")'
            if isinstance(value, int | float) and not isinstance(value, bool)
            else ""
        )
        self.problem(node.val_pos[key], f"{what or key} must be a string, not {_show(value)}{hint}")
        return ""

    def profiles(self, node: YMap) -> tuple[DesiredProfile, ...]:
        if "identifiers" not in node:
            return ()
        value = node["identifiers"]
        if not isinstance(value, YMap):
            self.problem(
                node.val_pos["identifiers"],
                "'identifiers' must map profiles (SOURCE or SOURCE:account) to identifiers",
            )
            return ()
        built = (self.profile(value, key) for key in value)
        return tuple(p for p in built if p is not None)

    def profile(self, parent: YMap, key: str) -> DesiredProfile | None:
        why = rules.profile_key_problem(key)
        if why:
            self.problem(parent.key_pos[key], why)
            return None
        node, source = parent[key], key.partition(":")[0]
        if not isinstance(node, YMap):
            hint = ": write {} to remove every managed identifier, or delete the line" if node is None else ""
            self.problem(parent.val_pos[key], f"profile {key} must map identifier types to values{hint}")
            return None
        identifiers = []
        name, val_pos = self.name, node.val_pos
        for type_, value in node.items():
            why = None
            if type(value) is str:
                why = rules.identifier_problem(source, type_, value)
            else:
                value = self.string(node, type_, type_)
            if why:
                self.problem(val_pos[type_] if type_ in rules.IDENTIFIER_TYPES else node.key_pos[type_], why)
            line, col = val_pos[type_]
            identifiers.append(DesiredIdentifier(type_, value, Location(name, line, col)))
        return DesiredProfile(_profile_key(key), tuple(identifiers), self.loc(parent.key_pos[key]))

    def cards(self, node: YMap) -> tuple[CardSpec, ...] | None:
        if "cards" not in node:
            return None
        value = node["cards"]
        if not isinstance(value, YList):
            hint = ": write [] to delink every card, or delete the line" if value is None else ""
            self.problem(node.val_pos["cards"], f"'cards' must be a list of cards{hint}")
            return None
        built = (self.card(item, pos) for item, pos in zip(value, value.item_pos, strict=True))
        return tuple(c for c in built if c is not None)

    def card(self, node: Any, pos: Pos) -> CardSpec | None:
        if not isinstance(node, YMap):
            self.problem(pos, "a card is a mapping: {number?, series, status?}")
            return None
        self.unknown_keys(node, CARD_KEYS, "card")
        number = self.string(node, "number", "card number") if "number" in node else None
        if number is not None and not number.strip():
            self.problem(node.val_pos["number"], "empty card number: omit 'number' to have one generated")
        status = self.string(node, "status", "card status") if "status" in node else DEFAULT_STATUS
        if "status" in node and isinstance(node["status"], str) and not status.strip():
            self.problem(node.val_pos["status"], "empty card status: omit it for ACTIVE")
        series = node.get("series")
        if "series" not in node:
            self.problem(pos, "card without 'series:' (series id or code)")
            return None
        if not ((type(series) is int and series > 0) or (isinstance(series, str) and series.strip())):
            self.problem(
                node.val_pos["series"], f"series must be an id (integer) or a code, not {_show(series)}"
            )
            return None
        return CardSpec(number, series, status, self.loc(pos))

    def merge_with(self, node: YMap, cid: int | None) -> frozenset[int]:
        allow = node.get("allow")
        if "allow" not in node:
            return frozenset()
        if not isinstance(allow, YMap):
            self.problem(node.val_pos["allow"], "'allow' must be a mapping: {merge_with: [customer ids]}")
            return frozenset()
        self.unknown_keys(allow, ALLOW_KEYS, "allow")
        ids = allow.get("merge_with", [])
        if not isinstance(ids, list):
            self.problem(allow.val_pos["merge_with"], "'merge_with' must be a list of customer ids")
            return frozenset()
        for item, pos in zip(ids, getattr(ids, "item_pos", []), strict=True):
            if type(item) is not int or item <= 0:
                self.problem(pos, f"merge_with holds customer ids (positive integers), not {_show(item)}")
            elif item == cid:
                self.problem(pos, "a customer cannot list itself in merge_with")
        return frozenset(i for i in ids if type(i) is int)


@functools.lru_cache(maxsize=4096)
def _profile_key(text: str) -> ProfileKey:
    return ProfileKey.parse(text)


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__.replace('str', 'string')} {value!r}"


def _pos_of(data: Any) -> Pos:
    return getattr(data, "pos", (1, 1))


def fingerprint(customer: DesiredCustomer) -> str:
    """A stable sha256 of what the customer declares: no locations, no note, order-insensitive.

    Computed on demand (``--changed-since`` needs it only for the customers of changed files): for all
    100,000 customers of a large state it would cost a fifth of the load.
    """
    cid, profiles, cards, merge_with = customer.id, customer.profiles, customer.cards, customer.merge_with
    declared = sorted((str(p.key), sorted((i.type, i.value) for i in p.identifiers)) for p in profiles)
    card_list = None
    if cards is not None:
        card_list = sorted((c.number or "", str(c.series), type(c.series).__name__, c.status) for c in cards)
    canonical = [cid, declared, card_list, sorted(merge_with)]
    # repr of ints, strings, lists and tuples is canonical and much faster than json.dumps here
    return hashlib.sha256(repr(canonical).encode()).hexdigest()
