"""Benchmark: seed 100,000 customers into the sandbox, then the median in-process ``GET /v2/customers/{id}``.

Run: ``python tests/perf/bench_sandbox.py [N]``. Prints figures; asserts nothing about wall-clock time.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for the toolkit's seed builder

from reconciler.sandbox import Settings, Store, create_app, demo_fixture
from tests.testing.seed import live_customer

FIRST_ID = 600000000


def _customer(i: int) -> dict[str, Any]:
    instore = {"mobile": f"91{7000000000 + i}", "email": f"c{i}@example.com"}
    wechat = {"wechat-con1": {"wechat": f"oW{i:08d}"}} if i % 2 else None
    return live_customer(FIRST_ID + i, instore, wechat=wechat, firstName=f"First{i}", lastName="Bench")


def make_fixture(count: int) -> dict[str, Any]:
    """The demo org's labels, series and sources plus ``count`` customers, a third of them with a card."""
    demo = demo_fixture()
    cards = [
        {
            "number": f"BENCH{i:09d}",
            "seriesId": 131313,
            "statusLabel": "ACTIVE",
            "customerId": FIRST_ID + i,
            "linkedVia": {"source": "INSTORE", "accountId": ""},
        }
        for i in range(0, count, 3)
    ]
    base = {key: demo[key] for key in ("org", "sources", "labels", "series")}
    return {**base, "customers": [_customer(i) for i in range(count)], "cards": cards}


async def median_get_ms(store: Store, count: int, samples: int = 2000) -> float:
    """Median latency of GET /v2/customers/{id}?source=ALL through httpx.ASGITransport."""
    app = create_app(store, Settings(auth_required=False))
    rng = random.Random(1)
    times = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        for _ in range(samples):
            cid = FIRST_ID + rng.randrange(count)
            started = time.perf_counter()
            response = await client.get(f"/v2/customers/{cid}?source=ALL")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    return statistics.median(times) * 1000


def main() -> None:
    """Print the seeding time and the median read latency."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    fixture = make_fixture(count)
    store = Store()
    started = time.perf_counter()
    store.seed(fixture)
    seeded = time.perf_counter() - started
    median = asyncio.run(median_get_ms(store, count))
    print(f"seed {count:,} customers: {seeded:.2f} s")
    print(f"GET /v2/customers/{{id}} in-process, median of 2000: {median:.2f} ms")


if __name__ == "__main__":
    main()
