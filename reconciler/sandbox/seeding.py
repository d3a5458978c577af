"""Loading a fixture into the store and dumping the store back as one (the format is in README.md)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from typing import Any

from reconciler.sandbox.records import series_record
from reconciler.sandbox.vocab import STATUSES, canonical_type


class FixtureError(ValueError):
    """A fixture entry is malformed; the message names the entry."""


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    if not isinstance(entry, dict) or key not in entry:
        raise FixtureError(f"{where}: missing {key!r}")
    return entry[key]


def _int(entry: dict[str, Any], key: str, where: str, default: int | None = None) -> int:
    """``entry[key]`` as an integer (absent or null: ``default``, required when None); bools count as 0/1."""
    value = entry.get(key) if default is not None else _require(entry, key, where)
    if value is None and default is not None:
        return default
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
    raise FixtureError(f"{where}.{key}: expected an integer, got {json.dumps(value)[:60]}")


def _entries(parent: dict[str, Any], key: str, where: str = "") -> list[dict[str, Any]]:
    """``parent[key]``: a list of objects (absent: empty); ``where`` names ``parent`` in errors."""
    name = f"{where}.{key}" if where else key
    entries = parent.get(key, [])
    if not isinstance(entries, list):
        raise FixtureError(f"{name}: expected a list, got {type(entries).__name__}")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise FixtureError(f"{name}[{i}]: expected an object, got {type(entry).__name__}")
    return entries


def insert_fixture(db: sqlite3.Connection, fixture: dict[str, Any]) -> None:
    """Insert every part of ``fixture`` (inside the caller's transaction)."""
    if not isinstance(fixture, dict):
        raise FixtureError("fixture must be a JSON object")
    if "org" in fixture:
        db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('org', ?)", (json.dumps(fixture["org"], sort_keys=True),)
        )
    for i, src in enumerate(_entries(fixture, "sources")):
        source = _require(src, "source", f"sources[{i}]")
        accounts = src.get("accounts", [""])
        if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
            raise FixtureError(
                f"sources[{i}].accounts: expected a list of strings, got {json.dumps(accounts)[:60]}"
            )
        db.executemany("INSERT OR IGNORE INTO sources VALUES (?, ?)", [(source, a) for a in accounts])
    _insert_labels(db, _entries(fixture, "labels"))
    _insert_series(db, _entries(fixture, "series"))
    _insert_customers(db, _entries(fixture, "customers"))
    _insert_cards(db, _entries(fixture, "cards"))


def _insert_labels(db: sqlite3.Connection, labels: list[dict[str, Any]]) -> None:
    """A fixture's labels are the org's labels: they replace the default ones (store.DEFAULT_LABELS)."""
    if labels:
        db.execute("DELETE FROM labels")
    for i, lab in enumerate(labels):
        status = _require(lab, "status", f"labels[{i}]")
        if status not in STATUSES:
            raise FixtureError(f"labels[{i}]: unknown status {status!r}")
        db.execute(
            "INSERT INTO labels (label, status, is_default) VALUES (?, ?, ?)",
            (_require(lab, "label", f"labels[{i}]"), status, int(bool(lab.get("default")))),
        )


def _insert_series(db: sqlite3.Connection, series: list[dict[str, Any]]) -> None:
    for i, s in enumerate(series):
        config = s.get("cardGenerationConfiguration")
        db.execute(
            "INSERT INTO series (id, code, name, type, expiry_days, card_expiry_enabled, max_active,"
            " generation_enabled, generation_config, is_active, next_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                _int(s, "id", f"series[{i}]"),
                _require(s, "code", f"series[{i}]"),
                s.get("name", ""),
                s.get("type", "DIGITAL"),
                s.get("expiryDays"),
                int(bool(s.get("cardExpiryEnabled"))),
                _int(s, "maxActiveCardsPerCustomer", f"series[{i}]", 1),  # absent or null: 1
                int(bool(s.get("cardGenerationEnabled"))),
                json.dumps(config, sort_keys=True) if config else None,
                _int(s, "isActive", f"series[{i}]", 1),
                _int(s, "nextSequence", f"series[{i}]", 0),
            ),
        )


def _insert_customers(db: sqlite3.Connection, customers: list[dict[str, Any]]) -> None:
    rows, profiles, identifiers = [], [], []
    for i, c in enumerate(customers):
        cid = _int(c, "id", f"customers[{i}]")
        rows.append(
            (
                cid,
                c.get("firstName", ""),
                c.get("lastName", ""),
                c.get("loyaltyType", "loyalty"),
                c.get("status", "ACTIVE"),
                c.get("statusLabel"),
                c.get("mergedInto"),
                c.get("registeredOn", ""),
            )
        )
        for j, p in enumerate(_entries(c, "profiles", f"customers[{i}]")):
            source = _require(p, "source", f"customers[{i}].profiles[{j}]")
            account = p.get("accountId") or ""
            profiles.append((cid, source, account))
            for ident in _entries(p, "identifiers", f"customers[{i}].profiles[{j}]"):
                itype = canonical_type(_require(ident, "type", f"customers[{i}].profiles[{j}].identifiers"))
                identifiers.append((cid, source, account, itype, str(ident.get("value", ""))))
    try:
        db.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?)", rows)
        db.executemany("INSERT OR IGNORE INTO profiles VALUES (?,?,?)", profiles)
        db.executemany("INSERT OR IGNORE INTO identifiers VALUES (?,?,?,?,?)", identifiers)
    except sqlite3.IntegrityError as exc:
        raise FixtureError(f"customers: {exc}") from exc


def _insert_cards(db: sqlite3.Connection, cards: list[dict[str, Any]]) -> None:
    labels = {r[0]: r[1] for r in db.execute("SELECT label, status FROM labels")}
    series = {r[0] for r in db.execute("SELECT id FROM series")}
    for i, card in enumerate(cards):
        where = f"cards[{i}]"
        if _int(card, "seriesId", where) not in series:
            raise FixtureError(f"{where}: unknown series {card['seriesId']}")
        label = card.get("statusLabel", "NOT_ISSUED")
        if label not in labels:
            raise FixtureError(f"{where}: unknown status label {label!r}")
        via = card.get("linkedVia") or {}
        try:
            db.execute(
                "INSERT INTO cards (number, series_id, label, customer_id, link_source, link_account,"
                " issued_date, created_date, external_id, reason) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    str(_require(card, "number", where)),
                    int(card["seriesId"]),
                    label,
                    _int(card, "customerId", where, 0),
                    via.get("source"),
                    via.get("accountId"),
                    card.get("issuedDate"),
                    card.get("createdDate", ""),
                    card.get("cardExternalId"),
                    card.get("reason"),
                ),
            )
        except sqlite3.IntegrityError as exc:
            raise FixtureError(f"{where}: {exc}") from exc


def dump_fixture(db: sqlite3.Connection, org: dict[str, Any]) -> dict[str, Any]:
    """The store as a fixture, every list sorted."""
    accounts: dict[str, list[str]] = {}
    for src, acc in db.execute("SELECT source, account_id FROM sources ORDER BY source, account_id"):
        accounts.setdefault(src, []).append(acc)
    return {
        "formatVersion": 1,
        "org": org,
        "sources": [{"source": s, "accounts": a} for s, a in accounts.items()],
        "labels": [
            {"label": r[0], "status": r[1], "default": bool(r[2])}
            for r in db.execute("SELECT label, status, is_default FROM labels ORDER BY label")
        ],
        "series": [
            {**series_record(r), "nextSequence": r["next_seq"]}
            for r in db.execute("SELECT * FROM series ORDER BY id")
        ],
        "cards": [_dump_card(r) for r in db.execute("SELECT * FROM cards ORDER BY number")],
        "customers": _dump_customers(db),
    }


def _dump_card(r: sqlite3.Row) -> dict[str, Any]:
    card: dict[str, Any] = {
        "number": r["number"],
        "seriesId": r["series_id"],
        "statusLabel": r["label"],
        "customerId": r["customer_id"],
    }
    if r["link_source"] is not None:
        card["linkedVia"] = {"source": r["link_source"], "accountId": r["link_account"] or ""}
    for key, col in (("issuedDate", "issued_date"), ("cardExternalId", "external_id"), ("reason", "reason")):
        if r[col] is not None:
            card[key] = r[col]
    if r["created_date"]:
        card["createdDate"] = r["created_date"]
    return card


def _dump_customers(db: sqlite3.Connection) -> list[dict[str, Any]]:
    profiles: dict[int, dict[tuple[str, str], list[dict[str, str]]]] = {}
    for cid, src, acc in db.execute("SELECT * FROM profiles ORDER BY customer_id, source, account_id"):
        profiles.setdefault(cid, {})[(src, acc)] = []
    for cid, src, acc, itype, value in db.execute(
        "SELECT * FROM identifiers ORDER BY customer_id, source, account_id, type, value"
    ):
        profiles.setdefault(cid, {}).setdefault((src, acc), []).append({"type": itype, "value": value})
    out = []
    for r in db.execute("SELECT * FROM customers ORDER BY id"):
        entry: dict[str, Any] = {
            "id": r["id"],
            "firstName": r["first_name"],
            "lastName": r["last_name"],
            "loyaltyType": r["loyalty_type"],
            "status": r["status"],
            "registeredOn": r["registered_on"],
            "profiles": [
                {"source": s, "accountId": a, "identifiers": ids}
                for (s, a), ids in sorted(profiles.get(r["id"], {}).items())
            ],
        }
        if r["status_label"] is not None:
            entry["statusLabel"] = r["status_label"]
        if r["merged_into"] is not None:
            entry["mergedInto"] = r["merged_into"]
        out.append(entry)
    return out
