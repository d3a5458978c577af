"""The sandbox's seed data, built one way for every test: the demo org without its customers
(``base_org``), a seed fixture of it plus given customers and cards (``seed_fixture``), and the one builder
of a seed customer (``live_customer``) and of a seed card (``live_card``). A folder's own module decides
which customers it needs (``tests/plan/org.py``, ``tests/apply/population.py``, ``tests/plan/bulk.py``,
``tests/client/builders.py``); they all come from here."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.sandbox import demo_fixture

GOLD, DIGI = 121212, 131313  # the demo org's two card series


def base_org() -> dict[str, Any]:
    """The demo org's sources, labels and series, with no customers and no cards."""
    demo = demo_fixture()
    return {k: copy.deepcopy(v) for k, v in demo.items() if k not in ("customers", "cards")}


def seed_fixture(customers: Iterable[dict[str, Any]], cards: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    """A complete seed fixture: the demo org plus these customers and cards."""
    return {**base_org(), "customers": list(customers), "cards": list(cards)}


def live_customer(
    cid: int,
    instore: Mapping[str, str] | None = None,
    *,
    wechat: Mapping[str, Mapping[str, str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A seed customer: INSTORE identifiers (type to value, in order), WECHAT identifiers per account, and
    seed fields in ``extra`` (``firstName``, ``lastName``, ``loyaltyType``...) over the defaults."""
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
