"""The risk of each card change (docs/architecture.md 4.4): status changes, generates, links and the
active-card limit of a series; ``reconciler.plan.risk`` assesses identifiers on top of it."""

from __future__ import annotations

from dataclasses import replace

from reconciler.model import COUNTED_CARD_STATUSES, DEAD_CARD_STATUSES, LiveCard, transition_problem
from reconciler.plan.diff import CREATE, DELINK, GENERATE, LINK, STATUS, Change, CustomerChanges, in_series
from reconciler.plan.document import BLOCKED, CONFLICT, MOVE, PLAIN, Action, Risk
from reconciler.plan.ledger import Ledger

_Counts = dict[tuple[int, int], int]  # (customer id, series id) -> the cards the API counts


class CardAssessor(Ledger):
    """Assesses card changes and blocks the links that would pass a series' active-card limit."""

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
        reason = problem or "its number is known only at apply time"
        gen = self._add(cc, ch, GENERATE, risk, reason, series=sid, label=self.catalog.not_issued())
        self._add_link(cc, replace(ch, value=None), risk, problem, series=sid, depends_on=(gen,))

    def _add_link(
        self,
        cc: CustomerChanges,
        ch: Change,
        risk: Risk,
        reason: str,
        *,
        series: int | str | None,
        holder: int | None = None,
        depends_on: tuple[str, ...] = (),
    ) -> None:
        """The link, and the status change after it when the declared label is not an ACTIVE one."""
        label = self.catalog.link_label(ch.label)
        link = self._add(
            cc, ch, LINK, risk, reason, series=series, label=label, holder=holder, depends_on=depends_on
        )
        # Linking sets an ACTIVE label; another declared label is set by a status change afterwards.
        if not self.actions[-1].blocked and ch.label is not None and label != ch.label:
            problem = transition_problem(self._label_status(label), self._label_status(ch.label))
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
            reason = problem or "the card's current holder was not looked up"
            self._add_link(cc, ch, BLOCKED, reason, series=sid)
        elif card is None:
            reason = "the card does not exist yet"
            made = self._add(cc, ch, CREATE, PLAIN, reason, series=sid, label=self.catalog.not_issued())
            self._add_link(cc, ch, PLAIN, "", series=sid, depends_on=(made,))
        else:
            self._assess_card_holder(cc, ch, card, sid)

    def _assess_card_holder(
        self, cc: CustomerChanges, ch: Change, card: LiveCard, sid: int | str | None
    ) -> None:
        h = card.customer_id
        if card.status in DEAD_CARD_STATUSES:
            self._add_link(cc, ch, BLOCKED, f"the card is {card.status} and cannot be linked", series=sid)
        elif not in_series(card, ch.series if ch.series is not None else ""):
            reason = f"the card exists in series {card.series_code} ({card.series_id}), not {ch.series}"
            self._add_link(cc, ch, BLOCKED, reason, series=sid)
        elif h in (0, cc.id):
            self._add_link(cc, ch, PLAIN, "the card exists, unlinked" if h == 0 else "", series=sid)
        elif (release := self._card_releases.get((ch.value or "", h))) is not None:
            reason = f"moves from customer {h}, which delinks it first"
            self._add_link(cc, ch, MOVE, reason, series=sid, holder=h, depends_on=(release,))
        else:
            reason = f"customer {h} holds the card and keeps it"
            self._add_link(cc, ch, CONFLICT, reason, series=sid, holder=h)

    # ----- the active-card limit of a series ------------------------------------------------------

    def _card_limits(self, actions: list[Action]) -> list[Action]:
        """Block each link that would take a customer past its series' ``maxActiveCardsPerCustomer``
        (the API would answer 3036), and what a blocked link would have fed. Cards counted as the API
        counts them by default (ACTIVE, SUSPENDED and ISSUED; docs/capillary-api.md 6.1), after the plan's
        delinks and status changes, which run before its links (4.6)."""
        by_customer = {cc.id: cc for cc in self.changes.customers}
        count = self._counted_before_links(actions, by_customer)
        return _block_with_links(self._limit_links(actions, by_customer, count))

    def _counted_live(self) -> _Counts:
        """The counted cards each customer holds now, per series."""
        count: _Counts = {}
        for cc in self.changes.customers:
            for card in cc.live.cards if cc.live else ():
                if card.status in COUNTED_CARD_STATUSES:
                    count[(cc.id, card.series_id)] = count.get((cc.id, card.series_id), 0) + 1
        return count

    def _counted_before_links(
        self, actions: list[Action], by_customer: dict[int, CustomerChanges]
    ) -> _Counts:
        """The counted cards after the plan's delinks and status changes of cards the customers hold."""
        count = self._counted_live()
        for a in actions:
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
        return count

    def _limit_links(
        self, actions: list[Action], by_customer: dict[int, CustomerChanges], count: _Counts
    ) -> list[Action]:
        """Count each link of another card in (plan order), blocking those past the series' limit."""
        out = list(actions)
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
