"""Settling a write whose outcome is unknown by re-reading what it would have changed.

``took_effect`` answers True (the write is visible), False (provably not: nothing it would change has
changed, so it may be sent again) or None (cannot tell: part of it is visible, or the read failed). The
sandbox and the API run one call in one transaction, so a half-visible call means someone else changed
the customer meanwhile; apply then stops that customer rather than guess.

A ``generateCard`` cannot be checked by re-reading (its number is what the lost answer carried): it
yields None, and the executor decides (see ``executor.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.capillary import CapillaryReader
from reconciler.errors import ApiError, MergedCustomerError
from reconciler.model import ProfileKey
from reconciler.plan import CHANGE_IDENTIFIER, CREATE_CARD, UPDATE_CARD, Call, CallItem

MERGED = "merged"  # the re-read found the customer merged away: the add took effect, with a merge


def call_profile(call: Call) -> ProfileKey:
    """The profile a changeIdentifier call names in its query."""
    query = dict(call.query)
    return ProfileKey(query.get("source", ""), query.get("accountId", ""))


def item_value(item: CallItem, generated: Mapping[str, str]) -> str:
    """The raw value of an item; a generated card's number comes from its generate call."""
    return item.value if item.value is not None else generated.get(item.generated_by or "", "")


async def took_effect(call: Call, reader: CapillaryReader, generated: Mapping[str, str]) -> bool | str | None:
    """True / False / None as above, or ``MERGED`` when the customer is now a merge victim."""
    try:
        if call.op == CHANGE_IDENTIFIER:
            return await _identifier_call(call, reader, generated)
        if call.op == CREATE_CARD and call.card is not None:
            return await reader.get_card(item_value(call.card, generated)) is not None
        if call.op == UPDATE_CARD and call.card is not None:
            card = await reader.get_card(item_value(call.card, generated))
            return None if card is None else card.status_label == call.card.label
    except ApiError:
        return None
    return None


async def _identifier_call(
    call: Call, reader: CapillaryReader, generated: Mapping[str, str]
) -> bool | str | None:
    cards = [i for i in (*call.add, *call.remove) if i.type.lower() == "cardnumber"]
    if cards:
        number = item_value(cards[0], generated)
        card = await reader.get_card(number)
        if card is None:
            return None
        linked = card.customer_id == call.customer_id
        return linked if call.add else not linked
    try:
        live = await reader.get_customer(call.customer_id)
    except MergedCustomerError:
        return MERGED
    if live.id != call.customer_id:  # answered with its survivor (91009): merged away
        return MERGED
    profile = live.profile(call_profile(call))
    have = {(i.type, i.value) for i in (profile.identifiers if profile else ())}
    added = [(i.type, item_value(i, generated)) in have for i in call.add]
    kept = [(i.type, item_value(i, generated)) in have for i in call.remove]
    done = all(added) and not any(kept)
    untouched = not any(added) and all(kept)
    if done and not untouched:
        return True
    if untouched and not done:
        return False
    return None
