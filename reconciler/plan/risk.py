"""The risk of each change, from the current holder of what it adds (docs/architecture.md 4.4).

- plain: nobody holds it (or this same customer does, in another of its profiles: not a merge);
- move: a declared customer in this plan holds it and this plan releases it there (release runs first);
- conflict: another customer keeps it in the same scope (the API would answer 8007/8008), or keeps a card;
- merge: another customer keeps it in another scope: an irreversible auto-merge, blocked unless both
  customers list each other in ``allow.merge_with`` (``--force`` never allows it);
- blocked: the holder is a merge victim or campaign account, or the lookup's answer could not be classified
  (never read as "nobody"), the customer is unknown (8015), a victim
  (8069) or not ACTIVE, the card is EXPIRED/DELETED or in another series, the series is unknown,
  inactive or cannot generate, the label is unknown, the source or account is not one of the org's
  (8011 at apply), or the holder was not looked up.
A holder that is a declared customer outside this plan's scope keeps what it holds (conflict or merge).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from reconciler.model import DesiredCustomer, Holder, Identifier, Observed, ProfileKey
from reconciler.plan.cardrisk import CardAssessor
from reconciler.plan.catalog import Catalog
from reconciler.plan.diff import ADD, DELINK, GENERATE, LINK, REMOVE, STATUS, Change, Changes, CustomerChanges
from reconciler.plan.document import BLOCKED, CONFLICT, MERGE, MOVE, PLAIN, Action


class Assessor(CardAssessor):
    """Turns ``Changes`` into ``Action``s, given holders, series, labels and every declared customer."""

    def run(self) -> list[Action]:
        """Assess every change; releases are linked to the moves that need them."""
        self._index_releases()
        for cc in self.changes.customers:
            for ch in cc.changes:
                self._assess(cc, ch)
        return self._card_limits(_one_survivor(self._mark_releases()))

    def _assess(self, cc: CustomerChanges, ch: Change) -> None:
        if ch.kind in (REMOVE, DELINK):
            self._assess_release(cc, ch)
        elif ch.kind == ADD:
            self._assess_add(cc, ch)
        elif ch.kind == STATUS:
            self._assess_status(cc, ch)
        elif ch.kind == GENERATE:
            self._assess_generate(cc, ch)
        elif ch.kind == LINK:
            self._assess_link(cc, ch)

    def _assess_release(self, cc: CustomerChanges, ch: Change) -> None:
        """A remove or delink is plain; its placeholder ``rN`` now names its action."""
        label = self.catalog.not_issued() if ch.kind == DELINK else None
        made = self._add(cc, ch, ch.kind, PLAIN, "", label=label)
        if ch.kind == REMOVE:
            placeholder = self._id_releases.get((Identifier(ch.type, ch.value or ""), cc.id))
        else:
            placeholder = self._card_releases.get((ch.value or "", cc.id))
        if placeholder is not None:
            self._placeholders[placeholder] = made

    # ----- identifiers ---------------------------------------------------------------------------

    def _assess_add(self, cc: CustomerChanges, ch: Change) -> None:
        ident = Identifier(ch.type, ch.value or "")
        if ident not in self.holders:
            self._add(cc, ch, ADD, BLOCKED, "the current holder was not looked up")
            return
        holder = self.holders[ident]
        if holder is not None and holder.unknown:  # never read as "nobody holds it"
            h = holder.customer_id or None
            self._add(cc, ch, ADD, BLOCKED, f"who holds it is unclear: {holder.unknown}", holder=h)
            return
        if self._added_twice(cc, ch, ident, holder):
            return
        if holder is None or holder.customer_id == cc.id:
            where = f"; this customer already holds it in {holder.scope}" if holder and holder.scope else ""
            self._add(cc, ch, ADD, PLAIN, where.lstrip("; "))
            return
        self._assess_held(cc, ch, ident, holder)

    def _added_twice(self, cc: CustomerChanges, ch: Change, ident: Identifier, holder: Holder | None) -> bool:
        """Two customers in this plan adding the same value: the later add conflicts or merges."""
        others = {c: p for c, p in self._adders.get(ident, {}).items() if c != cc.id}
        if not others:
            return False
        other = min(others)
        same = [c for c, p in others.items() if p == ch.profile]
        h = holder.customer_id if holder is not None else None
        if same:
            reason = (
                f"this plan also adds it to customer {min(same)} in {ch.profile} (the API would answer 8007)"
            )
            self._add(cc, ch, ADD, CONFLICT, reason, holder=h)
        else:
            reason = (
                f"this plan also adds it to customer {other} in {others[other]}: the second add would merge "
                "the two customers irreversibly"
            )
            self._add(cc, ch, ADD, MERGE, reason, holder=h, block=True)
        return True

    def _assess_held(self, cc: CustomerChanges, ch: Change, ident: Identifier, holder: Holder) -> None:
        h = holder.customer_id
        if holder.victim or holder.campaign:
            who = f"customer {h}" if h else "an unnamed customer"
            what = holder.victim_text() if holder.victim else f"{who}, a campaign account"
            reason = f"held by {what}: the API blocks its reuse"
            self._add(cc, ch, ADD, BLOCKED, reason, holder=h or None)
            return
        release = self._id_releases.get((ident, h))
        if release is not None:
            self._add(
                cc,
                ch,
                ADD,
                MOVE,
                f"moves from customer {h}, which releases it first",
                holder=h,
                depends_on=(release,),
            )
        elif holder.scope == ch.profile:
            self._add(
                cc,
                ch,
                ADD,
                CONFLICT,
                f"customer {h} holds it in {ch.profile} and keeps it (the API would answer 8007/8008)",
                holder=h,
            )
        else:
            self._assess_merge(cc, ch, h, holder.scope)

    def _assess_merge(self, cc: CustomerChanges, ch: Change, h: int, scope: ProfileKey | None) -> None:
        other = self.all_declared.get(h)
        allowed = h in cc.desired.merge_with and other is not None and cc.id in other.merge_with
        where = f"in {scope}" if scope else "in another scope"
        if allowed:
            reason = (
                f"MERGES customer {cc.id} into customer {h} (held {where}); irreversible, allowed by both"
            )
        else:
            reason = (
                f"customer {h} holds it {where}: adding it would merge customer {cc.id} into {h} "
                "irreversibly; blocked unless both list each other in allow.merge_with"
            )
        self._add(cc, ch, ADD, MERGE, reason, holder=h, block=not allowed)

    # ----- releases ------------------------------------------------------------------------------

    def _mark_releases(self) -> list[Action]:
        """Resolve release placeholders to action ids and mark the removes/delinks that moves need."""
        out = [
            replace(a, depends_on=tuple(self._placeholders.get(d, d) for d in a.depends_on))
            for a in self.actions
        ]
        movers = {d: a.customer_id for a in out if a.risk == MOVE for d in a.depends_on}
        blocked = {a.id: a.customer_id for a in out if a.blocked}
        return [_release_or_move(a, movers, blocked) for a in out]


def _one_survivor(actions: list[Action]) -> list[Action]:
    """A customer merges into one survivor: merges into two or more are all blocked (the API answers
    8053, "Each identifier is registered with a different customer in other source")."""
    into: dict[int, set[int]] = {}
    for a in actions:
        if a.risk == MERGE and not a.blocked and a.holder is not None:
            into.setdefault(a.customer_id, set()).add(a.holder)
    many = {cid: sorted(hs) for cid, hs in into.items() if len(hs) > 1}
    out = []
    for a in actions:
        if a.risk == MERGE and not a.blocked and a.customer_id in many:
            names = ", ".join(str(h) for h in many[a.customer_id])
            why = (
                f"customer {a.customer_id} would merge into {len(many[a.customer_id])} customers ({names}): "
                "an account merges into one survivor (the API answers 8053)"
            )
            a = replace(a, blocked=True, reason=why)
        out.append(a)
    return out


def _release_or_move(a: Action, movers: dict[str, int], blocked: dict[str, int]) -> Action:
    """Mark a release with its taker; block a move whose release is blocked (it could never run)."""
    if a.id in movers and not a.blocked:
        return replace(a, releases_to=movers[a.id], reason=f"released for customer {movers[a.id]} (move)")
    if a.id in movers:
        return replace(a, releases_to=movers[a.id])
    stuck = [d for d in a.depends_on if d in blocked]
    if a.risk == MOVE and stuck and not a.blocked:
        reason = f"{a.reason}; but customer {blocked[stuck[0]]} cannot release it (its action is blocked)"
        return replace(a, blocked=True, reason=reason)
    return a


def assess(changes: Changes, observed: Observed, all_declared: Mapping[int, DesiredCustomer]) -> list[Action]:
    """Every change of ``changes`` as an Action with its risk, reason and dependencies, judged against
    what the plan ``observed`` (holders, cards, series, labels, sources)."""
    catalog = Catalog(observed.series, observed.labels, observed.sources)
    return Assessor(changes, observed.holders, observed.cards, catalog, all_declared).run()
