"""Client benchmark: customer reads from a loopback sandbox (its own process), in both regimes of regimes.py.

Run: ``python tests/perf/bench_client.py [--regime both] [--count 2000]``. Prints, per regime, calls,
seconds, bound, ratio and the client's CPU ms per call, and the most reads in any window for the real
regime; then a sequential loop of plain ``httpx.get`` calls for comparison. The last line is
``client efficiency: X.XX``, the latency regime's ratio (target 0.90 or better on an idle 2-core machine).
Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from typing import Any

import httpx
from regimes import Regime, add_arguments, regimes, report
from sandbox_process import admin as admin_api
from sandbox_process import free_port, wait_until_up

from reconciler.capillary import Credentials, open_client
from reconciler.config import ApiConfig, Config

FIRST_ID = 700_000_000
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


def start_server(count: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(count), str(FIRST_ID), str(port)])
    return wait_until_up(proc, f"http://127.0.0.1:{port}")


def admin(url: str, method: str, path: str, body: Any = None) -> Any:
    response = admin_api().request(method, f"{url}/_sandbox/{path}", json=body)
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


async def client_run(url: str, regime: Regime, count: int) -> tuple[float, float]:
    """Read ``count`` customers; the seconds and the client's CPU seconds it took."""
    api = ApiConfig(url=url, concurrency=regime.concurrency, requests_per_minute=regime.requests_per_minute)
    ids = range(FIRST_ID, FIRST_ID + count)
    async with open_client(
        Config(api=api), credentials=Credentials.oauth("sandbox", "sandbox"), rate_window=regime.window
    ) as r:
        # the token and a connection, outside the timing; through another API than the customer reads, whose
        # quota a warm-up read would take a request of (the 2,000th read would then wait a whole window)
        await r.list_labels()
        started, cpu = time.perf_counter(), time.process_time()
        got = await r.get_customers(ids)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    failed = [k for k, v in got.items() if isinstance(v, Exception)]
    if failed:
        raise SystemExit(f"{len(failed)} reads failed, e.g. {got[failed[0]]}")
    return elapsed, cpu


def sequential(url: str, count: int) -> float:
    token = httpx.post(f"{url}/v3/oauth/token/generate", json={"key": "sandbox", "secret": "sandbox"})
    headers = {"X-CAP-API-OAUTH-TOKEN": token.json()["data"]["accessToken"]}
    started = time.perf_counter()
    with httpx.Client() as client:
        for i in range(count):
            client.get(
                f"{url}/v2/customers/{FIRST_ID + i}", params={"source": "ALL"}, headers=headers
            ).raise_for_status()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    proc, url = start_server(args.count)
    try:
        ratio = 0.0
        for regime in regimes(args):
            print(regime.describe())
            admin(url, "PUT", "faults", {"endpoints": {f"GET {ROUTE}": {"latency_ms": regime.latency_ms}}})
            admin(url, "DELETE", "requests")
            seconds, cpu = asyncio.run(client_run(url, regime, args.count))
            calls = len(read_times(url))
            ratio = report("client", regime, calls, seconds, cpu)
            if regime.limit:
                most = max_in_window(read_times(url), regime.window)
                print(f"  most reads in any {regime.window:g} s window: {most} (limit {regime.limit})")
        seq_count = min(args.count, 200)
        print(f"sequential httpx.Client loop: calls {seq_count}, seconds {sequential(url, seq_count):.2f}")
        print(f"client efficiency: {ratio:.2f}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
