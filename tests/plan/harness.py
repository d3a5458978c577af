"""A temp workspace (reconciler.yaml + state files) planned against a real loopback sandbox."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.commands.plan import compute_plan
from reconciler.plan import Plan
from reconciler.sandbox import demo_fixture
from reconciler.sandbox.server import SandboxServer
from reconciler.workspace import load_workspace, resolve_scope

GOLD, DIGI = 121212, 131313
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_POSTS = frozenset({"POST /v3/oauth/token/generate", "POST /v2/bulk/getCustomers"})


def base_org() -> dict[str, Any]:
    """The demo org's sources, labels and series, with no customers and no cards."""
    demo = demo_fixture()
    return {k: copy.deepcopy(v) for k, v in demo.items() if k not in ("customers", "cards")}


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


def seed_fixture(customers: Iterable[dict[str, Any]], cards: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    """A complete seed fixture: the demo org plus these customers and cards."""
    return {**base_org(), "customers": list(customers), "cards": list(cards)}


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


class Workspace:
    """A directory with reconciler.yaml pointing at ``server`` and state files written by the test."""

    def __init__(self, root: Path, server: SandboxServer) -> None:
        self.root = root
        self.server = server
        (root / "state").mkdir(parents=True, exist_ok=True)
        self.configure()

    @property
    def config_path(self) -> Path:
        return self.root / "reconciler.yaml"

    def configure(self, url: str | None = None, **sections: Mapping[str, Any]) -> None:
        """Write reconciler.yaml: the server's url, OAuth, and any overridden sections."""
        config: dict[str, Any] = {
            "api": {"url": url or self.server.url, "auth": "oauth", "concurrency": 16},
            "manage": {"identifiers": ["mobile", "email", "externalId"], "cards": True},
            "state_dir": "state",
        }
        for name, values in sections.items():
            config[name] = {**config.get(name, {}), **values}
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    def write_state(self, customers: Sequence[Mapping[str, Any]], name: str = "customers.yaml") -> Path:
        """One state file declaring ``customers``."""
        path = self.root / "state" / name
        path.write_text(yaml.safe_dump({"customers": list(customers)}, sort_keys=False), encoding="utf-8")
        return path

    def seed(
        self,
        customers: Iterable[dict[str, Any]],
        cards: Iterable[dict[str, Any]] = (),
        *,
        max_active: int | None = None,
    ) -> None:
        """Reset the sandbox to the demo org with these customers and cards (``max_active``: every series'
        maxActiveCardsPerCustomer instead of the demo's 1); forget the request log."""
        fixture = seed_fixture(customers, cards)
        for series in fixture["series"] if max_active is not None else ():
            series["maxActiveCardsPerCustomer"] = max_active
        self.server.reset()
        self.server.seed(fixture)
        self.server.clear_log()

    def cli(self, *args: str) -> Result:
        """``reconciler plan --config ... ARGS`` in-process; stdout and stderr kept apart."""
        return CliRunner().invoke(main, ["plan", "--config", str(self.config_path), *args])

    def plan(
        self, *, changed_since: str | None = None, shard: str | None = None, force: bool = False
    ) -> Plan:
        """The Plan object, through the same glue the command uses."""
        ws = load_workspace(self.config_path)
        scope = resolve_scope(ws, False, changed_since, shard)
        return asyncio.run(compute_plan(ws, scope, force=force, progress=False))

    def requests(self) -> list[dict[str, Any]]:
        """The sandbox's logged requests (admin calls excluded)."""
        return list(self.server.request_log()["requests"])


def route_counts(requests: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """``{"GET /v2/customers/{id}": n, ...}`` from logged requests."""
    out: dict[str, int] = {}
    for r in requests:
        key = f"{r['method']} {r['route']}"
        out[key] = out.get(key, 0) + 1
    return out


def writes(requests: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every logged request that is not a read (the token and bulk-read POSTs are reads)."""
    return [
        f"{r['method']} {r['path']}"
        for r in requests
        if r["method"] in WRITE_METHODS and f"{r['method']} {r['route']}" not in READ_POSTS
    ]


def summary(plan: Plan) -> list[tuple[int, str, str, str | None, str, bool]]:
    """Each action as (customer, kind, type, raw value, risk, blocked), in plan order."""
    return [(a.customer_id, a.kind, a.type, a.value, a.risk, a.blocked) for a in plan.actions]


def plan_json(result: Result) -> dict[str, Any]:
    """The JSON plan a ``--format json`` run printed."""
    data: dict[str, Any] = json.loads(result.stdout)
    return data
