"""Rendering store rows as the API's customer and card objects (docs/capillary-api.md 4.1 and 6.5)."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from typing import Any

from reconciler.sandbox.vocab import ENTITY_STATUS_IDS

SANDBOX_EPOCH = "2024-01-01T00:00:00Z"  # the dates of what a seed left undated (customers, cards)
SANDBOX_TILL = "sandbox.till"  # the till every sandbox record is attributed to

CARD_SQL = (
    "SELECT c.*, s.code AS series_code, s.name AS series_name, s.type AS series_type, s.expiry_days,"
    " s.max_active, l.status AS status, l.id AS label_id, l.is_default AS label_default"
    " FROM cards c JOIN series s ON s.id = c.series_id JOIN labels l ON l.label = c.label"
)


def series_record(r: sqlite3.Row) -> dict[str, Any]:
    """A card series row as JSON: the fields the API's series object and a seed fixture's share."""
    return {
        "id": r["id"],
        "code": r["code"],
        "name": r["name"],
        "type": r["type"],
        "expiryDays": r["expiry_days"],
        "cardExpiryEnabled": bool(r["card_expiry_enabled"]),
        "maxActiveCardsPerCustomer": r["max_active"],
        "cardGenerationEnabled": bool(r["generation_enabled"]),
        "cardGenerationConfiguration": json.loads(r["generation_config"]) if r["generation_config"] else None,
        "isActive": bool(r["is_active"]),
    }


def card_object(r: sqlite3.Row, org_id: int) -> dict[str, Any]:
    """The card object that ``GET /v2/card`` returns, dated as the documented example dates it: days
    (``createdDate``, ``statusInfo.autoUpdateTime``) as ``2025-06-13``, instants as
    ``2025-06-13T08:19:33Z``."""
    status = r["status"]
    created = r["created_date"] or r["issued_date"] or SANDBOX_EPOCH
    since = r["issued_date"] or created  # the current label's time: the link, else the card's creation
    return {
        "id": r["card_id"],
        "cardId": r["card_id"],
        "cardNumber": r["number"],
        "cardExternalId": r["external_id"],
        "customerId": r["customer_id"],
        "seriesId": r["series_id"],
        "seriesCode": r["series_code"],
        "seriesName": r["series_name"],
        "type": r["series_type"],
        "expiryDays": r["expiry_days"],
        "maxActiveCards": r["max_active"],
        "issuedDate": r["issued_date"],
        "createdDate": created[:10],
        "expiryDate": _expiry(r["issued_date"], r["expiry_days"]),
        "entityCode": SANDBOX_TILL,
        "orgId": org_id,
        "entityId": r["card_id"],
        "customFields": {},
        "extendedFields": {},
        "statusLabel": r["label"],
        "statusLabelInfo": _status_label_info(r),
        "statusInfo": _status_info(r, since),
        "activeAndDigital": status == "ACTIVE" and r["series_type"] == "DIGITAL",
        "transactionNotAllowed": status in ("SUSPENDED", "EXPIRED", "DELETED"),
        "warnings": [],
    }


def _status_label_info(r: sqlite3.Row) -> dict[str, Any]:
    """A card's ``statusLabelInfo``: its label and the status the label stands for."""
    return {
        "status": r["status"],
        "entityStatusId": ENTITY_STATUS_IDS.get(r["status"]),
        "label": r["label"],
        "default": bool(r["label_default"]),
    }


def _status_info(r: sqlite3.Row, since: str) -> dict[str, Any]:
    """A card's ``statusInfo``: its current label, set at ``since`` (a day, then an instant)."""
    return {
        "reason": r["reason"] or "",
        "createdBy": r["card_id"],  # as in the documented example, where it is the card's id
        "actions": [],
        "autoUpdateTime": since[:10],
        "createdOn": since,
        "entityId": r["card_id"],
        "id": r["card_id"],
        "isActive": True,
        "labelId": r["label_id"],
        "label": r["label"],
        "status": r["status"],
        "entityStatusId": ENTITY_STATUS_IDS.get(r["status"]),
        "entityType": "CARD",
    }


def _expiry(issued: str | None, days: int | None) -> str | None:
    """The day an issued card expires (``issuedDate`` + ``expiryDays``, at midnight UTC, as documented:
    issued 2025-06-13 with 1000 days expires ``2028-03-09T00:00:00Z``); None when it does not."""
    if not issued or days is None:
        return None
    try:
        day = date.fromisoformat(issued[:10])
    except ValueError:
        return None
    return f"{(day + timedelta(days=days)).isoformat()}T00:00:00Z"


def read_card(db: sqlite3.Connection, number: str, org_id: int) -> dict[str, Any] | None:
    """One card by number, or None."""
    row = db.execute(CARD_SQL + " WHERE c.number = ?", (number,)).fetchone()
    return card_object(row, org_id) if row else None


def customer_object(
    db: sqlite3.Connection,
    row: sqlite3.Row,
    org_id: int,
    cards_in_profiles: bool,
    scope: tuple[str, str] | None,
) -> dict[str, Any]:
    """The customer object of ``GET /v2/customers/{id}``; ``scope`` limits profiles to (source, accountId)."""
    cid = row["id"]
    cards = db.execute(CARD_SQL + " WHERE c.customer_id = ? ORDER BY c.number", (cid,)).fetchall()
    idents = _identifiers_by_profile(db, cid, cards if cards_in_profiles else [])
    profiles = [
        _profile(row, src, acc, ids)
        for (src, acc), ids in sorted(idents.items())
        if _in_scope(src, acc, scope)
    ]
    body: dict[str, Any] = {
        "id": cid,
        "profiles": profiles,
        "loyaltyInfo": {
            "loyaltyType": row["loyalty_type"],
            "attributionV2": _attribution(row),
            "lifetimePurchases": 0,
        },
        "segments": {},
        "extendedFields": {},
        "associatedWith": SANDBOX_TILL,
        "cardDetails": [card_object(c, org_id) for c in cards],
        "warnings": [],
    }
    if row["status"] != "ACTIVE":
        body["customerStatus"] = {"label": row["status_label"] or row["status"], "status": row["status"]}
    return body


def _identifiers_by_profile(
    db: sqlite3.Connection, cid: int, cards: list[sqlite3.Row]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Each profile's identifiers, with the cards linked through it as ``cardNumber`` items."""
    idents: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for src, acc in db.execute("SELECT source, account_id FROM profiles WHERE customer_id = ?", (cid,)):
        idents[(src, acc)] = []
    sql = "SELECT source, account_id, type, value FROM identifiers WHERE customer_id = ? ORDER BY type, value"
    for src, acc, itype, value in db.execute(sql, (cid,)):
        idents.setdefault((src, acc), []).append({"type": itype, "value": value})
    for c in cards:
        key = (c["link_source"], c["link_account"] or "")
        if key in idents:
            item = {
                "type": "cardNumber",
                "value": c["number"],
                "seriesId": c["series_id"],
                "statusLabel": c["label"],
            }
            idents[key].append(item)
    return idents


def _in_scope(source: str, account: str, scope: tuple[str, str] | None) -> bool:
    if scope is None:
        return True
    return source == scope[0] and (not scope[1] or account == scope[1])


def _profile(row: sqlite3.Row, source: str, account: str, ids: list[dict[str, Any]]) -> dict[str, Any]:
    channels = [
        {
            "type": i["type"],
            "value": i["value"],
            "primary": True,
            "verified": False,
            "meta": {},
            "attributes": {},
        }
        for i in ids
        if i["type"] in ("mobile", "email")
    ]
    since = row["registered_on"] or SANDBOX_EPOCH
    return {
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "attribution": _attribution(row),
        "source": source,
        "accountId": account,
        "userId": row["id"],
        "identifiers": ids,
        "identifiersAll": list(ids),
        "commChannels": channels,
        "fields": {},
        "allFields": {},
        "conflictingProfileList": [],
        "autoUpdateTime": since,
    }


def _attribution(row: sqlite3.Row) -> dict[str, Any]:
    """Who created and changed a customer record, and when (the registration)."""
    since = row["registered_on"] or SANDBOX_EPOCH
    till = {"code": SANDBOX_TILL, "name": SANDBOX_TILL, "type": "TILL"}
    return {"createDate": since, "createdBy": till, "modifiedBy": till, "modifiedDate": since}
