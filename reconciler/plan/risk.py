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
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.model import (
    COUNTED_CARD_STATUSES,
    DEAD_CARD_STATUSES,
    DesiredCustomer,
    Holder,
    Identifier,
    LiveCard,
    Observed,
    ProfileKey,
    transition_problem,
)
from reconciler.plan.catalog import Catalog
from reconciler.plan.diff import (
    ADD,
    CREATE,
    DELINK,
    GENERATE,
    LINK,
    REMOVE,
    STATUS,
    Change,
    Changes,
    CustomerChanges,
    Kind,
    in_series,
)
from reconciler.plan.document import BLOCKED, CONFLICT, MERGE, MOVE, PLAIN, Action, Risk


@dataclass
class Assessor:
    """Turns ``Changes`` into ``Action``s, given holders, series, labels and every declared customer."""

    changes: Changes
    holders: Mapping[Identifier, Holder | None]
    card_holders: Mapping[str, LiveCard | None]
    catalog: Catalog
    all_declared: Mapping[int, DesiredCustomer]
    actions: list[Action] = field(default_factory=list)
    _id_releases: dict[tuple[Identifier, int], str] = field(default_factory=dict)
    _card_releases: dict[tuple[str, int], str] = field(default_factory=dict)
    _placeholders: dict[str, str] = field(default_factory=dict)  # "rN" -> the remove/delink action id
    # value -> the customers this plan adds it to, and in which profile
    _adders: dict[Identifier | str, dict[int, ProfileKey]] = field(default_factory=dict)

    def run(self) -> list[Action]:
        """Assess every change; releases are linked to the moves that need them."""
        self._index_releases()
        for cc in self.changes.customers:
            for ch in cc.changes:
                self._assess(cc, ch)
        return self._card_limits(_one_survivor(self._mark_releases()))

    def _index_releases(self) -> None:
        n = 0
        for cc in self.changes.customers:
            for ch in cc.changes:
                n += 1
                if ch.kind in (ADD, LINK) and ch.value is not None and not cc.error:
                    key = Identifier(ch.type, ch.value) if ch.kind == ADD else ch.value
                    self._adders.setdefault(key, {})[cc.id] = ch.profile
                if ch.kind == REMOVE and ch.value is not None:
                    self._id_releases[(Identifier(ch.type, ch.value), cc.id)] = f"r{n}"
                elif ch.kind == DELINK and ch.value is not None:
                    self._card_releases[(ch.value, cc.id)] = f"r{n}"

    def _add(self, cc: CustomerChanges, ch: Change, kind: Kind, risk: Risk, reason: str, **kw: object) -> str:
        action_id = f"a{len(self.actions) + 1}"
        blocked = risk in (BLOCKED, CONFLICT) or bool(kw.pop("block", False))
        unknown = self.catalog.profile_problem(ch.profile) if kind not in (REMOVE, DELINK) else ""
        if cc.error or unknown:
            risk, blocked, reason = BLOCKED, True, cc.error or unknown
        fields: dict[str, Any] = {"series": ch.series, "label": ch.label, **kw}
        self.actions.append(
            Action(
                action_id,
                cc.id,
                kind,
                ch.profile,
                ch.type,
                ch.value if kind != GENERATE else None,
                risk,
                blocked,
                reason,
                ch.loc,
                **fields,
            )
        )
        return action_id

    def _assess(self, cc: CustomerChanges, ch: Change) -> None:
        if ch.kind in (REMOVE, DELINK):
            made = self._add(
                cc, ch, ch.kind, PLAIN, "", label=self.catalog.not_issued() if ch.kind == DELINK else None
            )
            if ch.kind == REMOVE:
                placeholder = self._id_releases.get((Identifier(ch.type, ch.value or ""), cc.id))
            else:
                placeholder = self._card_releases.get((ch.value or "", cc.id))
            if placeholder is not None:
                self._placeholders[placeholder] = made
        elif ch.kind == ADD:
            self._assess_add(cc, ch)
        elif ch.kind == STATUS:
            self._assess_status(cc, ch)
        elif ch.kind == GENERATE:
            self._assess_generate(cc, ch)
        elif ch.kind == LINK:
            self._assess_link(cc, ch)

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

    # ----- cards ---------------------------------------------------------------------------------

    def _assess_status(self, cc: CustomerChanges, ch: Change) -> None:
        card = ch.card
        problem = self.catalog.label_problem(ch.label)
        if card is not None and not problem:
            problem = transition_problem(card.status, self._label_status(ch.label))
        was = f"label was {card.status_label}" if card else ""
        self._add(cc, ch, STATUS, BLOCKED if problem else PLAIN, problem or f"{was}".strip())

    def _assess_generate(self, cc: CustomerChanges, ch: Change) -> None:
        series, problem = self.catalog.find_series(ch.series)
        if series is not None and not problem and not series.generation_enabled:
            problem = f"card series {series.code} does not generate cards"
        problem = problem or self.catalog.label_problem(ch.label)
        risk = BLOCKED if problem else PLAIN
        sid = series.id if series else ch.series
        gen = self._add(
            cc,
            ch,
            GENERATE,
            risk,
            problem or "its number is known only at apply time",
            series=sid,
            label=self.catalog.not_issued(),
        )
        self._add_link(cc, replace(ch, value=None), risk, problem, series=sid, depends_on=(gen,))

    def _add_link(self, cc: CustomerChanges, ch: Change, risk: Risk, reason: str, **kw: object) -> None:
        link = self._add(cc, ch, LINK, risk, reason, label=self.catalog.link_label(ch.label), **kw)
        # Linking sets an ACTIVE label; another declared label is set by a status change afterwards.
        if (
            not self.actions[-1].blocked
            and ch.label is not None
            and self.catalog.link_label(ch.label) != ch.label
        ):
            linked = self._label_status(self.catalog.link_label(ch.label))
            problem = transition_problem(linked, self._label_status(ch.label))
            risk, reason = (BLOCKED, f"after linking, {problem}") if problem else (PLAIN, "")
            reason = reason or f"status to {ch.label} after linking"
            self._add(cc, ch, STATUS, risk, reason, depends_on=(link,))

    def _assess_link(self, cc: CustomerChanges, ch: Change) -> None:
        series, problem = self.catalog.find_series(ch.series)
        problem = ch.problem or problem or self.catalog.label_problem(ch.label)
        sid = series.id if series else ch.series
        known = (ch.value or "") in self.card_holders
        card = self.card_holders.get(ch.value or "")
        twice = sorted(c for c in self._adders.get(ch.value or "", {}) if c != cc.id)
        if twice and not problem:
            reason = f"this plan also links the card to customer {twice[0]}"
            self._add_link(cc, ch, CONFLICT, reason, series=sid)
        elif problem or not known:
            self._add_link(
                cc, ch, BLOCKED, problem or "the card's current holder was not looked up", series=sid
            )
        elif card is None:
            made = self._add(
                cc,
                ch,
                CREATE,
                PLAIN,
                "the card does not exist yet",
                series=sid,
                label=self.catalog.not_issued(),
            )
            self._add_link(cc, ch, PLAIN, "", series=sid, depends_on=(made,))
        else:
            self._assess_card_holder(cc, ch, card, sid)

    def _assess_card_holder(self, cc: CustomerChanges, ch: Change, card: LiveCard, sid: object) -> None:
        h = card.customer_id
        if card.status in DEAD_CARD_STATUSES:
            self._add_link(cc, ch, BLOCKED, f"the card is {card.status} and cannot be linked", series=sid)
        elif not in_series(card, ch.series if ch.series is not None else ""):
            reason = f"the card exists in series {card.series_code} ({card.series_id}), not {ch.series}"
            self._add_link(cc, ch, BLOCKED, reason, series=sid)
        elif h in (0, cc.id):
            self._add_link(cc, ch, PLAIN, "the card exists, unlinked" if h == 0 else "", series=sid)
        elif (release := self._card_releases.get((ch.value or "", h))) is not None:
            self._add_link(
                cc,
                ch,
                MOVE,
                f"moves from customer {h}, which delinks it first",
                series=sid,
                holder=h,
                depends_on=(release,),
            )
        else:
            self._add_link(
                cc, ch, CONFLICT, f"customer {h} holds the card and keeps it", series=sid, holder=h
            )

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

    # ----- the active-card limit of a series ------------------------------------------------------

    def _card_limits(self, actions: list[Action]) -> list[Action]:
        """Block each link that would take a customer past its series' ``maxActiveCardsPerCustomer``
        (the API would answer 3036). Cards counted as the API counts them by default (ACTIVE, SUSPENDED
        and ISSUED; docs/capillary-api.md 6.1), after the plan's delinks and status changes, which run
        before its links (4.6)."""
        out = list(actions)
        by_customer = {cc.id: cc for cc in self.changes.customers}
        count: dict[tuple[int, int], int] = {}
        for cc in self.changes.customers:
            for card in cc.live.cards if cc.live else ():
                if card.status in COUNTED_CARD_STATUSES:
                    count[(cc.id, card.series_id)] = count.get((cc.id, card.series_id), 0) + 1
        for a in out:
            if a.blocked or a.value is None:
                continue
            held = self._held_card(by_customer.get(a.customer_id), a.value)
            if held is None:
                continue
            key = (a.customer_id, held.series_id)
            if a.kind == DELINK and held.status in COUNTED_CARD_STATUSES:
                count[key] = count.get(key, 0) - 1
            elif a.kind == STATUS:
                after = self._label_status(a.label)
                delta = (after in COUNTED_CARD_STATUSES) - (held.status in COUNTED_CARD_STATUSES)
                count[key] = count.get(key, 0) + delta
        for i, a in enumerate(out):
            if a.kind != LINK or a.blocked or not isinstance(a.series, int):
                continue
            if a.value is not None and self._held_card(by_customer.get(a.customer_id), a.value) is not None:
                continue  # already this customer's: a label change, not another card
            series, _ = self.catalog.find_series(a.series)
            key = (a.customer_id, a.series)
            count[key] = count.get(key, 0) + 1
            if series is not None and count[key] > series.max_active_per_customer:
                why = (
                    f"customer {a.customer_id} would hold {count[key]} active cards of series {series.code}, "
                    f"which allows {series.max_active_per_customer} (maxActiveCardsPerCustomer): the API "
                    "would answer 3036"
                )
                out[i] = replace(a, risk=BLOCKED, blocked=True, reason=why)
        return _block_with_links(out)

    @staticmethod
    def _held_card(cc: CustomerChanges | None, number: str) -> LiveCard | None:
        if cc is None or cc.live is None:
            return None
        return next((c for c in cc.live.cards if c.number == number), None)

    def _label_status(self, label: str | None) -> str:
        found = next((lb for lb in self.catalog.labels if lb.label == label), None)
        return found.status if found else (label or "")


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


def _block_with_links(actions: list[Action]) -> list[Action]:
    """A blocked link blocks the create or generate that would make its card (a card nobody links) and
    the status change that would follow it."""
    links = {a.id: a for a in actions if a.kind == LINK and a.blocked}
    feeds = {dep: link for link in links.values() for dep in link.depends_on}
    out = []
    for a in actions:
        cause = feeds.get(a.id) if a.kind in (CREATE, GENERATE) else None
        cause = cause or next((links[d] for d in a.depends_on if d in links), None)
        if cause is not None and not a.blocked:
            a = replace(a, risk=BLOCKED, blocked=True, reason=f"its link is blocked: {cause.reason}")
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
