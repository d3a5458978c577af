"""The sandbox's SQLite store: schema, seeding from a fixture, a deterministic dump, and transactions."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (source TEXT NOT NULL, account_id TEXT NOT NULL,
    PRIMARY KEY (source, account_id));
CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '', loyalty_type TEXT NOT NULL DEFAULT 'loyalty',
    status TEXT NOT NULL DEFAULT 'ACTIVE', status_label TEXT, merged_into INTEGER,
    registered_on TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS profiles (customer_id INTEGER NOT NULL, source TEXT NOT NULL,
    account_id TEXT NOT NULL, PRIMARY KEY (customer_id, source, account_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS profiles_by_scope ON profiles (source, account_id);
CREATE TABLE IF NOT EXISTS identifiers (customer_id INTEGER NOT NULL, source TEXT NOT NULL,
    account_id TEXT NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (customer_id, source, account_id, type, value)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS identifiers_by_value ON identifiers (value, type);
CREATE TABLE IF NOT EXISTS labels (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL DEFAULT 'DIGITAL', expiry_days INTEGER, card_expiry_enabled INTEGER NOT NULL DEFAULT 0,
    max_active INTEGER NOT NULL DEFAULT 1, generation_enabled INTEGER NOT NULL DEFAULT 0,
    generation_config TEXT, is_active INTEGER NOT NULL DEFAULT 1, next_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS cards (card_id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT NOT NULL UNIQUE,
    series_id INTEGER NOT NULL, label TEXT NOT NULL, customer_id INTEGER NOT NULL DEFAULT 0,
    link_source TEXT, link_account TEXT, issued_date TEXT, created_date TEXT NOT NULL DEFAULT '',
    external_id TEXT UNIQUE, reason TEXT);
CREATE INDEX IF NOT EXISTS cards_by_customer ON cards (customer_id);
"""

DEFAULT_ORG: dict[str, Any] = {"id": 50672, "name": "Sandbox Org", "timezone": "UTC", "settings": {}}
# An org always has a default label per card status (docs/capillary-api.md 6.1), named as the status:
# a store with no labels of its own (unseeded, or reset) has these, so ``NOT_ISSUED`` is always a label.
DEFAULT_LABELS = ("NOT_ISSUED", "ISSUED", "ACTIVE", "SUSPENDED", "EXPIRED", "DELETED")
# An org is set up with its in-store source (stores and tills, single-account: accountId ""): a store
# whose seed named no sources (unseeded, or reset) lists these; a seed's ``sources`` replace them.
DEFAULT_SOURCES = (("INSTORE", ""),)


class Store:
    """A SQLite-backed store (a file path or ``":memory:"``); safe to share between threads."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        with self.transaction() as db:
            _default_labels(db)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One SQLite transaction: everything inside commits together or not at all."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, held for a consistent read."""
        with self.lock:
            yield self.conn

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Run a read query and return all rows."""
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    def reset(self) -> None:
        """Delete everything."""
        with self.transaction() as db:
            for table in (
                "meta",
                "sources",
                "customers",
                "profiles",
                "identifiers",
                "labels",
                "series",
                "cards",
            ):
                db.execute(f"DELETE FROM {table}")  # fixed table names
            _default_labels(db)

    def is_empty(self) -> bool:
        """Whether the store holds no customers, series or cards (a fresh database)."""
        tables = ("customers", "series", "cards")
        return not any(self.query(f"SELECT 1 FROM {t} LIMIT 1") for t in tables)

    def org(self) -> dict[str, Any]:
        """The organisation record (id, name, settings)."""
        rows = self.query("SELECT value FROM meta WHERE key = 'org'")
        return json.loads(rows[0]["value"]) if rows else dict(DEFAULT_ORG)

    def seed(self, fixture: dict[str, Any]) -> None:
        """Add a fixture (README.md format) in one transaction; ValueError names the first bad entry."""
        from reconciler.sandbox.seeding import insert_fixture

        with self.transaction() as db:
            insert_fixture(db, fixture)

    def dump(self) -> dict[str, Any]:
        """The whole state in the seed format: deterministic, sorted, JSON-serialisable."""
        from reconciler.sandbox.seeding import dump_fixture

        with self.lock:
            return dump_fixture(self.conn, self.org())

    def close(self) -> None:
        """Close the database connection."""
        with self.lock:
            self.conn.close()


def org_accounts(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """The org's (source, accountId) pairs, sorted: the seeded ones (``DEFAULT_SOURCES`` when none were
    seeded) and every one a customer has a profile in (a real org lists the sources its customers live in)."""
    seeded = {(r[0], r[1]) for r in db.execute("SELECT source, account_id FROM sources")}
    registered = {(r[0], r[1]) for r in db.execute("SELECT DISTINCT source, account_id FROM profiles")}
    return sorted((seeded or set(DEFAULT_SOURCES)) | registered)


def has_account(db: sqlite3.Connection, source: str, account: str) -> bool:
    """Whether the org has this account of a multi-account source (``org_accounts`` without the scan)."""
    sql = (
        "SELECT 1 FROM sources WHERE source = ? AND account_id = ?"
        " UNION ALL SELECT 1 FROM profiles WHERE source = ? AND account_id = ? LIMIT 1"
    )
    return db.execute(sql, (source, account, source, account)).fetchone() is not None


def _default_labels(db: sqlite3.Connection) -> None:
    if db.execute("SELECT 1 FROM labels LIMIT 1").fetchone() is None:
        rows = [(status, status, 1) for status in DEFAULT_LABELS]
        db.executemany("INSERT INTO labels (label, status, is_default) VALUES (?, ?, ?)", rows)
