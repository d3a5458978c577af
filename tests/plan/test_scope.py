"""Planning part of a state: ``--changed-since`` reads only the customers that changed (and the holders of
their adds), a customer removed from the YAML is reported as no longer managed, an unknown ref is a one-line
usage error, a changed reconciler.yaml puts every customer in scope, and shards partition the customers into
plans whose union is the full plan."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from reconciler.errors import EXIT_OK
from reconciler.plan import Action
from reconciler.plan.scope import parse_shard, select_scope
from reconciler.sandbox import Store
from reconciler.sandbox.server import SandboxServer
from reconciler.workspace import load_workspace
from tests.testing import GOLD, Workspace, live_card, route_counts, writes
from tests.testing.seed import seed_fixture

from . import bulk

NEW = 30_000_001
X = 9_000  # unchanged in the YAML, but its live email drifted to the value customer 8 now declares
MOVED_PATHS = range(1, 8)  # customers whose mobile changes


@pytest.fixture
def big(request: pytest.FixtureRequest, tmp_path: Path, oauth_env: None) -> Iterator[tuple[Workspace, int]]:
    """N declared customers committed to git and seeded live; then 10 customers changed in the tree."""
    n: int = request.param
    seed = bulk.seed_customers(n)
    seed[X]["profiles"][0]["identifiers"][1]["value"] = "drift@example.com"
    seed.append({"id": NEW, "loyaltyType": "loyalty", "profiles": [_instore("919999999999")]})
    store = Store()
    store.seed(seed_fixture(seed, [live_card("GOLDX0010", GOLD, "ACTIVE", bulk.cid(10))]))
    with SandboxServer(store=store) as server:
        ws = Workspace(tmp_path / "repo", server)
        # The removal ratio counts only the customers in scope: 10 mobile changes remove half of their
        # managed items, so a PR plan would trip the default 0.3 (reported as a design question).
        ws.configure(safety={"max_removal_ratio": 0.6})
        blocks = {i: bulk.block(i) for i in range(n)}
        blocks[10] = bulk.block(10, extra=_cards("GOLDX0010"))
        bulk.write_files(ws.root / "state", blocks)
        bulk.commit_all(ws.root, "declare")
        for i in MOVED_PATHS:
            blocks[i] = bulk.block(i, mobile_value=bulk.mobile(i, generation=8))
        blocks[8] = bulk.block(8, email_value="drift@example.com")
        del blocks[9]  # no longer managed
        blocks[10] = bulk.block(10, extra="    cards: []\n")
        blocks[n] = f"  - id: {NEW}\n    identifiers:\n      INSTORE:\n        mobile: '919999999998'\n"
        bulk.write_files(ws.root / "state", blocks)
        server.clear_log()
        yield ws, n


def _instore(mobile: str) -> dict[str, object]:
    return {"source": "INSTORE", "accountId": "", "identifiers": [{"type": "mobile", "value": mobile}]}


def _cards(number: str) -> str:
    return f"    cards:\n      - number: {number}\n        series: {GOLD}\n"


SIZES = [10_000, 50_000]  # 50,000: about 5 s (the YAML load dominates)


@pytest.mark.parametrize("big", SIZES, indirect=True, ids=lambda n: f"{n}-customers")
@pytest.mark.slow
def test_changed_since_reads_only_changed_customers_and_their_adds_holders(
    big: tuple[Workspace, int],
) -> None:
    ws, _ = big
    plan = ws.plan(changed_since="HEAD")
    requests = ws.requests()
    read_ids = {r["customerId"] for r in requests if r["route"] == "/v2/customers/{id}"}
    changed = {bulk.cid(i) for i in (*MOVED_PATHS, 8, 10)} | {NEW}
    assert read_ids == changed | {bulk.cid(X)}  # X joins: it holds what customer 8 adds
    assert route_counts(requests) == {
        "GET /v2/customers/{id}": 11,
        # mobiles, drift@, X's own email, NEW; each in source=ALL and in WECHAT's two accounts
        "GET /v2/customers/lookup/customerDetails": (7 + 1 + 1 + 1) * 3,
        "GET /v2/org/{org}/sources": 1,
        "GET /v2/card/series/get/all": 1,
        "GET /v2/genericStatus/card/labels": 1,
        "POST /v3/oauth/token/generate": 1,
    }
    assert writes(requests) == []
    assert plan.unmanaged == (bulk.cid(9),) and plan.customers_in_scope == 11
    take = next(a for a in plan.actions if a.customer_id == bulk.cid(8) and a.kind == "add")
    assert (take.risk, take.holder, take.value) == ("move", bulk.cid(X), "drift@example.com")
    kinds = {(a.customer_id, a.kind) for a in plan.actions}
    assert (bulk.cid(10), "delink") in kinds and (NEW, "add") in kinds and not plan.blocked


@pytest.mark.slow
def test_customer_removed_from_the_yaml_is_reported_as_no_longer_managed(ws: Workspace) -> None:
    ws.seed(bulk.seed_customers(3))
    bulk.write_files(ws.root / "state", {i: bulk.block(i) for i in range(3)})
    base = bulk.commit_all(ws.root, "declare")
    bulk.write_files(ws.root / "state", {i: bulk.block(i) for i in (0, 2)})
    ws.server.clear_log()
    result = ws.plan_cli("--changed-since", base, "--detailed-exitcode")
    assert result.exit_code == EXIT_OK, result.output
    assert "no longer managed" in result.stdout.lower() and str(bulk.cid(1)) in result.stdout
    assert ws.requests() == [] or route_counts(ws.requests()).get("GET /v2/customers/{id}", 0) == 0
    assert ws.plan(changed_since=base).actions == ()


def test_changed_since_an_unknown_ref_is_a_one_line_usage_error(ws: Workspace) -> None:
    ws.seed(bulk.seed_customers(1))
    bulk.write_files(ws.root / "state", {0: bulk.block(0)})
    bulk.commit_all(ws.root, "declare")
    result = ws.plan_cli("--changed-since", "no-such-ref")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --changed-since") and len(result.stderr.splitlines()) == 1


def _shard_world(ws: Workspace, n: int) -> None:
    """n customers where every 3rd changes its mobile, and releases move an email across customers."""
    ws.configure(safety={"max_removals": 1000})
    ws.seed(bulk.seed_customers(n))
    blocks = {i: bulk.block(i, mobile_value=bulk.mobile(i, 8) if i % 3 == 0 else None) for i in range(n)}
    for i in range(1, n - 1, 10):  # customer i+1 takes customer i's email; i gets a new one
        blocks[i] = bulk.block(i, email_value=f"new{i}@example.com")
        blocks[i + 1] = bulk.block(i + 1, email_value=bulk.email(i))
    bulk.write_files(ws.root / "state", blocks)


def _facts(actions: Iterable[Action]) -> set[tuple[object, ...]]:
    return {(a.customer_id, a.kind, a.type, a.value, a.risk, a.blocked, a.holder) for a in actions}


@pytest.mark.slow
def test_shards_partition_customers_and_their_plans_union_to_the_full_plan(ws: Workspace) -> None:
    _shard_world(ws, 120)
    full = ws.plan()
    assert any(a.risk == "move" for a in full.actions)
    state = load_workspace(ws.config_path)
    union: set[tuple[object, ...]] = set()
    seen: list[int] = []
    for k in (1, 2, 3):
        scope = select_scope(state.state, state.config, shard=parse_shard(f"{k}/3"))
        seen += [c.id for c in scope.customers]
        union |= _facts(ws.plan(shard=f"{k}/3").actions)
    assert sorted(seen) == sorted(c.id for c in state.state.customers)  # a partition: each once
    assert union == _facts(full.actions)
    assert not full.blocked


def test_a_changed_reconciler_yaml_puts_every_customer_in_scope(ws: Workspace) -> None:
    """Ownership lives in reconciler.yaml: a PR that changes only it must not plan 'no changes'."""
    ws.seed(bulk.seed_customers(4))
    bulk.write_files(ws.root / "state", {i: bulk.block(i) for i in range(4)})
    base = bulk.commit_all(ws.root, "declare")
    assert ws.plan(changed_since=base).customers_in_scope == 0
    ws.configure(safety={"max_removals": 7})
    assert ws.plan(changed_since=base).customers_in_scope == 4
