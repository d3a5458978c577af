"""drift.yml with ``api.bulk_read: true`` in the repository's reconciler.yaml: its shards' plans read the
declared customers in bulk requests, not one request each (issue 28 part 3). The workflow runs
``reconciler plan`` with the repository's config, so the setting is all it takes; doctor, which runs
first in each shard, confirms the org answers the bulk read as it answers single reads.
"""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from reconciler.workspace import load_workspace
from tests.testing import route_counts

from ..world import World

# End to end (CLI subprocesses, a GitHub job run, signals, a full scenario): `-m "not slow"` skips it.
pytestmark = pytest.mark.slow

SHARDS = 4
SAMPLE = 5  # the declared customers doctor also reads singly (reconciler/doctor/seen.py SAMPLE)


def turn_on_bulk_reads(world: World) -> list[int]:
    """Commit ``bulk_read: true`` under ``api:`` on main; the declared customer ids."""
    path = world.dev / "reconciler.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["api"]["bulk_read"] = True
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    world.commit("bulk reads, as doctor advised")
    world.git(world.dev, "push", "-q", "origin", "main")
    return sorted(c.id for c in load_workspace(path).state.customers)


def test_drift_shards_read_customers_in_bulk_when_the_config_turns_it_on(world: World) -> None:
    declared = turn_on_bulk_reads(world)
    world.sandbox.clear_log()
    shards, report = world.drift(range(1, SHARDS + 1))
    assert [run.steps["Plan shard"].code for run in shards] == [0] * SHARDS and not report.failed
    for run in shards:
        assert run.steps["Doctor"].outcome == "success"
        assert "keep `bulk_read: true` under `api:` in reconciler.yaml" in run.summary
    log = world.sandbox.request_log()["requests"]
    counts = route_counts(log)
    # The only single reads are doctor's probe (its sample, once per shard): no plan read a customer alone.
    singles = Counter(r["customerId"] for r in log if r["route"] == "/v2/customers/{id}")
    assert singles == dict.fromkeys(declared[:SAMPLE], SHARDS)
    # Doctor sends two bulk reads per shard (its declared-customers row, its probe); each shard's plan
    # reads its share of the demo's customers in one batch, and the holders outside it in one more at most.
    plan_bulk = counts["POST /v2/bulk/getCustomers"] - 2 * SHARDS
    assert SHARDS <= plan_bulk <= 2 * SHARDS, counts
    assert world.writes() == []
