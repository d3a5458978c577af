"""Client benchmark: 2,000 customer reads from a loopback sandbox with 20 ms latency per request.

Run: ``python tests/perf/bench_client.py``. The sandbox runs in its own process (so the client's CPU time is
not shared with the server's). Two client runs, both at concurrency 16: without a rate limit (bound: calls x
latency / concurrency) and with a binding one (bound: calls / rate). Then a sequential loop of plain
``httpx.get`` calls for the same reads. The last line is ``client efficiency: X.XX`` (bound / measured, the
worse of the two runs); the target is 0.85 or better.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import httpx
from sandbox_process import free_port, wait_until_up

from reconciler.capillary import Credentials, open_client
from reconciler.config import ApiConfig, Config

COUNT, FIRST_ID, LATENCY, CONCURRENCY = 2000, 700_000_000, 0.020, 16
RATE, WINDOW = 80, 1.0  # 80 requests per 1 s window (4,800/min): 2,000 reads take ~25 s
ROUTE = "/v2/customers/{id}"

SERVER = """
import sys, uvicorn
from reconciler.sandbox import Store, create_app
count, first, port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
customers = [{"id": first + i, "profiles": [{"source": "INSTORE", "accountId": "", "identifiers": [
    {"type": "mobile", "value": f"91{8_000_000_000 + i}"}, {"type": "email", "value": f"c{i}@example.com"}]}]}
    for i in range(count)]
store = Store()
store.seed({"formatVersion": 1, "sources": [{"source": "INSTORE", "accounts": [""]}], "customers": customers})
uvicorn.run(create_app(store), host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(COUNT), str(FIRST_ID), str(port)])
    return wait_until_up(proc, f"http://127.0.0.1:{port}")


def admin(url: str, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{url}/_sandbox/{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def read_times(url: str) -> list[float]:
    return [r["time"] for r in admin(url, "GET", "requests")["requests"] if r["route"] == ROUTE]


def max_in_window(times: list[float], window: float) -> int:
    times, best, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def client_run(url: str, rate: int, window: float) -> float:
    config = Config(api=ApiConfig(url=url, concurrency=CONCURRENCY, requests_per_minute=rate))
    ids = range(FIRST_ID, FIRST_ID + COUNT)
    async with open_client(
        config, credentials=Credentials.oauth("sandbox", "sandbox"), rate_window=window
    ) as r:
        await r.get_customer(FIRST_ID)  # the token and the connections, outside the timing
        started = time.perf_counter()
        got = await r.get_customers(ids)
        elapsed = time.perf_counter() - started
    failed = [k for k, v in got.items() if isinstance(v, Exception)]
    if failed:
        raise SystemExit(f"{len(failed)} reads failed, e.g. {got[failed[0]]}")
    return elapsed


def report(name: str, calls: int, seconds: float, bound: float) -> float:
    print(f"{name}: calls {calls}, seconds {seconds:.2f}, bound {bound:.2f}, ratio {bound / seconds:.2f}")
    return bound / seconds


def sequential(url: str) -> float:
    token = httpx.post(f"{url}/v3/oauth/token/generate", json={"key": "sandbox", "secret": "sandbox"})
    headers = {"X-CAP-API-OAUTH-TOKEN": token.json()["data"]["accessToken"]}
    started = time.perf_counter()
    for i in range(COUNT):
        httpx.get(
            f"{url}/v2/customers/{FIRST_ID + i}", params={"source": "ALL"}, headers=headers
        ).raise_for_status()
    return time.perf_counter() - started


def main() -> None:
    proc, url = start_server()
    try:
        admin(url, "PUT", "faults", {"endpoints": {f"GET {ROUTE}": {"latency_ms": LATENCY * 1000}}})
        ratios = []
        for name, rate, window in (
            ("no rate limit", 0, 60.0),
            (f"rate {RATE} per {WINDOW:g} s", RATE, WINDOW),
        ):
            admin(url, "DELETE", "requests")
            seconds = asyncio.run(client_run(url, rate, window))
            calls = len(read_times(url)) - 1  # the warm-up read is not timed
            bound = calls / (rate / window) if rate else calls * LATENCY / CONCURRENCY
            ratios.append(report(name, calls, seconds, bound))
            if rate:
                most = max_in_window(read_times(url), WINDOW)
                print(f"  most reads in any {WINDOW:g} s window: {most} (limit {rate})")
        print(f"sequential httpx.get loop: calls {COUNT}, seconds {sequential(url):.2f}")
        print(f"client efficiency: {min(ratios):.2f}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
