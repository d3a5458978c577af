"""Who holds an identifier, from lookup answers in every documented variant
(docs/capillary-api.md 4.3 and 10).

Conservative by construction: an answer is "nobody" only when it is a plain not-found (8015/8065) that does
not say an ``accountId`` was missing; victim and campaign codes mark the holder whether they come as errors
or as warnings of a 2xx answer; anything else is an ``unknown`` holder, which blocks the action.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from reconciler.capillary.parse import parse_customer
from reconciler.errors import ApiError, AuthError, NotFoundError, TransientError
from reconciler.model import MULTI_ACCOUNT_SOURCES, Holder, Identifier, LiveCustomer, ProfileKey

CAMPAIGN_CODES = frozenset({8068})
VICTIM_CODES = frozenset({8069, 8070, 8074})  # the status-code page's warning table: the holder is unusable
SURVIVOR_READ = 91009  # "Retrieved survivor account for the requested merge victim"
NOBODY_CODES = frozenset({8015, 8065})


def account_missing(message: str) -> bool:
    """8015 also answers a lookup in a multi-account source without ``accountId``: that is not "nobody"."""
    text = message.lower()
    return "account id" in text or "accountid" in text


def from_error(exc: ApiError, identifier: Identifier, where: str) -> Holder | None:
    """The holder an error answer implies; None only for a plain not-found. Auth/transient errors raise."""
    if isinstance(exc, AuthError | TransientError):
        raise exc
    code = exc.code
    if code in NOBODY_CODES and isinstance(exc, NotFoundError) and not account_missing(exc.api_message):
        return None
    if code in VICTIM_CODES:
        return Holder(0, victim=True)
    if code in CAMPAIGN_CODES:
        return Holder(0, campaign=True)
    message = exc.api_message.replace(identifier.value, "<the value>")  # reasons are shown unmasked
    return Holder(0, unknown=f"the lookup {where} answered {code or exc.status}: {message}")


def from_answer(body: Any, identifier: Identifier, scope: ProfileKey | None, where: str) -> Holder:
    """The holder a 2xx lookup answer names, marked by the warning codes it carries."""
    try:
        customer = parse_customer(body)
    except ApiError as exc:
        return Holder(0, unknown=f"the lookup {where} gave an answer that cannot be read ({exc})")
    codes = set(customer.warnings)
    if SURVIVOR_READ in codes:  # the answer is the survivor of the victim that holds the value
        return Holder(0, victim=True, survivor=customer.id, campaign=bool(codes & CAMPAIGN_CODES))
    victim, campaign = bool(codes & VICTIM_CODES), customer.campaign or bool(codes & CAMPAIGN_CODES)
    held = scope if scope is not None else _holding_profile(customer, identifier)
    if held is None and not (victim or campaign):
        reason = f"the lookup {where} answered customer {customer.id}, which does not show the value"
        return Holder(customer.id, unknown=reason)
    return Holder(customer.id, scope=held, victim=victim, campaign=campaign)


def _holding_profile(customer: LiveCustomer, wanted: Identifier) -> ProfileKey | None:
    for profile in customer.profiles:
        if any(
            i.value == wanted.value and i.type.lower() == wanted.type.lower() for i in profile.identifiers
        ):
            return profile.key
    return None


def combine(found: Sequence[Holder | None]) -> Holder | None:
    """One holder from the lookups in every scope: the most blocking answer wins."""
    holders = [h for h in found if h is not None]
    for test in (lambda h: bool(h.unknown), lambda h: h.victim or h.campaign):
        flagged = [h for h in holders if test(h)]
        if flagged:
            return flagged[0]
    ids = sorted({h.customer_id for h in holders})
    if len(ids) > 1:
        listed = ", ".join(f"{h.customer_id} in {h.scope}" for h in holders)
        return Holder(ids[0], scope=holders[0].scope, unknown=f"several customers hold it ({listed})")
    return holders[0] if holders else None


def multi_account(keys: Iterable[ProfileKey]) -> tuple[ProfileKey, ...]:
    """The keys that are accounts of multi-account sources (lookups there need ``accountId``)."""
    return tuple(sorted({k for k in keys if k.source.upper() in MULTI_ACCOUNT_SOURCES and k.account_id}))
