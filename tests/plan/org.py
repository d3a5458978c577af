"""The plan and apply tests' data: seed customers and cards, declared customers, and readings of a plan
(the seed org itself is ``tests.testing.sandbox.seed_fixture``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from click.testing import Result

from reconciler.plan import Plan

GOLD, DIGI = 121212, 131313


def live_customer(
    cid: int,
    instore: Mapping[str, str] | None = None,
    *,
    wechat: Mapping[str, Mapping[str, str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A seed customer: INSTORE identifiers, WECHAT identifiers per account, extra seed fields."""
    profiles = []
    if instore is not None:
        profiles.append({"source": "INSTORE", "accountId": "", "identifiers": _idents(instore)})
    for account, values in (wechat or {}).items():
        profiles.append({"source": "WECHAT", "accountId": account, "identifiers": _idents(values)})
    return {"id": cid, "firstName": f"C{cid}", "loyaltyType": "loyalty", "profiles": profiles, **extra}


def _idents(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"type": t, "value": v} for t, v in values.items()]


def live_card(number: str, series: int = GOLD, label: str = "ACTIVE", customer: int = 0) -> dict[str, Any]:
    """A seed card, linked through INSTORE when ``customer`` is set."""
    card: dict[str, Any] = {
        "number": number,
        "seriesId": series,
        "statusLabel": label,
        "customerId": customer,
    }
    if customer:
        card["linkedVia"] = {"source": "INSTORE", "accountId": ""}
    return card


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
