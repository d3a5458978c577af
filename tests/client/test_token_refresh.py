"""The OAuth token's refresh, on a moved clock: the client and the sandbox share one injected clock, so
the test moves time instead of waiting for it (the end-to-end run over loopback is the slow
``test_token_expiring_mid_run_is_refreshed_without_a_failure``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from reconciler.capillary import Credentials
from reconciler.capillary._auth import FAILURE_HOLD, REFRESH_AT, TOKEN_PATH, OAuthAuth
from reconciler.sandbox import Settings, create_app, demo_fixture
from tests.testing.clock import Clock

TTL = 100.0
CUSTOMER = "/v2/customers/564854782?source=INSTORE"


Read = Callable[[dict[str, str]], Awaitable[int]]
Steps = Callable[[OAuthAuth, Read, list[str]], Awaitable[None]]


def _scenario(clock: Clock, steps: Steps) -> None:
    app = create_app(settings=Settings(token_ttl_seconds=int(TTL)))
    app.runtime.store.seed(demo_fixture())
    app.runtime.clock = clock
    body = Credentials.oauth("sandbox", "sandbox").oauth_body

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            fetched: list[str] = []

            async def fetch() -> tuple[str, float]:
                data = (await client.post(TOKEN_PATH, json=body)).json()["data"]
                fetched.append(data["accessToken"])
                return data["accessToken"], float(data["ttlSeconds"])

            auth = OAuthAuth(fetch, clock=clock)

            async def read(headers: dict[str, str]) -> int:
                return (await client.get(CUSTOMER, headers=headers)).status_code

            await steps(auth, read, fetched)

    asyncio.run(run())


def test_the_token_is_kept_until_its_refresh_point_then_replaced_before_it_expires() -> None:
    clock = Clock(1000.0)

    async def steps(auth: OAuthAuth, read: Read, fetched: list[str]) -> None:
        first, _ = await auth.headers()
        assert await read(first) == 200 and len(fetched) == 1
        clock.now += REFRESH_AT * TTL - 1  # just before the refresh point: the same token
        assert (await auth.headers())[0] == first and len(fetched) == 1
        clock.now += 2  # past it, 20% of the ttl before expiry: a new token, and the old one still works
        second, _ = await auth.headers()
        assert second != first and len(fetched) == 2
        assert await read(first) == 200 and await read(second) == 200
        clock.now += (1 - REFRESH_AT) * TTL  # the first token has expired at the sandbox, the second not
        assert await read(first) == 401 and await read(second) == 200
        assert (await auth.headers())[0] == second

    _scenario(clock, steps)


def test_a_failed_fetch_is_answered_from_memory_until_the_hold_ends() -> None:
    clock = Clock(1000.0)
    calls = [0]

    async def failing() -> tuple[str, float]:
        calls[0] += 1
        raise RuntimeError("token endpoint down")

    async def run() -> None:
        auth = OAuthAuth(failing, clock=clock)
        for _ in range(3):
            with pytest.raises(RuntimeError, match="down"):
                await auth.headers()
        assert calls[0] == 1
        clock.now += FAILURE_HOLD + 0.1
        with pytest.raises(RuntimeError):
            await auth.headers()
        assert calls[0] == 2

    asyncio.run(run())
