"""Linking and delinking cards through changeIdentifier, with the active-card limits (API digest 3, 6.1)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from reconciler.sandbox.envelope import ApiFailure, Warning_, warning
from reconciler.sandbox.settings import Settings

COUNTED = ("ACTIVE", "SUSPENDED", "ISSUED")


def now_iso() -> str:
    """The current UTC time as the API writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def label_status(db: sqlite3.Connection, label: str) -> str:
    """The status a card label maps to; 3017 for an unknown label."""
    row = db.execute("SELECT status FROM labels WHERE label = ?", (label,)).fetchone()
    if row is None:
        raise ApiFailure(3017, f"Invalid status label {label!r}")
    return str(row[0])


def card_row(db: sqlite3.Connection, number: str) -> sqlite3.Row:
    """The card with its status; 3010 if it does not exist."""
    sql = "SELECT c.*, l.status FROM cards c JOIN labels l ON l.label = c.label WHERE c.number = ?"
    row: sqlite3.Row | None = db.execute(sql, (number,)).fetchone()
    if row is None:
        raise ApiFailure(3010, "Card number does not exists")
    return row


def resolve_series(db: sqlite3.Connection, item: dict[str, Any]) -> sqlite3.Row | None:
    """The series named by ``seriesId`` or ``seriesCode`` in ``item``; None if neither; 3004 if unknown."""
    row: sqlite3.Row | None
    if item.get("seriesId") is not None:
        sid = item["seriesId"]
        if isinstance(sid, bool) or not str(sid).isdigit():
            raise ApiFailure(3004, f"Card series {sid!r} does not exist")
        row = db.execute("SELECT * FROM series WHERE id = ?", (int(sid),)).fetchone()
    elif item.get("seriesCode") is not None:
        row = db.execute("SELECT * FROM series WHERE code = ?", (str(item["seriesCode"]),)).fetchone()
    else:
        return None
    if row is None:
        raise ApiFailure(3004, "Card series does not exist")
    return row


def link_card(
    db: sqlite3.Connection,
    cid: int,
    scope: tuple[str, str],
    item: dict[str, Any],
    org: dict[str, Any],
    settings: Settings,
) -> list[Warning_]:
    """Link (issue) a card to ``cid``; returns warnings. The label is checked first (3017: it must be a
    configured label), then the card (3010), its series (3000), its status (8087) and the limits."""
    label = str(item.get("statusLabel") or "ACTIVE")
    if label_status(db, label) not in ("ACTIVE", "ISSUED"):
        raise ApiFailure(3017, f"Status label {label!r} cannot be used to issue a card")
    card = card_row(db, item["value"])
    series = resolve_series(db, item)
    if series is not None and series["id"] != card["series_id"]:
        raise ApiFailure(3000, f"Card {item['value']} does not belong to series {series['code']}")
    if card["status"] in ("EXPIRED", "DELETED"):
        raise ApiFailure(8087, f"Card is {card['status']}, not allowed to do any further actions")
    if card["customer_id"] == cid:
        return (
            [warning(3039, "No update in status label")]
            if card["label"] == label
            else _relabel(db, card, label)
        )
    if card["customer_id"]:
        raise ApiFailure(3027, "Card can not be linked: it is linked to another customer")
    _check_limits(db, cid, card["series_id"], org, settings)
    db.execute(
        "UPDATE cards SET customer_id = ?, label = ?, link_source = ?, link_account = ?, issued_date = ?"
        " WHERE number = ?",
        (cid, label, scope[0], scope[1], now_iso(), card["number"]),
    )
    return []


def _relabel(db: sqlite3.Connection, card: sqlite3.Row, label: str) -> list[Warning_]:
    db.execute("UPDATE cards SET label = ? WHERE number = ?", (label, card["number"]))
    return []


def _check_limits(
    db: sqlite3.Connection, cid: int, series_id: int, org: dict[str, Any], settings: Settings
) -> None:
    statuses = ("ACTIVE",) if settings.count_only_active_cards else COUNTED
    marks = ",".join("?" * len(statuses))
    base = (
        "SELECT COUNT(*) FROM cards c JOIN labels l ON l.label = c.label"
        f" WHERE c.customer_id = ? AND l.status IN ({marks})"
    )
    in_series = db.execute(base + " AND c.series_id = ?", (cid, *statuses, series_id)).fetchone()[0]
    limit = db.execute("SELECT max_active FROM series WHERE id = ?", (series_id,)).fetchone()[0]
    if in_series >= limit:
        raise ApiFailure(3036, f"Maximum active cards limit ({limit}) exceeded for the card series")
    org_limit = (org.get("settings") or {}).get("maxActiveCardsPerOrg")
    if org_limit is not None and db.execute(base, (cid, *statuses)).fetchone()[0] >= int(org_limit):
        raise ApiFailure(3039, f"Maximum active cards limit ({org_limit}) exceeded for the org")


def delink_card(db: sqlite3.Connection, cid: int, item: dict[str, Any]) -> None:
    """Delink a card from ``cid`` (``statusLabel`` must map to NOT_ISSUED)."""
    label = str(item.get("statusLabel") or "NOT_ISSUED")
    if label_status(db, label) != "NOT_ISSUED":
        raise ApiFailure(3018, f"Status label {label!r} is not mapped to NOT_ISSUED")
    card = card_row(db, item["value"])
    if card["status"] in ("EXPIRED", "DELETED"):
        raise ApiFailure(8087, f"Card is {card['status']}, not allowed to do any further actions")
    if card["customer_id"] != cid:
        raise ApiFailure(3031, "Card can not get be unlinked")
    db.execute(
        "UPDATE cards SET customer_id = 0, label = ?, link_source = NULL, link_account = NULL"
        " WHERE number = ?",
        (label, card["number"]),
    )
