"""The plan and apply tests' data: declared customers and readings of a plan. Seed customers and cards
(``live_customer``, ``live_card``) and the demo's series are the toolkit's, ``tests/testing/seed.py``,
re-exported here for the tests that read a plan beside them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from click.testing import Result

from reconciler.plan import Plan
from tests.testing.seed import DIGI, GOLD, live_card, live_customer

__all__ = ["DIGI", "GOLD", "declared", "live_card", "live_customer", "plan_json", "summary"]


def declared(
    cid: int,
    instore: Mapping[str, str] | None = None,
    *,
    wechat: Mapping[str, Mapping[str, str]] | None = None,
    cards: Sequence[Mapping[str, Any]] | None = None,
    merge_with: Sequence[int] = (),
) -> dict[str, Any]:
    """A customer block of a state file."""
    idents: dict[str, Any] = {}
    if instore is not None:
        idents["INSTORE"] = dict(instore)
    for account, values in (wechat or {}).items():
        idents[f"WECHAT:{account}"] = dict(values)
    out: dict[str, Any] = {"id": cid, "identifiers": idents}
    if cards is not None:
        out["cards"] = [dict(c) for c in cards]
    if merge_with:
        out["allow"] = {"merge_with": list(merge_with)}
    return out


def summary(plan: Plan) -> list[tuple[int, str, str, str | None, str, bool]]:
    """Each action as (customer, kind, type, raw value, risk, blocked), in plan order."""
    return [(a.customer_id, a.kind, a.type, a.value, a.risk, a.blocked) for a in plan.actions]


def plan_json(result: Result) -> dict[str, Any]:
    """The JSON plan a ``--format json`` run printed."""
    data: dict[str, Any] = json.loads(result.stdout)
    return data
