"""``changeIdentifier``: adds and removes on one profile, uniqueness per scope, merges, and card link/delink
(capillary-api.md 3). Runs inside one transaction: any error rolls back everything, merge included."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.sandbox.cardlink import delink_card, link_card
from reconciler.sandbox.customers import Scope, customer_row, find_holders, victim_failure
from reconciler.sandbox.envelope import ApiFailure, HolderRefusal, Warning_, not_found_customer, warning
from reconciler.sandbox.merge import merge_customers
from reconciler.sandbox.settings import Settings
from reconciler.sandbox.vocab import (
    ALREADY_HELD_WARNING,
    REUSABLE_TYPES,
    canonical_type,
    is_multi_account,
    valid_email,
    valid_mobile,
)

RESPONSE_521 = "Multiple actions are running for the same customer. Please try after some time."


@dataclass
class Change:
    """The state of one changeIdentifier call while it runs."""

    cid: int
    scope: Scope
    settings: Settings
    busy: Callable[[int], bool]
    warnings: list[Warning_] = field(default_factory=list)
    survivor: int | None = None


def parse_items(body: Any) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The ``add`` and ``remove`` lists, validated; 8070 when there is nothing to change."""
    if not isinstance(body, dict):
        raise ApiFailure(8070, "No valid change identifiers detected: body must be an object")
    lists = []
    for key in ("add", "remove"):
        items = body.get(key) or []
        if not isinstance(items, list) or not all(_valid_item(i) for i in items):
            raise ApiFailure(8070, f"No valid change identifiers detected: bad {key!r} items")
        lists.append(items)
    if not lists[0] and not lists[1]:
        raise ApiFailure(8070, "No valid change identifiers detected")
    cards = [i for i in lists[0] + lists[1] if canonical_type(i["type"]) == "cardnumber"]
    if len(cards) > 1:
        raise ApiFailure(3037, "Multiple cards can not be linked or unlinked at once")
    return lists[0], lists[1]


def _valid_item(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("type"), str) and isinstance(item.get("value"), str)


def change_identifier(
    db: sqlite3.Connection, change: Change, body: Any, org: dict[str, Any]
) -> dict[str, Any]:
    """Apply one changeIdentifier call; returns the success body."""
    adds, removes = parse_items(body)
    row = customer_row(db, change.cid)
    if row is None:
        raise not_found_customer()
    if row["merged_into"] is not None:
        raise victim_failure(row)
    if row["status"] == "DELETED":
        raise ApiFailure(3042, "customer status was marked to deleted, no further changes are allowed")
    for item in removes:
        _remove(db, change, item)
    for item in adds:
        _add(db, change, item, org)
    created = change.cid
    if change.survivor is not None:
        merge_customers(db, change.cid, change.survivor, change.settings)
        msg = f"Same Customer found in other sources, Merging with userId {change.survivor}"
        change.warnings.append(warning(8051, msg))
        if change.settings.merge_created_id == "survivor":
            created = change.survivor
    return {"createdId": created, "warnings": change.warnings}


def _remove(db: sqlite3.Connection, change: Change, item: dict[str, Any]) -> None:
    itype = canonical_type(item["type"])
    if itype == "cardnumber":
        delink_card(db, change.cid, item)
        return
    db.execute(
        "DELETE FROM identifiers WHERE customer_id = ? AND source = ? AND account_id = ?"
        " AND type = ? AND value = ?",
        (change.cid, *change.scope, itype, item["value"]),
    )


def _add(db: sqlite3.Connection, change: Change, item: dict[str, Any], org: dict[str, Any]) -> None:
    itype, value = canonical_type(item["type"]), item["value"]
    if itype == "cardnumber":
        change.warnings.extend(link_card(db, change.cid, change.scope, item, org, change.settings))
        return
    if itype == "mobile" and not valid_mobile(value):
        raise ApiFailure(8056, f"Invalid mobile {value!r}")
    if itype == "email" and not valid_email(value):
        raise ApiFailure(8055, f"Invalid email {value!r}")
    holders = [h for h in find_holders(db, itype, value) if h["id"] != change.cid]
    if _held_here(db, change, itype, value):
        if itype in ALREADY_HELD_WARNING:
            code, what = ALREADY_HELD_WARNING[itype]
            change.warnings.append(warning(code, f"{what} already attached with this user"))
        return
    active = [h for h in holders if h["merged_into"] is None]
    for holder in active or holders:  # a survivor shares its victim's values: the victim only matters alone
        _check_holder(db, change, holder, itype, value)
    db.execute("INSERT OR IGNORE INTO profiles VALUES (?, ?, ?)", (change.cid, *change.scope))
    db.execute(
        "INSERT OR IGNORE INTO identifiers VALUES (?, ?, ?, ?, ?)", (change.cid, *change.scope, itype, value)
    )


def _held_here(db: sqlite3.Connection, change: Change, itype: str, value: str) -> bool:
    sql = "SELECT 1 FROM identifiers WHERE customer_id=? AND source=? AND account_id=? AND type=? AND value=?"
    return db.execute(sql, (change.cid, *change.scope, itype, value)).fetchone() is not None


def _holder_scopes(db: sqlite3.Connection, holder: int, itype: str, value: str) -> set[Scope]:
    sql = "SELECT source, account_id FROM identifiers WHERE customer_id = ? AND type = ? AND value = ?"
    return {(r[0], r[1]) for r in db.execute(sql, (holder, itype, value))}


def _check_holder(
    db: sqlite3.Connection, change: Change, holder: sqlite3.Row, itype: str, value: str
) -> None:
    victim, campaign = holder["merged_into"] is not None, holder["loyalty_type"] == "non_loyalty"
    if victim or campaign:
        reusable = (
            change.settings.identifier_reuse and itype in REUSABLE_TYPES and change.scope[0] == "INSTORE"
        )
        if not reusable:
            if victim:
                raise HolderRefusal(change.settings.victim_holder_code, "Merged customer found")
            raise HolderRefusal(change.settings.campaign_holder_code, "Customer is campaign user")
        db.execute(
            "DELETE FROM identifiers WHERE customer_id = ? AND type = ? AND value = ?",
            (holder["id"], itype, value),
        )
        return
    if change.scope in _holder_scopes(db, holder["id"], itype, value):
        if is_multi_account(change.scope[0]):
            raise ApiFailure(8008, "Update failed, Same source different profile found for given identifiers")
        raise ApiFailure(8007, "Update failed, Customer already exists for same source")
    if change.survivor not in (None, holder["id"]):
        raise ApiFailure(8053, "Each identifier is registered with a different customer in other source")
    if change.busy(holder["id"]):
        raise ApiFailure(521, RESPONSE_521, status=521)
    change.survivor = holder["id"]
