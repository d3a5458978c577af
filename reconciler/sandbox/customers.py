"""Customer reads: by id, lookups by identifier (also by card), and bulk reads (docs/capillary-api.md 4)."""

from __future__ import annotations

import sqlite3
from typing import Any

from reconciler.sandbox.envelope import ApiFailure, not_found_customer, warning
from reconciler.sandbox.records import customer_object
from reconciler.sandbox.settings import Settings
from reconciler.sandbox.store import has_account
from reconciler.sandbox.vocab import KNOWN_SOURCES, canonical_type, is_multi_account

Scope = tuple[str, str]


def parse_scope(
    source: str | None, account: str | None, db: sqlite3.Connection, code: int = 8012
) -> Scope | None:
    """Validate ``source``/``accountId``; None means ALL. Raises 8012 (or ``code``), 8045, 8011."""
    if not source:
        raise ApiFailure(code, "Invalid source: source is required")
    source = source.upper()
    if source == "ALL":
        return None
    if source not in KNOWN_SOURCES:
        raise ApiFailure(code, f"Invalid source {source!r}")
    account = account or ""
    if not is_multi_account(source):
        return (source, "")
    if not account:
        raise ApiFailure(8045, "Account id is not passed")
    if not has_account(db, source, account):
        raise ApiFailure(8011, "Invalid source or accountId passed")
    return (source, account)


def customer_row(db: sqlite3.Connection, cid: int) -> sqlite3.Row | None:
    """The customers row of ``cid``, or None."""
    row: sqlite3.Row | None = db.execute("SELECT * FROM customers WHERE id = ?", (cid,)).fetchone()
    return row


def survivor_of(db: sqlite3.Connection, row: sqlite3.Row) -> sqlite3.Row:
    """Follow ``merged_into`` to the final survivor."""
    seen = {row["id"]}
    while row["merged_into"] is not None:
        nxt = customer_row(db, row["merged_into"])
        if nxt is None or nxt["id"] in seen:
            break
        seen.add(nxt["id"])
        row = nxt
    return row


def victim_failure(row: sqlite3.Row) -> ApiFailure:
    """8069 for a merge victim, naming the victim and its survivor."""
    return ApiFailure(
        8069, f"Merged customer found: customer {row['id']} is merged into {row['merged_into']}"
    )


def read_customer(
    db: sqlite3.Connection, cid: int, scope: Scope | None, settings: Settings, org_id: int
) -> dict[str, Any]:
    """The customer object for ``cid``, answering for victims as ``settings.victim_reads`` says."""
    row = customer_row(db, cid)
    if row is None:
        raise not_found_customer()
    warnings = []
    if row["merged_into"] is not None:
        if settings.victim_reads != "survivor":
            raise victim_failure(row)
        row = survivor_of(db, row)
        warnings.append(warning(91009, "Retrieved survivor account for the requested merge victim"))
    body = customer_object(db, row, org_id, settings.card_identifiers_in_profiles, scope)
    if scope is not None and not body["profiles"]:
        raise ApiFailure(8065, "No customer found in the given source with the given identifier")
    body["warnings"] = warnings
    return body


def find_holders(
    db: sqlite3.Connection, itype: str, value: str, where: tuple[str, tuple[Any, ...]] = ("", ())
) -> list[sqlite3.Row]:
    """Customers holding an identifier (or a card), non-victims first; ``where`` narrows ``identifiers i``."""
    itype = canonical_type(itype)
    if itype == "cardnumber":
        sql = "SELECT cu.* FROM cards c JOIN customers cu ON cu.id = c.customer_id WHERE c.number = ?"
        return db.execute(sql, (value,)).fetchall()
    if itype == "cardExternalId":
        sql = "SELECT cu.* FROM cards c JOIN customers cu ON cu.id = c.customer_id WHERE c.external_id = ?"
        return db.execute(sql, (value,)).fetchall()
    sql = (
        "SELECT DISTINCT cu.* FROM identifiers i JOIN customers cu ON cu.id = i.customer_id"
        f" WHERE i.value = ? AND i.type = ?{where[0]}"
        " ORDER BY cu.merged_into IS NOT NULL, cu.id"
    )
    return db.execute(sql, (value, itype, *where[1])).fetchall()


def bulk_read(
    db: sqlite3.Connection, ids: list[Any], scope: Scope | None, settings: Settings, org_id: int
) -> dict[str, Any]:
    """``POST /v2/bulk/getCustomers``: one item per id, failures per item."""
    if len(ids) > settings.bulk_get_max:
        raise ApiFailure(1060, f"Exceeded maximum limit size of {settings.bulk_get_max}")
    data = []
    for raw in ids:
        try:
            if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
                raise ApiFailure(8009, f"Customer id is invalid: {raw!r}")
            entity = read_customer(db, int(raw), scope, settings, org_id)
            warnings = entity.pop("warnings")
            data.append({"entity": entity, "warnings": warnings, "errors": [], "success": True})
        except ApiFailure as exc:
            err = {"status": False, "code": exc.code, "message": exc.message}
            data.append({"entity": {"id": raw}, "warnings": [], "errors": [err], "success": False})
    return {"data": data, "warnings": [], "errors": []}
