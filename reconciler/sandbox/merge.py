"""The automatic merge: the path customer (victim) is absorbed into the holder (survivor), in the caller's
transaction. Profiles move to the survivor (the survivor's value wins per identifier type), cards move unless
card transfer is off, and the victim is marked ``merged_into``. The victim keeps its identifier rows:
that is why reusing them is blocked (docs/capillary-api.md 5)."""

from __future__ import annotations

import sqlite3

from reconciler.sandbox.settings import Settings


def merge_customers(db: sqlite3.Connection, victim: int, survivor: int, settings: Settings) -> None:
    """Merge ``victim`` into ``survivor``."""
    scopes = db.execute("SELECT source, account_id FROM profiles WHERE customer_id = ?", (victim,)).fetchall()
    for source, account in scopes:
        _merge_profile(db, victim, survivor, source, account)
    if settings.card_transfer_to_survivor:
        db.execute("UPDATE cards SET customer_id = ? WHERE customer_id = ?", (survivor, victim))
    db.execute("UPDATE customers SET merged_into = ? WHERE id = ?", (survivor, victim))
    db.execute("UPDATE customers SET merged_into = ? WHERE merged_into = ?", (survivor, victim))


def _merge_profile(db: sqlite3.Connection, victim: int, survivor: int, source: str, account: str) -> None:
    db.execute("INSERT OR IGNORE INTO profiles VALUES (?, ?, ?)", (survivor, source, account))
    kept = {
        r[0]
        for r in db.execute(
            "SELECT DISTINCT type FROM identifiers WHERE customer_id = ? AND source = ? AND account_id = ?",
            (survivor, source, account),
        )
    }
    rows = db.execute(
        "SELECT type, value FROM identifiers WHERE customer_id = ? AND source = ? AND account_id = ?",
        (victim, source, account),
    ).fetchall()
    db.executemany(
        "INSERT OR IGNORE INTO identifiers VALUES (?, ?, ?, ?, ?)",
        [(survivor, source, account, t, v) for t, v in rows if t not in kept],
    )
