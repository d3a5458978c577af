"""What a full plan where nothing changed spends (issue 28 part 3), counted from the sandbox's request log,
never from the client's own tally: with ``api.bulk_read: true`` at most 0.05 calls per customer, whole or
in the drift workflow's 4 shards (docs/performance.md gives the figures these tests pin)."""

from __future__ import annotations

import math

import pytest

from reconciler.plan.scope import in_shard
from tests.testing import Workspace, route_counts, writes

from . import bulk

N = 500
BOUND = 0.05  # calls per customer of an unchanged full plan with bulk reads
BATCH = 100
# What every plan reads once, whatever its size: the token, the card vocabulary, the org's sources.
ONCE = {
    "POST /v3/oauth/token/generate": 1,
    "GET /v2/card/series/get/all": 1,
    "GET /v2/genericStatus/card/labels": 1,
    "GET /v2/org/{org}/sources": 1,
}


def unchanged(ws: Workspace, n: int, **api: object) -> None:
    """``n`` customers declared exactly as they are live; no binding rate limit (nothing here is timed)."""
    ws.configure(api={"requests_per_minute": 1_000_000, **api})
    ws.seed(bulk.seed_customers(n))
    bulk.write_files(ws.root / "state", {i: bulk.block(i) for i in range(n)})


def plan_without_changes(ws: Workspace, *args: str) -> dict[str, int]:
    """Run ``reconciler plan`` (the command, in-process); the requests the sandbox received, by route."""
    ws.server.clear_log()
    result = ws.plan_cli("--detailed-exitcode", *args)
    assert result.exit_code == 0, result.output  # 0 with --detailed-exitcode: no changes
    requests = ws.requests()
    assert writes(requests) == []
    return route_counts(requests)


@pytest.mark.slow
def test_an_unchanged_full_plan_with_bulk_reads_spends_a_call_per_hundred_customers(ws: Workspace) -> None:
    unchanged(ws, N, bulk_read=True, bulk_batch_size=BATCH)
    counts = plan_without_changes(ws)
    assert counts == ONCE | {"POST /v2/bulk/getCustomers": N // BATCH}  # no customer read singly
    per_customer = sum(counts.values()) / N
    assert per_customer <= BOUND
    assert f"{per_customer:.3f}" == "0.018"  # docs/performance.md


@pytest.mark.slow
def test_the_drift_workflows_four_shards_with_bulk_reads_stay_under_the_bound(ws: Workspace) -> None:
    """Each shard plans its share (a batch of 100 and the rest) and reads what every plan reads once."""
    unchanged(ws, N, bulk_read=True, bulk_batch_size=BATCH)
    shards = 4
    total = 0
    for k in range(1, shards + 1):
        counts = plan_without_changes(ws, "--shard", f"{k}/{shards}")
        mine = sum(in_shard(bulk.cid(i), (k, shards)) for i in range(N))
        assert counts == ONCE | {"POST /v2/bulk/getCustomers": math.ceil(mine / BATCH)}
        total += sum(counts.values())
    assert total / N <= BOUND, total


@pytest.mark.slow
def test_without_bulk_reads_an_unchanged_full_plan_reads_each_customer_once(ws: Workspace) -> None:
    unchanged(ws, N)
    counts = plan_without_changes(ws)
    assert counts == ONCE | {"GET /v2/customers/{id}": N}
    assert f"{sum(counts.values()) / N:.3f}" == "1.008"  # docs/performance.md
