"""Rendering store rows as the API's customer and card objects (docs/capillary-api.md 4.1 and 6.5)."""

from __future__ import annotations

import sqlite3
from typing import Any

from reconciler.sandbox.vocab import ENTITY_STATUS_IDS

CARD_SQL = (
    "SELECT c.*, s.code AS series_code, s.name AS series_name, s.type AS series_type, s.expiry_days,"
    " s.max_active, l.status AS status, l.id AS label_id FROM cards c JOIN series s ON s.id = c.series_id"
    " JOIN labels l ON l.label = c.label"
)


def card_object(r: sqlite3.Row, org_id: int) -> dict[str, Any]:
    """The card object that ``GET /v2/card`` returns."""
    status = r["status"]
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
        "createdDate": r["created_date"],
        "expiryDate": None,
        "entityCode": None,
        "orgId": org_id,
        "entityId": r["card_id"],
        "customFields": {},
        "extendedFields": {},
        "statusLabel": r["label"],
        "statusInfo": {
            "reason": r["reason"],
            "createdBy": None,
            "actions": [],
            "autoUpdateTime": None,
            "createdOn": None,
            "entityId": r["card_id"],
            "id": r["card_id"],
            "isActive": True,
            "labelId": r["label_id"],
            "label": r["label"],
            "status": status,
            "entityStatusId": ENTITY_STATUS_IDS.get(status),
        },
        "activeAndDigital": status == "ACTIVE" and r["series_type"] == "DIGITAL",
        "transactionNotAllowed": status in ("SUSPENDED", "EXPIRED", "DELETED"),
        "warnings": [],
    }


def read_card(db: sqlite3.Connection, number: str, org_id: int) -> dict[str, Any] | None:
    """One card by number, or None."""
    row = db.execute(CARD_SQL + " WHERE c.number = ?", (number,)).fetchone()
    return card_object(row, org_id) if row else None


SANDBOX_EPOCH = "2024-01-01T00:00:00Z"  # the attribution dates of a customer seeded without registeredOn


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
        "loyaltyInfo": {"loyaltyType": row["loyalty_type"]},
        "segments": {},
        "extendedFields": {},
        "associatedWith": "sandbox.till",
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
        {"type": i["type"], "value": i["value"], "primary": True, "verified": False}
        for i in ids
        if i["type"] in ("mobile", "email")
    ]
    since = row["registered_on"] or SANDBOX_EPOCH
    till = {"code": "sandbox.till", "name": "sandbox.till", "type": "TILL"}
    return {
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "attribution": {"createDate": since, "createdBy": till, "modifiedBy": till, "modifiedDate": since},
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
