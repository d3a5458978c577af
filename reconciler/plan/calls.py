"""The exact API writes apply will make, and their order (docs/architecture.md 4.6 and 5.3).

- One ``changeIdentifier`` per (customer, profile) for all its non-card adds and removes; one per card
  link or delink (the API takes one card per call); ``POST /v2/card`` per create; ``POST /v2/card/generate``
  (count 1) per generate, whose number the following link takes from the generate call's result;
  ``PUT /v2/card`` per status change.
- Each customer's calls form a chain (the API refuses concurrent actions on one customer, 521): releases
  first, then identifier calls, other delinks, status changes, creates/generates with their links, and an
  allowed merge last (after it the customer is a victim). Calls of different customers depend on each
  other only through moves: a move's call runs after the call that releases the value.
- A profile call that both releases a value and receives a moved one is split in two (release first), so
  the dependency graph has no cycles; every other profile keeps one call.
- Blocked actions produce no call.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.model import ProfileKey
from reconciler.plan.diff import ADD, CREATE, DELINK, GENERATE, LINK, REMOVE, STATUS
from reconciler.plan.document import (
    CARD_NUMBER,
    CHANGE_IDENTIFIER,
    CREATE_CARD,
    GENERATE_CARD,
    MERGE,
    MOVE,
    UPDATE_CARD,
    Action,
    Call,
    CallItem,
    Op,
)

_RELEASES, _IDENTIFIERS, _DELINKS, _STATUS, _CARDS, _MERGES = range(6)


@dataclass(frozen=True, slots=True)
class _Draft:
    customer_id: int
    group: int
    op: Op
    profile: ProfileKey | None
    actions: tuple[Action, ...]


def build_calls(actions: Sequence[Action]) -> tuple[Call, ...]:
    """The calls performing every unblocked action, in a valid execution order, ids ``c1``..``cN``."""
    by_customer: dict[int, list[Action]] = defaultdict(list)
    for a in actions:
        if not a.blocked:
            by_customer[a.customer_id].append(a)
    drafts = [d for cid in sorted(by_customer) for d in _customer_drafts(by_customer[cid])]
    return _order(drafts)


def _customer_drafts(actions: list[Action]) -> list[_Draft]:
    drafts = _identifier_drafts([a for a in actions if a.kind in (ADD, REMOVE)])
    cards = [a for a in actions if a.kind not in (ADD, REMOVE)]
    for a in cards:
        group = {DELINK: _RELEASES if a.releases_to else _DELINKS, STATUS: _STATUS}.get(a.kind, _CARDS)
        op = {CREATE: CREATE_CARD, GENERATE: GENERATE_CARD, STATUS: UPDATE_CARD}.get(
            a.kind, CHANGE_IDENTIFIER
        )
        if a.kind == STATUS and a.depends_on and any(d.id in a.depends_on for d in cards):
            group = _CARDS  # the status of a card linked in this plan follows its link
        drafts.append(_Draft(a.customer_id, group, op, a.profile, (a,)))
    return sorted(drafts, key=lambda d: d.group)  # stable: keeps plan order within a group


def _identifier_drafts(actions: list[Action]) -> list[_Draft]:
    by_profile: dict[ProfileKey, list[Action]] = defaultdict(list)
    for a in actions:
        by_profile[a.profile].append(a)
    drafts = []
    for profile in sorted(by_profile):
        items = by_profile[profile]
        cid = items[0].customer_id
        merges = tuple(a for a in items if a.risk == MERGE)
        releases = tuple(a for a in items if a.releases_to is not None)
        rest = tuple(a for a in items if a not in merges and a not in releases)
        if releases and any(a.risk == MOVE for a in rest):
            drafts.append(_Draft(cid, _RELEASES, CHANGE_IDENTIFIER, profile, releases))
        else:
            rest = releases + rest
        group = _RELEASES if releases and rest and rest[0] in releases else _IDENTIFIERS
        if rest:
            drafts.append(_Draft(cid, group, CHANGE_IDENTIFIER, profile, rest))
        if merges:
            drafts.append(_Draft(cid, _MERGES, CHANGE_IDENTIFIER, profile, merges))
    return drafts


def _order(drafts: list[_Draft]) -> tuple[Call, ...]:
    """Topological order (chain + move/create/generate dependencies), ties by customer then chain."""
    owner = {a.id: i for i, d in enumerate(drafts) for a in d.actions}
    deps: dict[int, set[int]] = {i: set() for i in range(len(drafts))}
    for i, d in enumerate(drafts):
        if i > 0 and drafts[i - 1].customer_id == d.customer_id:
            deps[i].add(i - 1)
        deps[i] |= {owner[x] for a in d.actions for x in a.depends_on if x in owner and owner[x] != i}
    order = _toposort(drafts, deps)
    ids = {i: f"c{n}" for n, i in enumerate(order, 1)}
    generated = _generate_calls(drafts, owner, ids)
    calls = []
    for i in order:
        after = tuple(sorted((ids[j] for j in deps[i]), key=_num))
        calls.append(_call(drafts[i], ids[i], after, generated))
    return tuple(calls)


def _generate_calls(drafts: list[_Draft], owner: dict[str, int], ids: dict[int, str]) -> dict[str, str]:
    """For each action on a generated card (value None), the id of the call that generates it."""
    by_id = {a.id: a for d in drafts for a in d.actions}
    out: dict[str, str] = {}
    for a in by_id.values():
        if a.value is not None or a.kind == GENERATE:
            continue
        cur: Action | None = a
        while cur is not None and cur.kind != GENERATE:
            cur = next((by_id[x] for x in cur.depends_on if x in by_id), None)
        if cur is not None:
            out[a.id] = ids[owner[cur.id]]
    return out


def _num(call_id: str) -> int:
    return int(call_id[1:])


def _toposort(drafts: list[_Draft], deps: dict[int, set[int]]) -> list[int]:
    waiting = {i: set(d) for i, d in deps.items()}
    users: dict[int, list[int]] = defaultdict(list)
    for i, ds in deps.items():
        for j in ds:
            users[j].append(i)
    ready = [(drafts[i].customer_id, i) for i, ds in waiting.items() if not ds]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            waiting[u].discard(i)
            if not waiting[u]:
                heapq.heappush(ready, (drafts[u].customer_id, u))
    if len(order) != len(drafts):
        raise RuntimeError("the plan's calls depend on each other in a cycle")  # a bug, not bad input
    return order


def _item(a: Action, gen_call: str | None) -> CallItem:
    sid = a.series if isinstance(a.series, int) else None
    code = a.series if isinstance(a.series, str) else None
    if a.type.lower() != CARD_NUMBER:
        return CallItem(a.type, a.value)
    return CallItem(CARD_NUMBER, a.value, sid, code, a.label, gen_call if a.value is None else None)


def _call(d: _Draft, call_id: str, after: tuple[str, ...], generated: dict[str, str]) -> Call:
    actions = tuple(a.id for a in d.actions)
    if d.op != CHANGE_IDENTIFIER:
        card = _item(d.actions[0], generated.get(d.actions[0].id))
        return Call(call_id, d.customer_id, d.op, after, actions, card=card)
    profile = d.profile or ProfileKey("INSTORE")
    adds = tuple(_item(a, generated.get(a.id)) for a in d.actions if a.kind in (ADD, LINK))
    removes = tuple(_item(a, generated.get(a.id)) for a in d.actions if a.kind in (REMOVE, DELINK))
    return Call(call_id, d.customer_id, d.op, after, actions, profile, adds, removes)
