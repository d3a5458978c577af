"""A synthetic organisation for apply tests: N declared customers with changes of every kind, plus
undeclared customers that apply must leave byte-for-byte unchanged.

Kinds by ``i % 8`` (customer ids 700000000 + i):
0 mobile changes; 1 email removed, externalId changed, a WECHAT profile added; 2 card status to
"CARD BLOCKED"; 3 all cards delinked (``cards: []``); 4 links an existing unlinked card; 5 creates a new
card and links it; 6 gets one generated DIGI01 card; 7 moves its email to customer i-7 and its gold card
to customer i-6 (a move of an identifier and of a card between declared customers).
Every tenth customer after the declared ones is undeclared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reconciler.sandbox import demo_fixture
from tests.testing.seed import live_customer

BASE = 700_000_000


def cid(i: int) -> int:
    return BASE + i


def _live_customer(i: int) -> dict[str, Any]:
    instore = {"mobile": f"9190{i:08d}", "email": f"c{i}@example.com", "externalId": f"EXT{i}"}
    return live_customer(cid(i), instore, firstName=f"C{i}", lastName="Test")


def fixture(n: int, undeclared: int) -> dict[str, Any]:
    """The live state: n declared + ``undeclared`` undeclared customers, their cards, demo series/labels."""
    demo = demo_fixture()
    series = [{**s, "maxActiveCardsPerCustomer": 5} for s in demo["series"]]
    customers = [_live_customer(i) for i in range(n + undeclared)]
    cards = [
        {"number": f"G{i:08d}", "seriesId": 121212, "statusLabel": "ACTIVE", "customerId": cid(i)}
        for i in range(n + undeclared)
    ]
    cards += [
        {"number": f"U{i:08d}", "seriesId": 121212, "statusLabel": "NOT_ISSUED"}
        for i in range(n)
        if i % 8 == 4
    ]
    return {
        "formatVersion": 1,
        "org": demo["org"],
        "sources": demo["sources"],
        "labels": demo["labels"],
        "series": series,
        "cards": cards,
        "customers": customers,
    }


def _desired(i: int, n: int) -> dict[str, Any]:
    kind = i % 8
    instore = {"mobile": f"9190{i:08d}", "email": f"c{i}@example.com", "externalId": f"EXT{i}"}
    cards: list[dict[str, Any]] = [{"number": f"G{i:08d}", "series": 121212}]
    idents: dict[str, Any] = {"INSTORE": instore}
    if kind == 0:
        instore["mobile"] = f"9191{i:08d}"
        if i + 7 < n:
            instore["email"] = f"c{i + 7}@example.com"  # moved from customer i+7
    elif kind == 1:
        del instore["email"]
        instore["externalId"] = f"EXT{i}b"
        idents["WECHAT:wechat-con1"] = {"wechat": f"oW{i:010d}"}
        if i + 6 < n:
            cards.append({"number": f"G{i + 6:08d}", "series": "GOLD01"})  # moved from customer i+6
    elif kind == 2:
        cards[0]["status"] = "CARD BLOCKED"
    elif kind == 3:
        cards = []
    elif kind == 4:
        cards.append({"number": f"U{i:08d}", "series": 121212})
    elif kind == 5:
        cards.append({"number": f"N{i:08d}", "series": 121212})
    elif kind == 6:
        cards.append({"series": "DIGI01"})
    elif kind == 7 and i >= 7:
        del instore["email"]
        cards = []
    return {"id": cid(i), "identifiers": idents, "cards": cards}


def state_yaml(n: int) -> str:
    """The desired state of the n declared customers."""
    return yaml.safe_dump({"customers": [_desired(i, n) for i in range(n)]}, sort_keys=False)


def write_repo(root: Path, url: str, n: int, api: str) -> Path:
    """A state repository for the n declared customers, planned against ``url`` with ``api`` (more
    ``api:`` lines, each indented two spaces) and every identifier type managed, no safety budget in the
    way (a benchmark's apply); the config's path."""
    (root / "state").mkdir(parents=True, exist_ok=True)
    config = f"""api:
  url: {url}
  auth: basic
{api}manage:
  identifiers: [mobile, email, externalId, wechat]
safety:
  max_removals: 1000000
  max_removal_ratio: 1.0
"""
    (root / "reconciler.yaml").write_text(config, encoding="utf-8")
    (root / "state" / "population.yaml").write_text(state_yaml(n), encoding="utf-8")
    return root / "reconciler.yaml"


def undeclared_ids(n: int, undeclared: int) -> set[int]:
    return {cid(i) for i in range(n, n + undeclared)}
