"""The holder check at write time: who holds a value is read again immediately before the write adds it.

The plan looked holders up when it was made; a value can be taken in between (another apply, another
branch, the API's own users). Adding a value another customer holds in another scope merges the two
accounts for good, so before each ``changeIdentifier`` that adds something, every value it adds is looked
up again (one read each) and the call is sent only if its holder is one the plan expected:

- nobody, or this customer itself (a plain add, or a move whose release already ran in this apply);
- for an allowed merge, the holder the plan showed the reviewer.

Anyone else means the plan's premise is gone: the call is not sent and the customer is ``stale``, with who
holds the value now. A lookup that fails blocks the call (never read as "nobody holds it"). One add is not
looked up: the link of a card this apply generated itself, whose number only the generate's answer gave
(unlinked and NOT_ISSUED a step earlier; nobody else can name it).

Before a ``generateCard`` the customer's cards are read again: a live card of the series that this plan
neither names nor generated means someone (a racing apply) already satisfied it, so no second card is
generated; its number stands in for the generated one, and the link that follows finds it already linked.

What this cannot close: the API has no conditional write, so a value taken between the lookup and the
write (one round trip) is not seen; a merge then is caught by the write's warnings as an incident.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.capillary import CapillaryReader
from reconciler.errors import ApiError
from reconciler.mask import mask_value
from reconciler.model import DEAD_CARD_STATUSES, Identifier
from reconciler.plan import CARD_NUMBER, CHANGE_IDENTIFIER, GENERATE_CARD, MERGE, Call, CallItem, Plan
from reconciler.plan.diff import in_series


class Clearance(StrEnum):
    """What to do with one call: ``send`` it, count it ``done`` unsent, or stop the customer."""

    SEND = "send"
    DONE = "done"  # already satisfied: not sent
    STALE = "stale"  # a holder the plan did not expect
    FAILED = "failed"  # the lookup failed


SEND, DONE, STALE, FAILED = Clearance


@dataclass(frozen=True, slots=True)
class HolderCheck:
    """The holder check's answer for one call, and why."""

    status: Clearance
    detail: str = ""


@dataclass(frozen=True, slots=True)
class _Held:
    owner: int | None  # who holds the value now; None: nobody
    here: bool = False  # this customer already holds it where the call adds it
    unusable: str = ""  # why the owner can never be an expected holder (victim, campaign)


@dataclass
class HolderGuard:
    """Checks each add against the live holder, and each generate against the customer's live cards."""

    plan: Plan
    reader: CapillaryReader
    baseline: dict[int, frozenset[str]] = field(default_factory=dict)  # cards at the precondition read
    stand_ins: set[str] = field(default_factory=set)  # generate calls a card already held stood in for

    async def check(self, call: Call, generated: MutableMapping[str, str]) -> HolderCheck:
        """The verdict for ``call``; a satisfied generate records its stand-in number in ``generated``."""
        try:
            if call.op == GENERATE_CARD:
                return await self._generate(call, generated)
            if call.op == CHANGE_IDENTIFIER and call.add:
                return await self._adds(call, generated)
        except ApiError as exc:
            return HolderCheck(FAILED, f"the holder check before {call.id} failed, so it was not sent: {exc}")
        return HolderCheck(SEND)

    async def _adds(self, call: Call, generated: MutableMapping[str, str]) -> HolderCheck:
        already = 0
        for item in call.add:
            value = item.raw(generated)
            if item.generated_by and item.generated_by not in self.stand_ins:
                continue  # this apply generated it, unlinked, a step ago: nobody else knows its number
            held = await self._holder(call, item, value)
            expected = self._expected(call, item)
            if held.unusable or held.owner not in expected:
                return HolderCheck(
                    STALE, _moved(mask_value(item.type, value), held, expected - {call.customer_id})
                )
            already += held.here
        if already == len(call.add) and not call.remove:
            return HolderCheck(DONE, "every value it adds is already held by this customer; not sent")
        return HolderCheck(SEND)

    async def _holder(self, call: Call, item: CallItem, value: str) -> _Held:
        if item.type.lower() == CARD_NUMBER:
            card = await self.reader.get_card(value)
            owner = card.customer_id if card is not None and card.customer_id else None
            return _Held(owner, owner == call.customer_id)
        holder = await self.reader.find_identifier_holder(Identifier(item.type, value))
        if holder is None:
            return _Held(None)
        unusable = "a merge victim" if holder.victim else "a campaign account" if holder.campaign else ""
        unusable = holder.unknown or unusable  # nobody may be assumed: never an expected holder
        here = holder.customer_id == call.customer_id and holder.scope == call.profile
        return _Held(holder.customer_id, here, unusable)

    def _expected(self, call: Call, item: CallItem) -> set[int | None]:
        expected: set[int | None] = {None, call.customer_id}
        for action in self.plan.actions:
            if action.id in call.actions and action.risk == MERGE and action.value == item.value:
                expected.add(action.holder)
        return expected

    async def _generate(self, call: Call, generated: MutableMapping[str, str]) -> HolderCheck:
        series = call.card.series_id if call.card else None
        if series is None:
            return HolderCheck(SEND)
        known = self.baseline.get(call.customer_id, frozenset()) | set(generated.values()) | self._named()
        live = await self.reader.get_customer(call.customer_id)
        for card in live.cards:
            if card.number not in known and card.status not in DEAD_CARD_STATUSES and in_series(card, series):
                generated[call.id] = card.number
                self.stand_ins.add(call.id)
                shown = mask_value(CARD_NUMBER, card.number)
                why = f"the customer already holds {shown} of series {series}; not generated"
                return HolderCheck(DONE, why)
        return HolderCheck(SEND)

    def _named(self) -> set[str]:
        """Cards this plan creates, links or changes itself: never a racing apply's generated card."""
        return {a.value for a in self.plan.actions if a.type == CARD_NUMBER and a.value is not None}


def _moved(shown: str, held: _Held, expected: set[int | None]) -> str:
    if not held.owner and held.unusable:  # no customer named: a holder that cannot be ruled out
        return f"{shown}: {held.unusable}; not sent"
    who = f"customer {held.owner}" + (f" ({held.unusable})" if held.unusable else "")
    wanted = " or ".join("no holder" if e is None else f"customer {e}" for e in sorted(expected, key=str))
    return f"{shown} is now held by {who}, where the plan found {wanted}; not sent"
