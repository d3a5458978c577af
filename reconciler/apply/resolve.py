"""Settling a write whose outcome is unknown by re-reading what it would have changed.

``took_effect`` answers a ``Verdict``: ``DONE`` (the write is visible), ``NOT_DONE`` (provably not:
nothing it would change has changed, so it may be sent again), ``UNKNOWN`` (cannot tell: part of it is
visible, or the read failed) or ``MERGED`` (the customer was merged away: the add took effect, with a
merge). The sandbox and the API run one call in one transaction, so a half-visible call means someone else
changed the customer meanwhile; apply then stops that customer rather than guess.

A ``generateCard`` cannot be checked by re-reading (its number is what the lost answer carried): it
yields ``UNKNOWN``, and the sender decides (see ``send.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.apply.result import Verdict
from reconciler.capillary import CapillaryReader
from reconciler.errors import ApiError, MergedCustomerError
from reconciler.plan import CARD_NUMBER, CHANGE_IDENTIFIER, CREATE_CARD, UPDATE_CARD, Call


def _verdict(done: bool | None) -> Verdict:
    return Verdict.UNKNOWN if done is None else Verdict.DONE if done else Verdict.NOT_DONE


async def took_effect(call: Call, reader: CapillaryReader, generated: Mapping[str, str]) -> Verdict:
    """The verdict of re-reading what ``call`` would have changed, as above."""
    try:
        if call.op == CHANGE_IDENTIFIER:
            return await _identifier_call(call, reader, generated)
        if call.op == CREATE_CARD and call.card is not None:
            return _verdict(await reader.get_card(call.card.raw(generated)) is not None)
        if call.op == UPDATE_CARD and call.card is not None:
            card = await reader.get_card(call.card.raw(generated))
            return _verdict(None if card is None else card.status_label == call.card.label)
    except ApiError:
        return Verdict.UNKNOWN
    return Verdict.UNKNOWN


async def _identifier_call(call: Call, reader: CapillaryReader, generated: Mapping[str, str]) -> Verdict:
    cards = [i for i in (*call.add, *call.remove) if i.type.lower() == CARD_NUMBER]
    if cards:
        card = await reader.get_card(cards[0].raw(generated))
        if card is None:
            return Verdict.UNKNOWN
        linked = card.customer_id == call.customer_id
        return _verdict(linked if call.add else not linked)
    try:
        live = await reader.get_customer(call.customer_id)
    except MergedCustomerError:
        return Verdict.MERGED
    if live.id != call.customer_id:  # answered with its survivor (91009): merged away
        return Verdict.MERGED
    profile = live.profile(call.profile) if call.profile is not None else None
    have = {(i.type, i.value) for i in (profile.identifiers if profile else ())}
    added = [(i.type, i.raw(generated)) in have for i in call.add]
    kept = [(i.type, i.raw(generated)) in have for i in call.remove]
    done = all(added) and not any(kept)
    untouched = not any(added) and all(kept)
    if done and not untouched:
        return Verdict.DONE
    if untouched and not done:
        return Verdict.NOT_DONE
    return Verdict.UNKNOWN
