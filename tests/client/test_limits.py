"""The per-API limiter: never more than R requests in any window, shared by every task."""

from __future__ import annotations

import asyncio
import time

import pytest

from reconciler.capillary import open_client
from reconciler.capillary._limits import Limits, WindowLimiter, api_key
from reconciler.sandbox.server import SandboxServer
from tests.client.builders import SANDBOX_OAUTH, config_for


def test_api_key_is_method_and_path_template() -> None:
    assert api_key("get", "/v2/customers/564854782?source=ALL") == "GET /v2/customers/{id}"
    assert api_key("POST", "/v2/customers/1/changeIdentifier") == "POST /v2/customers/{id}/changeIdentifier"
    assert api_key("GET", "/v2/card/series/get/all") == "GET /v2/card/series/get/all"


async def _hammer(limiter: WindowLimiter, tasks: int, each: int, sends: list[float]) -> None:
    async def one() -> None:
        for _ in range(each):
            await limiter.acquire()
            sends.append(time.monotonic())
            await asyncio.sleep(0.002)  # the request in flight
            limiter.release()

    await asyncio.gather(*(one() for _ in range(tasks)))


@pytest.mark.slow
def test_no_window_ever_holds_more_than_the_limit() -> None:
    limiter = WindowLimiter(10, window=0.3)
    sends: list[float] = []
    asyncio.run(_hammer(limiter, tasks=32, each=2, sends=sends))
    sends.sort()
    assert len(sends) == 64
    assert all(sends[i + 10] - sends[i] >= 0.3 for i in range(len(sends) - 10))


def test_limiter_admits_the_limit_at_once_and_no_more() -> None:
    """Not slower than the rate needs: a fresh window takes ``limit`` requests without waiting."""
    limiter = WindowLimiter(20, window=60)
    assert [limiter.try_acquire() for _ in range(21)] == [True] * 20 + [False]


@pytest.mark.slow
def test_requests_of_one_api_take_its_quota_in_the_order_they_asked() -> None:
    """FIFO under a binding window: a plan's first customers are read first (and their holder lookups
    can start while the rest still wait for the window)."""

    async def run() -> list[int]:
        limiter = WindowLimiter(3, window=0.05)
        order: list[int] = []

        async def one(i: int) -> None:
            await limiter.acquire()
            order.append(i)
            await asyncio.sleep(0.001 * (i % 3))  # answers arrive out of order
            limiter.release()

        await asyncio.gather(*(one(i) for i in range(40)))
        return order

    assert asyncio.run(run()) == list(range(40))


def test_pause_holds_every_request_of_that_api() -> None:
    async def run() -> float:
        limiter = WindowLimiter(0)
        limiter.pause(0.2)
        started = time.monotonic()
        await limiter.acquire()
        limiter.release()
        return time.monotonic() - started

    assert asyncio.run(run()) >= 0.19


def test_each_api_has_its_own_limiter() -> None:
    limits = Limits(5)
    assert limits.for_key("GET /a") is limits.for_key("GET /a")
    assert limits.for_key("GET /a") is not limits.for_key("POST /a")


def test_a_request_waiting_for_its_apis_quota_leaves_its_slot_to_another_api(
    demo_server: SandboxServer,
) -> None:
    """One slot, one request per window per API: labels has used its quota; series must still go."""

    async def run() -> int:
        config = config_for(demo_server.url, concurrency=1, requests_per_minute=1)
        async with open_client(config, credentials=SANDBOX_OAUTH, rate_window=600) as reader:
            await reader.list_labels()
            waiting = asyncio.ensure_future(reader.list_labels())  # its quota is back in 600 s
            await asyncio.sleep(0)  # let it start waiting
            try:
                series = await asyncio.wait_for(reader.list_series(), timeout=30)
            finally:
                waiting.cancel()
            assert not waiting.done() or waiting.cancelled()
            return len(series)

    assert asyncio.run(run()) > 0
