"""From one file's positioned data to ``DesiredCustomer`` values, reporting every structural problem.

This is the loader's fast equivalent of ``schemas/state.schema.json`` (running jsonschema over 100,000
customers takes longer than the whole load budget); the tests check that both accept and reject the same
documents. Problems point at the offending key or value, one per value: a value the reader already
reported (``INVALID``) is skipped, and a value of the wrong type is not checked again as if it were empty.
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
from reconciler.yaml.reader import INVALID, Pos, YList, YMap

FILE_KEYS = ("customers",)
CUSTOMER_KEYS = ("id", "note", "identifiers", "cards", "allow")
CARD_KEYS = ("number", "series", "status")
ALLOW_KEYS = ("merge_with",)
DEFAULT_STATUS = "ACTIVE"
MAX_ID = 2**63 - 1  # ids are signed 64-bit integers in the API (and in the sandbox's SQLite)


class FileBuilder:
    """Builds the customers of one file; ``problems`` collects what is wrong with them."""

    def __init__(self, name: str, source: dict[Pos, str] | None = None) -> None:
        self.name = name
        self.source = source or {}  # the text of each scalar that is not a string, as written
        self.problems: list[Problem] = []
        self.declared: list[tuple[int, Location]] = []  # every valid id, even of customers with problems

    def problem(self, pos: Pos, message: str, value: Any = None) -> None:
        """Record ``message`` at ``pos``, unless ``value`` was reported already where it is written."""
        if value is not INVALID:
            self.problems.append(Problem(self.name, pos[0], pos[1], message))

    def loc(self, pos: Pos) -> Location:
        return Location(self.name, pos[0], pos[1])

    def customers(self, data: Any) -> list[DesiredCustomer]:
        """Every well-formed customer of the file (an empty file declares none)."""
        if data is None:
            return []
        if not isinstance(data, YMap):
            self.problem(_pos_of(data), "a state file is a mapping with one key, 'customers:'", data)
            return []
        self.unknown_keys(data, FILE_KEYS, "file")
        items = data.get("customers")
        if "customers" not in data:
            self.problem(data.pos, "missing 'customers:' (a list of customers)")
            return []
        if not isinstance(items, YList):
            self.problem(data.val_pos["customers"], "'customers' must be a list of customers", items)
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
            self.problem(pos, "a customer is a mapping with at least 'id:'", node)
            return None
        self.unknown_keys(node, CUSTOMER_KEYS, "customer")
        cid = self.customer_id(node)
        if cid is not None:
            self.declared.append((cid, self.loc(node.pos)))
        note = (self.string(node, "note", "") or "") if "note" in node else ""
        profiles = self.profiles(node)
        cards = self.cards(node)
        merge_with = self.merge_with(node, cid)
        if cid is None:
            return None
        # A customer with problems is still returned, with what of it parsed: the checks across files
        # (invariants.py) run over it too, so one run says every problem. A state with problems is never
        # planned (load_state raises).
        return DesiredCustomer(cid, profiles, cards, merge_with, self.loc(node.pos), note)

    def customer_id(self, node: YMap) -> int | None:
        if "id" not in node:
            self.problem(node.pos, "customer without 'id:' (the Capillary customer id)")
            return None
        value, pos = node["id"], node.val_pos["id"]
        why = self.id_problem(value, pos)
        if why:
            self.problem(pos, f"customer id {why}", value)
            return None
        return value  # type: ignore[no-any-return]

    def id_problem(self, value: Any, pos: Pos) -> str | None:
        """Why ``value`` is not an id (a positive 64-bit integer), or None."""
        if type(value) is not int or value <= 0:
            return f"must be a positive integer, not {self.show(value, pos)}"
        if value > MAX_ID:
            return f"{self.source.get(pos, value)} is out of range (at most {MAX_ID})"
        return None

    def string(self, node: YMap, key: str, what: str) -> str | None:
        """The string at ``key``; None (and one problem) if the value is anything else."""
        value, pos = node[key], node.val_pos[key]
        if isinstance(value, str):
            return value
        hint = f': quote it ("{self.source[pos]}")' if pos in self.source and value is not None else ""
        self.problem(pos, f"{what or key} must be a string, not {self.show(value, pos)}{hint}", value)
        return None

    def show(self, value: Any, pos: Pos) -> str:
        """``value`` as the message names it, numbers as they were written."""
        if pos in self.source and value is not None:
            return f"{type(value).__name__} {self.source[pos]}"
        return _show(value)

    def profiles(self, node: YMap) -> tuple[DesiredProfile, ...]:
        if "identifiers" not in node:
            return ()
        value = node["identifiers"]
        if not isinstance(value, YMap):
            self.problem(
                node.val_pos["identifiers"],
                "'identifiers' must map profiles (SOURCE or SOURCE:account) to identifiers",
                value,
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
            self.problem(
                parent.val_pos[key], f"profile {key} must map identifier types to values{hint}", node
            )
            return None
        identifiers = []
        name, val_pos = self.name, node.val_pos
        for type_, value in node.items():
            why = rules.type_problem(source, type_)
            if why:
                self.problem(val_pos[type_] if type_ in rules.IDENTIFIER_TYPES else node.key_pos[type_], why)
            elif type(value) is not str:
                self.string(node, type_, type_)
            else:
                why = rules.value_problem(type_, value)
                if why:
                    self.problem(val_pos[type_], why)
            line, col = val_pos[type_]
            identifiers.append(DesiredIdentifier(type_, value, Location(name, line, col)))
        return DesiredProfile(_profile_key(key), tuple(identifiers), self.loc(parent.key_pos[key]))

    def cards(self, node: YMap) -> tuple[CardSpec, ...] | None:
        if "cards" not in node:
            return None
        value = node["cards"]
        if not isinstance(value, YList):
            hint = ": write [] to delink every card, or delete the line" if value is None else ""
            self.problem(node.val_pos["cards"], f"'cards' must be a list of cards{hint}", value)
            return None
        built = (self.card(item, pos) for item, pos in zip(value, value.item_pos, strict=True))
        return tuple(c for c in built if c is not None)

    def card(self, node: Any, pos: Pos) -> CardSpec | None:
        if not isinstance(node, YMap):
            self.problem(pos, "a card is a mapping: {number?, series, status?}", node)
            return None
        before = len(self.problems)
        self.unknown_keys(node, CARD_KEYS, "card")
        number = self.card_text(node, "number", "card number", "omit 'number' to have one generated")
        status = self.card_text(node, "status", "card status", "omit it for ACTIVE")
        if "series" not in node:
            self.problem(pos, "card without 'series:' (series id or code)")
            return None
        series, spos = node["series"], node.val_pos["series"]
        if isinstance(series, str):
            why = "empty series code" if not series.strip() else rules.visible_problem("series code", series)
        elif type(series) is int and series > 0:
            why = self.id_problem(series, spos)
        else:
            why = f"series must be an id (integer) or a code, not {self.show(series, spos)}"
        if why:
            self.problem(spos, why, series)
            return None
        if len(self.problems) > before:  # the customer is not built; its card needs no value
            return None
        return CardSpec(number, series, status or DEFAULT_STATUS, self.loc(pos))

    def card_text(self, node: YMap, key: str, what: str, omit: str) -> str | None:
        """A card's number or status: None (absent, or one problem recorded) unless a visible string."""
        if key not in node:
            return None
        value = self.string(node, key, what)
        if value is None:
            return None
        why = f"empty {what}: {omit}" if not value.strip() else rules.visible_problem(what, value)
        if why:
            self.problem(node.val_pos[key], why)
            return None
        return value

    def merge_with(self, node: YMap, cid: int | None) -> frozenset[int]:
        allow = node.get("allow")
        if "allow" not in node:
            return frozenset()
        if not isinstance(allow, YMap):
            msg = "'allow' must be a mapping: {merge_with: [customer ids]}"
            self.problem(node.val_pos["allow"], msg, allow)
            return frozenset()
        self.unknown_keys(allow, ALLOW_KEYS, "allow")
        ids = allow.get("merge_with", [])
        if not isinstance(ids, list):
            self.problem(allow.val_pos["merge_with"], "'merge_with' must be a list of customer ids", ids)
            return frozenset()
        for item, pos in zip(ids, getattr(ids, "item_pos", []), strict=True):
            why = self.id_problem(item, pos)
            if why:
                self.problem(pos, f"merge_with holds customer ids: {why}", item)
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
