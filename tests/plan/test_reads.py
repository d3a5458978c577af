"""A plan never writes and reads exactly what it needs, counted in the sandbox's request log: a declared
holder outside the scope is read once to decide move or conflict, and bulk reads fill every batch with the
lookups starting on the first chunks."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.plan.scope import in_shard
from tests.plan.org import declared
from tests.testing import DIGI, GOLD, Workspace, live_card, live_customer, route_counts, writes

from . import bulk

A, B, C = 9301, 9302, 9303


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_plan_reads_exactly_what_it_needs_and_never_writes(ws: Workspace, fmt: str) -> None:
    ws.seed(
        [
            live_customer(A, {"mobile": "919800003001"}),
            live_customer(B, {"mobile": "919800003002", "email": "b@example.com"}),
            live_customer(C, {"mobile": "919800003003"}),
        ],
        [live_card("GOLD0000301", GOLD, "NOT_ISSUED")],
        max_active=2,  # both GOLD cards may be linked
    )
    cards: list[dict[str, Any]] = [
        {"number": "GOLD0000301", "series": GOLD},  # exists: GET card
        {"number": "GOLD0000302", "series": GOLD},  # does not exist: GET card (404), then create at apply
        {"series": DIGI},  # generate: nothing to look up
    ]
    ws.write_state(
        [
            declared(A, {"mobile": "919800003011", "email": "a@example.com"}, cards=cards),  # 2 adds
            declared(B, {"mobile": "919800003002"}),  # a remove: no lookup
            declared(C, {"mobile": "919800003003"}),  # unchanged
        ]
    )
    result = ws.plan_cli("--format", fmt)
    assert result.exit_code == 0, result.output
    requests = ws.requests()
    assert writes(requests) == []
    assert route_counts(requests) == {
        "POST /v3/oauth/token/generate": 1,
        "GET /v2/customers/{id}": 3,  # one per customer in scope
        # one per identifier added, in source=ALL and in each multi-account scope (WECHAT's two accounts)
        "GET /v2/customers/lookup/customerDetails": 2 * 3,
        "GET /v2/org/{org}/sources": 1,  # read once: the multi-account scopes and the vocabulary check
        "GET /v2/card": 2,  # one per card linked by number
        "GET /v2/card/series/get/all": 1,
        "GET /v2/genericStatus/card/labels": 1,
    }
    assert {r["customerId"] for r in requests if r["route"] == "/v2/customers/{id}"} == {A, B, C}


def test_declared_holder_outside_the_scope_is_read_once_to_decide_move_or_conflict(ws: Workspace) -> None:
    ws.seed(
        [
            live_customer(A, {"mobile": "919800003001"}),
            live_customer(B, {"mobile": "919800003002", "email": "moving@example.com"}),
        ]
    )
    ws.write_state([declared(A, {"mobile": "919800003001", "email": "moving@example.com"})], "a.yaml")
    ws.write_state([declared(B, {"mobile": "919800003002"})], "b.yaml")
    plan = ws.plan(shard=_shard_of(A, B))
    take, release = plan.actions  # actions are listed by customer; the calls carry the order
    assert [(a.customer_id, a.kind, a.risk) for a in (take, release)] == [
        (A, "add", "move"),
        (B, "remove", "plain"),
    ]
    assert take.depends_on == (release.id,)
    assert [c.customer_id for c in plan.calls] == [B, A]
    counts = route_counts(ws.requests())
    assert counts["GET /v2/customers/{id}"] == 2 and counts["GET /v2/customers/lookup/customerDetails"] == 3


def _shard_of(customer_id: int, other: int) -> str:
    """A shard spec K/N that holds ``customer_id`` and not ``other``."""
    for n in range(2, 50):
        k = next(k for k in range(1, n + 1) if in_shard(customer_id, (k, n)))
        if not in_shard(other, (k, n)):
            return f"{k}/{n}"
    raise AssertionError("no shard separates the two customers")


@pytest.mark.slow
def test_bulk_reads_fill_every_batch_and_lookups_start_with_the_first_chunks(ws: Workspace) -> None:
    """500 customers in bulk batches of 100 are five requests (chunks of 250 split each into 100/100/50:
    six). Without bulk reads, the first holder lookup is sent long before the last customer read: the lookups
    of a chunk of 25 customers start as it arrives (with chunks of 250: after about 250 reads)."""
    n = 500
    ws.configure(api={"requests_per_minute": 1_000_000, "bulk_read": True, "bulk_batch_size": 100})
    ws.seed(bulk.seed_customers(n))
    changed = {i: bulk.block(i, mobile_value=bulk.mobile(i, 8) if i % 50 == 0 else None) for i in range(n)}
    bulk.write_files(ws.root / "state", changed)
    ws.plan()
    assert route_counts(ws.requests())["POST /v2/bulk/getCustomers"] == n // 100

    ws.configure(api={"requests_per_minute": 1_000_000, "concurrency": 4})
    ws.server.set_faults(
        {"endpoints": {"*": {"latency_ms": 20}}}
    )  # the reads, not the scheduler, set the pace
    ws.server.clear_log()
    ws.plan()
    log = sorted(ws.requests(), key=lambda r: r["time"])
    routes = [f"{r['method']} {r['route']}" for r in log]
    first_lookup = routes.index("GET /v2/customers/lookup/customerDetails")
    reads_before = routes[:first_lookup].count("GET /v2/customers/{id}")
    assert reads_before < 60, reads_before  # its chunk of 25, and the few sent while it was answered
