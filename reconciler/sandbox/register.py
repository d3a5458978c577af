"""``POST /v2/customers``: register a customer, combining with an existing holder in another source
(warning 8050) and refusing a same-source duplicate (8006) (capillary-api.md 7)."""

from __future__ import annotations

import sqlite3
from typing import Any

from reconciler.sandbox.customers import find_holders
from reconciler.sandbox.envelope import ApiFailure, Warning_, warning
from reconciler.sandbox.settings import Settings
from reconciler.sandbox.vocab import (
    KNOWN_SOURCES,
    canonical_type,
    is_multi_account,
    valid_email,
    valid_mobile,
)

Row = tuple[str, str, str, str]  # source, accountId, type, value


def _profiles(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise ApiFailure(403, "Field profiles is mandatory", status=403)
    profiles = body.get("profiles")
    if not isinstance(profiles, list) or not profiles or not all(isinstance(p, dict) for p in profiles):
        raise ApiFailure(403, "Field profiles is mandatory", status=403)
    return profiles


def _rows(profiles: list[dict[str, Any]], warnings: list[Warning_]) -> list[Row]:
    rows = []
    for p in profiles:
        source = str(p.get("source", "")).upper()
        if source not in KNOWN_SOURCES:
            raise ApiFailure(3217, f"Invalid source {p.get('source')!r}")
        account = str(p.get("accountId") or "") if is_multi_account(source) else ""
        if is_multi_account(source) and not account:
            raise ApiFailure(8045, "Account id is not passed")
        for ident in p.get("identifiers") or []:
            if not isinstance(ident, dict) or not isinstance(ident.get("value"), str):
                raise ApiFailure(8013, "Invalid identifier")
            itype, value = canonical_type(str(ident.get("type", ""))), ident["value"]
            if itype == "mobile" and not valid_mobile(value):
                warnings.append(warning(8056, f"Invalid mobile {value!r}"))
            elif itype == "email" and not valid_email(value):
                warnings.append(warning(8055, f"Invalid email {value!r}"))
            else:
                rows.append((source, account, itype, value))
    return rows


def _existing(db: sqlite3.Connection, rows: list[Row], settings: Settings) -> int | None:
    """The customer to combine with (a holder in another scope), or None."""
    target = None
    for source, account, itype, value in rows:
        holders = find_holders(db, itype, value)
        active = [h for h in holders if h["merged_into"] is None]
        for h in active or holders:
            if h["merged_into"] is not None:
                raise ApiFailure(settings.victim_holder_code, f"Merged customer found: {h['id']}")
            if h["loyalty_type"] == "non_loyalty":
                raise ApiFailure(settings.campaign_holder_code, f"Customer is campaign user: {h['id']}")
            sql = "SELECT 1 FROM identifiers WHERE customer_id=? AND source=? AND account_id=? AND type=?"
            sql += " AND value=?"
            if db.execute(sql, (h["id"], source, account, itype, value)).fetchone():
                raise ApiFailure(
                    8006, f"Add failed, Customer already exists with id {h['id']} for same source"
                )
            if target not in (None, h["id"]):
                raise ApiFailure(
                    8053, "Each identifier is registered with a different customer in other source"
                )
            target = h["id"]
    return target


def register_customer(
    db: sqlite3.Connection, body: Any, settings: Settings, registered_on: str
) -> dict[str, Any]:
    """Create (or combine) a customer; returns ``{"createdId", "warnings"}``."""
    profiles = _profiles(body)
    warnings: list[Warning_] = []
    rows = _rows(profiles, warnings)
    target = _existing(db, rows, settings)
    if target is None:
        target = (db.execute("SELECT MAX(id) FROM customers").fetchone()[0] or 564800000) + 1
        first = profiles[0]
        loyalty = (body.get("loyaltyInfo") or {}).get("loyaltyType", "loyalty")
        db.execute(
            "INSERT INTO customers (id, first_name, last_name, loyalty_type, registered_on)"
            " VALUES (?,?,?,?,?)",
            (target, str(first.get("firstName", "")), str(first.get("lastName", "")), loyalty, registered_on),
        )
    else:
        warnings.append(warning(8050, "Same Customer found in other sources, Combining"))
    for p in profiles:
        source = str(p["source"]).upper()
        account = str(p.get("accountId") or "") if is_multi_account(source) else ""
        db.execute("INSERT OR IGNORE INTO profiles VALUES (?, ?, ?)", (target, source, account))
    db.executemany("INSERT OR IGNORE INTO identifiers VALUES (?, ?, ?, ?, ?)", [(target, *r) for r in rows])
    return {"createdId": target, "warnings": warnings, "sideEffects": []}
