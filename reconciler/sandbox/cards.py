"""Card, series and label endpoints' logic: create, status changes with the transition rules, bulk update,
generation (docs/capillary-api.md 6)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from reconciler.sandbox.cardlink import card_row, label_status, now_iso, resolve_series
from reconciler.sandbox.envelope import ApiFailure, Warning_, warning
from reconciler.sandbox.records import read_card, series_record
from reconciler.sandbox.settings import Settings
from reconciler.sandbox.vocab import ENTITY_STATUS_IDS

# Statuses a card may move to from each status by PUT /v2/card (label changes within a status are allowed).
ALLOWED = {
    "NOT_ISSUED": {"NOT_ISSUED"},
    "ISSUED": {"ISSUED", "ACTIVE", "SUSPENDED", "EXPIRED", "DELETED"},
    "ACTIVE": {"ACTIVE", "SUSPENDED", "EXPIRED", "DELETED"},
    "SUSPENDED": {"ACTIVE", "SUSPENDED", "EXPIRED", "DELETED"},
    "EXPIRED": set(),
    "DELETED": set(),
}


def _mandatory(body: dict[str, Any], key: str) -> Any:
    value = body.get(key)
    if value is None or value == "":
        raise ApiFailure(403, f"Field {key} is mandatory", status=403)
    return value


def create_card(db: sqlite3.Connection, body: Any) -> dict[str, Any]:
    """``POST /v2/card``: add a card number to a series."""
    if isinstance(body, list):
        raise ApiFailure(3035, "Multiple cards can not be registered/updated in a single call")
    if not isinstance(body, dict):
        raise ApiFailure(403, "Field cardNumber is mandatory", status=403)
    number = str(_mandatory(body, "cardNumber"))
    series = resolve_series(db, body)
    if series is None:
        raise ApiFailure(3004, "Card series does not exist")
    label = str(body.get("statusLabel") or "NOT_ISSUED")
    label_status(db, label)
    if db.execute("SELECT 1 FROM cards WHERE number = ?", (number,)).fetchone():
        raise ApiFailure(3009, "Card number exists")
    ext = body.get("cardExternalId")
    if ext and db.execute("SELECT 1 FROM cards WHERE external_id = ?", (ext,)).fetchone():
        raise ApiFailure(3045, "Card external id exists")
    cur = db.execute(
        "INSERT INTO cards (number, series_id, label, created_date, external_id, reason)"
        " VALUES (?,?,?,?,?,?)",
        (number, series["id"], label, now_iso(), ext, (body.get("statusInfo") or {}).get("reason")),
    )
    return {"entity": cur.lastrowid, "warnings": []}


def update_card(
    db: sqlite3.Connection, body: Any, org_id: int, same_label_is_error: bool = True
) -> dict[str, Any]:
    """``PUT /v2/card``: change a card's status label under the transition rules."""
    if not isinstance(body, dict):
        raise ApiFailure(403, "Field cardNumber is mandatory", status=403)
    card = card_row(db, str(_mandatory(body, "cardNumber")))
    label = str(_mandatory(body, "statusLabel"))
    target = label_status(db, label)
    warnings: list[Warning_] = []
    previous = db.execute("SELECT id FROM labels WHERE label = ?", (card["label"],)).fetchone()
    if card["label"] == label:
        if same_label_is_error:
            raise ApiFailure(3012, "Card status same as passed")
        warnings.append(warning(3039, "No update in status label"))
    else:
        _check_transition(card["status"], target)
        reason = (body.get("statusInfo") or {}).get("reason")
        db.execute("UPDATE cards SET label = ?, reason = ? WHERE number = ?", (label, reason, card["number"]))
    result = read_card(db, card["number"], org_id) or {}
    info = result.get("statusInfo", {})
    info["prevLabel"], info["prevLabelId"] = card["label"], previous[0] if previous else None
    result["warnings"] = warnings
    return result


def _check_transition(current: str, target: str) -> None:
    if current == "DELETED":
        raise ApiFailure(8087, "Card is DELETED, not allowed to do any further actions")
    if target in ALLOWED[current]:
        return
    if current in ("ACTIVE", "SUSPENDED", "ISSUED") and target in ("NOT_ISSUED", "ISSUED"):
        raise ApiFailure(3013, "Card status can only be changed to expired, deleted or suspended")
    raise ApiFailure(3038, f"Card status can not be changed from {current} to {target}")


def bulk_update(db: sqlite3.Connection, body: Any, org_id: int, settings: Settings) -> dict[str, Any]:
    """``PUT /v2/card/bulk``: each item succeeds or fails on its own (a savepoint per item)."""
    if not isinstance(body, list):
        raise ApiFailure(1060, "Body must be an array of cards")
    if len(body) > settings.card_bulk_max:
        raise ApiFailure(1060, f"Exceeded maximum limit size of {settings.card_bulk_max}")
    out, failures = [], 0
    for item in body:
        db.execute("SAVEPOINT item")
        try:
            card = update_card(db, item, org_id, same_label_is_error=False)
            warnings = card.pop("warnings")
            out.append({"entityId": card, "errors": [], "warnings": warnings})
            db.execute("RELEASE item")
        except ApiFailure as exc:
            db.execute("ROLLBACK TO item")
            db.execute("RELEASE item")
            failures += 1
            number = item.get("cardNumber") if isinstance(item, dict) else None
            err = {"status": False, "code": exc.code, "message": exc.message}
            out.append({"entityId": {"cardNumber": number}, "errors": [err], "warnings": []})
    return {"response": out, "totalCount": len(body), "failureCount": failures}


def generate_cards(db: sqlite3.Connection, body: Any, settings: Settings) -> dict[str, Any]:
    """``POST /v2/card/generate``: new NOT_ISSUED cards numbered from the series' generation config."""
    if not isinstance(body, dict):
        raise ApiFailure(403, "Field seriesId is mandatory", status=403)
    try:
        series = resolve_series(db, body)
    except ApiFailure as exc:  # the generate-cards page's code for a series it cannot use
        if exc.code != 3004:
            raise
        raise ApiFailure(3000, "Invalid card series") from exc
    if series is None:
        raise ApiFailure(403, "Field seriesId is mandatory", status=403)
    if not series["generation_enabled"]:
        raise ApiFailure(703, f"Card number generation disabled for series {series['code']}")
    count = body.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise ApiFailure(3025, "Card count is invalid")
    if count > settings.generate_max:
        raise ApiFailure(3026, f"Card count exceeds {settings.generate_max}")
    label = str(body.get("statusLabel") or "NOT_ISSUED")
    if label_status(db, label) != "NOT_ISSUED":
        raise ApiFailure(3017, f"Generated cards must be NOT_ISSUED, not {label!r}")
    numbers, warnings = _mint(db, series, count, label)
    if settings.generate_answer == "entity":  # the legacy docs' shape
        return {"entity": numbers, "warnings": warnings}
    return {"data": numbers, "warnings": warnings, "errors": []}  # the 2025 docs' shape


def _mint(
    db: sqlite3.Connection, series: sqlite3.Row, count: int, label: str
) -> tuple[list[str], list[Warning_]]:
    config = json.loads(series["generation_config"]) if series["generation_config"] else {}
    prefix, suffix = str(config.get("prefix", "")), str(config.get("suffix", ""))
    width = max(int(config.get("length", 12)) - len(prefix) - len(suffix), 1)
    seq, skipped, created = int(series["next_seq"]), 0, now_iso()
    numbers: list[str] = []
    while len(numbers) < count:
        if int(config.get("offset", 0)) + seq >= 10**width:  # the series' number space is used up
            raise ApiFailure(702, "Maximum card numbers reached")
        number = f"{prefix}{int(config.get('offset', 0)) + seq:0{width}d}{suffix}"
        seq += 1
        if db.execute("SELECT 1 FROM cards WHERE number = ?", (number,)).fetchone():
            skipped += 1
            continue
        numbers.append(number)
    db.executemany(
        "INSERT INTO cards (number, series_id, label, created_date) VALUES (?,?,?,?)",
        [(n, series["id"], label, created) for n in numbers],
    )
    db.execute("UPDATE series SET next_seq = ? WHERE id = ?", (seq, series["id"]))
    warnings = [warning(3059, "FEW_CARDS_ALREADY_EXISTS")] if skipped else []
    return numbers, warnings


def series_object(r: sqlite3.Row, org_id: int) -> dict[str, Any]:
    """A card series as the API shows it."""
    return {**series_record(r), "trigger": "SERIES_ID", "orgId": org_id}


def _max_active(value: Any) -> int:
    # 0 is a limit of 0 (every link refused, 3036), as the client reads it; absent is the UI default, 1
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiFailure(403, "Field maxActiveCardsPerCustomer must be a whole number", status=403)
    return value


def create_series(db: sqlite3.Connection, body: Any) -> dict[str, Any]:
    """``POST /v2/card/series``."""
    if not isinstance(body, dict) or not body.get("code"):
        raise ApiFailure(3001, "Card series code is empty")
    if body.get("type") not in ("DIGITAL", "PHYSICAL"):
        raise ApiFailure(3020, "Card series type must be DIGITAL or PHYSICAL")
    if db.execute("SELECT 1 FROM series WHERE code = ?", (body["code"],)).fetchone():
        raise ApiFailure(3002, "Card series already exists")
    new_id = (db.execute("SELECT MAX(id) FROM series").fetchone()[0] or 100000) + 1
    config = body.get("cardGenerationConfiguration")
    db.execute(
        "INSERT INTO series (id, code, name, type, expiry_days, card_expiry_enabled, max_active,"
        " generation_enabled, generation_config, is_active) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            new_id,
            body["code"],
            body.get("name", ""),
            body["type"],
            body.get("expiryDays"),
            int(bool(body.get("cardExpiryEnabled"))),
            _max_active(body.get("maxActiveCardsPerCustomer")),
            int(bool(body.get("cardGenerationEnabled"))),
            json.dumps(config) if config else None,
            int(body.get("isActive", True)),
        ),
    )
    return {"entity": new_id, "warnings": []}


def list_labels(db: sqlite3.Connection, org_id: int) -> dict[str, Any]:
    """``GET /v2/genericStatus/card/labels``."""
    data = [
        {
            "id": r["id"],
            "label": r["label"],
            "status": r["status"],
            "entityStatusId": ENTITY_STATUS_IDS[r["status"]],
            "type": "CARD",
            "default": bool(r["is_default"]),
            "isActive": True,
            "orgId": org_id,
        }
        for r in db.execute("SELECT * FROM labels ORDER BY id")
    ]
    return {"data": data, "warnings": [], "errors": []}
