"""Lookups by identifier (``/v2/customers/lookup`` and ``.../customerDetails``), in each documented variant
(docs/capillary-api.md 4.2, 4.3 and 10): victim and campaign holders reported as warnings of a 2xx answer
or as errors, and ``accountId`` required or not in multi-account sources."""

from __future__ import annotations

import sqlite3
from typing import Any

from reconciler.model import MULTI_ACCOUNT_SOURCES
from reconciler.sandbox.customers import find_holders, parse_scope, read_customer, victim_failure
from reconciler.sandbox.envelope import ApiFailure, warning
from reconciler.sandbox.records import customer_object
from reconciler.sandbox.settings import Settings
from reconciler.sandbox.vocab import IDENTIFIER_TYPES, KNOWN_SOURCES, canonical_type, is_multi_account

VICTIM_FOUND = (8069, "Merged customer found")
CAMPAIGN_USER = (8068, "Customer is campaign user")
Filter = tuple[str, tuple[Any, ...]]
LOOKUP_TYPES = frozenset({t.lower() for t in IDENTIFIER_TYPES} | {"cardnumber"})
# A lookup in a multi-account source without ``accountId`` (``lookup_account_id="required"``), per route:
# the get-customer-details page (customerDetails) answers 8015 "Account ID is not defined"; the
# get-customer-id page (``/v2/customers/lookup``) lists 8045 "Account id is not passed".
ACCOUNT_NOT_DEFINED = (8015, "Account ID is not defined")
ACCOUNT_NOT_PASSED = (8045, "Account id is not passed")


def lookup_filter(
    db: sqlite3.Connection,
    query: dict[str, str],
    settings: Settings,
    missing_account: tuple[int, str] = ACCOUNT_NOT_DEFINED,
) -> Filter:
    """The SQL condition on ``identifiers i`` that a lookup's ``source``/``accountId`` select."""
    source, account = (query.get("source") or "").upper(), query.get("accountId") or ""
    if not source:  # docs/capillary-api.md 10
        raise ApiFailure(8001, "Lookup failed, No source passed")
    required = settings.lookup_account_id == "required"
    if source in KNOWN_SOURCES and is_multi_account(source) and not account:
        if required:
            raise ApiFailure(*missing_account)
        return " AND i.source = ?", (source,)
    scope = parse_scope(query.get("source"), account, db)
    if scope is not None:
        return " AND i.source = ? AND i.account_id = ?", scope
    if required:  # undocumented for source=ALL: the conservative reading, multi-account profiles unseen
        marks = ", ".join("?" * len(MULTI_ACCOUNT_SOURCES))
        return f" AND i.source NOT IN ({marks})", tuple(sorted(MULTI_ACCOUNT_SOURCES))
    return "", ()


def lookup_holder(
    db: sqlite3.Connection,
    query: dict[str, str],
    settings: Settings,
    missing_account: tuple[int, str] = ACCOUNT_NOT_DEFINED,
) -> sqlite3.Row:
    """The holder a lookup query names (non-victims first); 8015 when nobody it can see holds it."""
    where = lookup_filter(db, query, settings, missing_account)
    name, value = query.get("identifierName"), query.get("identifierValue")
    if not name and not value:
        raise ApiFailure(8002, "Lookup failed, No identifiers passed")
    if not name:
        raise ApiFailure(8092, "Identifier type is not passed")
    if not value:
        raise ApiFailure(8093, "Identifier value is not passed")
    if canonical_type(name).lower() not in LOOKUP_TYPES:
        raise ApiFailure(8013, f"Invalid identifier: {name!r} is not an identifier name")
    holders = find_holders(db, name, value, where)
    if not holders:
        raise ApiFailure(8015, "No customer found with the given identifier")
    return holders[0]


def lookup_details(
    db: sqlite3.Connection,
    query: dict[str, str],
    settings: Settings,
    org_id: int,
    missing_account: tuple[int, str] = ACCOUNT_NOT_DEFINED,
) -> dict[str, Any]:
    """The customer a lookup answers with, its ``warnings`` as the settings' variant says."""
    holder = lookup_holder(db, query, settings, missing_account)
    as_warning = settings.holder_codes_on_lookup == "warning"
    if holder["merged_into"] is not None:
        if not as_warning and settings.victim_reads != "survivor":
            raise victim_failure(holder)
        body = _victim_body(db, holder, settings, org_id)
        if as_warning:
            body["warnings"].append(warning(*VICTIM_FOUND))
        return body
    body = read_customer(db, holder["id"], None, settings, org_id)
    if holder["loyalty_type"] == "non_loyalty":
        if not as_warning:
            raise ApiFailure(*CAMPAIGN_USER)
        body["warnings"].append(warning(*CAMPAIGN_USER))
    return body


def _victim_body(
    db: sqlite3.Connection, holder: sqlite3.Row, settings: Settings, org_id: int
) -> dict[str, Any]:
    if settings.victim_reads == "survivor":  # the survivor, with 91009
        return read_customer(db, holder["id"], None, settings, org_id)
    body = customer_object(db, holder, org_id, settings.card_identifiers_in_profiles, None)
    body["warnings"] = []
    return body
