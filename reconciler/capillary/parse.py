"""Parsing the documented response shapes (docs/capillary-api.md 3, 4 and 6) into the shared model types.

Unknown fields are ignored; a missing required field raises ``ApiError`` naming the field and where it was
expected. Card identifiers (``cardnumber``, ``cardNumber``, ``card``, in any case) never count as
identifiers: they become ``LiveCard`` values next to ``cardDetails``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from reconciler.capillary._errors import error_for
from reconciler.errors import ApiError
from reconciler.model import (
    CARD_NUMBER_TYPES,
    CARD_STATUSES,
    CardLabel,
    ChangeResult,
    Identifier,
    LiveCard,
    LiveCustomer,
    LiveProfile,
    ProfileKey,
    Series,
    SourceAccounts,
)

_CARD_NUMBER_KEYS = ("cardNumber", "cardnumber", "number")


def is_card_number_type(identifier_type: str) -> bool:
    """True for identifier types that name a card number."""
    return identifier_type.lower() in CARD_NUMBER_TYPES


def require(data: Any, key: str, where: str) -> Any:
    """``data[key]``, or an ApiError naming the missing field and where it was expected."""
    if not isinstance(data, Mapping):
        raise ApiError(f"unexpected response: {where} is not an object")
    value = data.get(key)
    if value is None:
        raise ApiError(f"unexpected response: {where} has no {key!r}")
    return value


def _int(value: Any, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(f"unexpected response: {what} is not a number: {value!r}") from None


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def warning_codes(body: Any) -> tuple[tuple[int, str], ...]:
    """The ``(code, message)`` pairs of a body's ``warnings``."""
    if not isinstance(body, Mapping):
        return ()
    items = [w for w in _list(body, "warnings") if isinstance(w, Mapping) and isinstance(w.get("code"), int)]
    return tuple((w["code"], str(w.get("message", ""))) for w in items)


def parse_identifier(item: Any, where: str) -> Identifier:
    """One ``{"type", "value"}`` item."""
    return Identifier(str(require(item, "type", where)), str(require(item, "value", where)))


def parse_profile(data: Any) -> tuple[LiveProfile, list[LiveCard]]:
    """A ``profiles[]`` entry; card identifiers come back separately as cards."""
    source = str(require(data, "source", "profile"))
    key = ProfileKey(source, str(data.get("accountId") or ""))
    items = data.get("identifiers")
    if not isinstance(items, list):
        items = _list(data, "identifiersAll")
    identifiers, cards = [], []
    for item in items:
        if is_card_number_type(str(require(item, "type", f"identifier of profile {key}"))):
            cards.append(_card_from_identifier(item, _int(data.get("userId") or 0, "userId")))
        else:
            identifiers.append(parse_identifier(item, f"identifier of profile {key}"))
    return LiveProfile(key, tuple(sorted(set(identifiers)))), cards


def _card_from_identifier(item: Mapping[str, Any], customer_id: int) -> LiveCard:
    label = str(item.get("statusLabel") or "")
    return LiveCard(
        number=str(require(item, "value", "card identifier")),
        series_id=_int(item.get("seriesId") or 0, "seriesId"),
        series_code=str(item.get("seriesCode") or ""),
        status_label=label,
        status=label.upper() if label.upper() in CARD_STATUSES else "",
        customer_id=customer_id,
    )


def parse_card(data: Any) -> LiveCard:
    """A card object (``cardDetails[]`` item or ``GET /v2/card``): number, series, status, holder."""
    if not isinstance(data, Mapping):
        raise ApiError("unexpected response: card is not an object")
    number = next((data[k] for k in _CARD_NUMBER_KEYS if data.get(k)), None)
    if number is None:
        raise ApiError("unexpected response: card has no 'cardNumber'")
    info = {**_mapping(data.get("statusLabelInfo")), **_mapping(data.get("statusInfo"))}
    label = str(info.get("label") or data.get("statusLabel") or "")
    status = str(info.get("status") or (label if label.upper() in CARD_STATUSES else "")).upper()
    return LiveCard(
        number=str(number),
        series_id=_int(data.get("seriesId") or 0, "seriesId"),
        series_code=str(data.get("seriesCode") or ""),
        status_label=label,
        status=status,
        customer_id=_int(data.get("customerId") or 0, "customerId"),
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def parse_customer(data: Any) -> LiveCustomer:
    """A customer (``GET /v2/customers/{id}``, lookup customerDetails, bulk ``entity``)."""
    customer_id = _int(require(data, "id", "customer"), "customer id")
    profiles, linked = [], []
    for item in _list(data, "profiles"):
        profile, cards = parse_profile(item)
        profiles.append(profile)
        linked.extend(cards)
    by_number = {card.number: card for card in map(parse_card, _list(data, "cardDetails"))}
    for card in linked:  # cards seen only as profile identifiers: keep them, with the customer as holder
        by_number.setdefault(card.number, _with_holder(card, customer_id))
    loyalty = _mapping(data.get("loyaltyInfo"))
    status = _mapping(data.get("customerStatus")).get("status") or data.get("status") or "ACTIVE"
    return LiveCustomer(
        id=customer_id,
        profiles=tuple(sorted(profiles, key=lambda p: p.key)),
        cards=tuple(sorted(by_number.values(), key=lambda c: c.number)),
        campaign=loyalty.get("loyaltyType") == "non_loyalty",
        status=str(status).upper(),
        warnings=tuple(code for code, _ in warning_codes(data)),
    )


def _with_holder(card: LiveCard, customer_id: int) -> LiveCard:
    if card.customer_id:
        return card
    return dataclasses.replace(card, customer_id=customer_id)


def parse_bulk_customers(body: Any) -> list[tuple[int | None, LiveCustomer | ApiError]]:
    """``POST /v2/bulk/getCustomers`` items as (customer id if known, customer or its error)."""
    out: list[tuple[int | None, LiveCustomer | ApiError]] = []
    for item in _list(_mapping(body), "data"):
        entity = _mapping(_mapping(item).get("entity"))
        known = _int(entity["id"], "customer id") if entity.get("id") is not None else None
        errors = [e for e in _list(_mapping(item), "errors") if isinstance(e, Mapping)]
        if item.get("success") is False or errors or not entity:
            out.append((known, _item_error(errors)))
        else:
            out.append((known, parse_customer(entity)))
    return out


def _item_error(errors: list[Mapping[str, Any]]) -> ApiError:
    first = errors[0] if errors else {}
    code = first.get("code") if isinstance(first.get("code"), int) else None
    message = str(first.get("message") or "customer not returned")
    return error_for(None, code, message, method="POST", path="/v2/bulk/getCustomers")


def parse_series(body: Any) -> list[Series]:
    """``GET /v2/card/series/get/all``: ``data[]`` of series."""
    return [_one_series(item) for item in _list(_mapping(body), "data")]


def _one_series(item: Any) -> Series:
    return Series(
        id=_int(require(item, "id", "card series"), "series id"),
        code=str(require(item, "code", "card series")),
        name=str(item.get("name") or ""),
        type=str(item.get("type") or "DIGITAL"),
        generation_enabled=bool(item.get("cardGenerationEnabled", False)),
        max_active_per_customer=_max_active(item.get("maxActiveCardsPerCustomer")),
        active=bool(item.get("isActive", True)),
    )


def _max_active(value: Any) -> int:
    # The docs say only "maximum number of active cards allowed per customer": 0 is the number 0 (no
    # document says "no limit"); absent or null is the UI's default, 1 (docs/capillary-api.md 6.2)
    return 1 if value is None else _int(value, "maxActiveCardsPerCustomer")


def org_id_of(body: Any) -> int | None:
    """The ``orgId`` the first item of a ``data[]`` list carries (series and labels do), if any."""
    items = _list(_mapping(body), "data")
    org = _mapping(items[0]).get("orgId") if items else None
    return org if isinstance(org, int) and not isinstance(org, bool) and org > 0 else None


def parse_labels(body: Any) -> list[CardLabel]:
    """``GET /v2/genericStatus/card/labels``: ``data[]`` of labels."""
    return [
        CardLabel(
            label=str(require(item, "label", "card label")),
            status=str(require(item, "status", "card label")),
            default=bool(item.get("default", False)),
        )
        for item in _list(_mapping(body), "data")
    ]


def parse_change_result(body: Any, written: int | None = None) -> ChangeResult:
    """A single-entity write answer: ``createdId`` and warnings (merge warnings, or a ``createdId`` other
    than ``written``, are incidents)."""
    created = _mapping(body).get("createdId")
    return ChangeResult(
        created_id=_int(created, "createdId") if created is not None else None,
        warnings=warning_codes(body),
        written=written,
    )


def parse_generated(body: Any) -> list[str]:
    """``POST /v2/card/generate``: card numbers from ``entity`` (legacy) or ``data`` (newer)."""
    data = _mapping(body)
    items = data.get("entity") if isinstance(data.get("entity"), list) else data.get("data")
    if not isinstance(items, list):
        raise ApiError("unexpected response: card generation returned no 'entity' or 'data' list")
    return [str(i) if not isinstance(i, Mapping) else parse_card(i).number for i in items]


def parse_source_accounts(body: Any) -> SourceAccounts:
    """``GET /v2/org/{orgId}/sources?details=true``: the active accounts of each source type."""
    out: dict[str, set[str]] = {}
    for item in _list(_mapping(body), "data"):
        source = str(require(item, "sourceTypeName", "source account")).upper()
        accounts = out.setdefault(source, set())
        if item.get("isActive", True):
            accounts.add(str(item.get("sourceAccountIdentifier") or ""))
    return {source: frozenset(accounts) for source, accounts in out.items()}
