"""The two regimes every API benchmark runs in, and the one line of figures each prints.

- ``real``: what an org sees: 150 ms latency, concurrency 16, and the rate limit binding at 1,000 requests
  per API per minute (``--window 60``, the default). The limit is per API (method and route, as Capillary
  counts it): 16 / 0.15 s = 107 requests/s could be sent, 1,000 / 60 s = 17 per API are allowed, so any
  run that sends more than a window's worth to one API is bound by the limit. ``--window`` shortens the
  window for a quick run, but only the window, not the latency, so the regime changes with it: at 15 s
  an API allows 67/s, and an apply, whose calls spread over four APIs, is bound by latency, not the limit.
  The bound: within k windows at most k x 1,000 of an API's calls can go, so the calls beyond (of every
  API: they share the slots) go after k windows at the latency's pace; the largest over k, or the
  latency bound if longer (2,500 calls on one API, 60 s: 2 x 60 s + 500 x 0.15 s / 16 = 124.7 s: the
  first window's 1,000 go at once). A ratio near 1 means the client wastes none of the org's quota.
- ``latency``: 150 ms latency, concurrency 16, no binding limit. The bound is ``calls x latency /
  concurrency``; a ratio near 1 means the client keeps all 16 slots busy.

Each line gives calls, seconds, bound, ratio, and the client's CPU milliseconds per call (process time of
the benchmark process, which runs only the client: the sandbox serves from its own process).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass

LATENCY_MS = 150.0
CONCURRENCY = 16
REAL_LIMIT = 1000


@dataclass(frozen=True)
class Regime:
    name: str
    latency_ms: float
    concurrency: int
    limit: int  # requests per window; 0 = no limit
    window: float  # seconds

    @property
    def requests_per_minute(self) -> int:
        """``api.requests_per_minute`` for a config: the limit (the client's window is passed separately)."""
        return self.limit

    def bound(self, calls: int, per_api: Mapping[str, int] | None = None, chain: int = 0) -> float:
        """The fastest the calls can go: by the rate limit of each API (all ``calls`` on one API when
        ``per_api`` is not given), by latency over the concurrency, or by ``chain`` round trips that must
        follow one another (each waits for the answer of the one before)."""
        counts = list(per_api.values()) if per_api is not None else [calls]
        serial = chain * self.latency_ms / 1000
        return max(self._by_latency(calls), self._by_rate(counts), serial)

    def _by_latency(self, calls: int) -> float:
        return calls * self.latency_ms / 1000 / self.concurrency

    def _by_rate(self, counts: list[int]) -> float:
        """Under the limit: in k windows at most k x limit of an API's calls can go, so every API's calls
        beyond that go after k windows, sharing the slots at the latency's pace; the largest over k."""
        if self.limit <= 0:
            return 0.0
        best, k = 0.0, 1
        while rest := sum(max(0, n - k * self.limit) for n in counts):
            best = max(best, k * self.window + self._by_latency(rest))
            k += 1
        return best

    def describe(self) -> str:
        limit = f"{self.limit} per {self.window:g} s window" if self.limit else "no rate limit"
        return f"{self.name} regime: {self.latency_ms:g} ms latency, concurrency {self.concurrency}, {limit}"


def regimes(args: argparse.Namespace) -> list[Regime]:
    """The regimes chosen on the command line (``--regime real|latency|both``), latency last."""
    real = Regime("real", args.latency_ms, args.concurrency, REAL_LIMIT, args.window)
    latency = Regime("latency", args.latency_ms, args.concurrency, 0, 60.0)
    return {"real": [real], "latency": [latency], "both": [real, latency]}[args.regime]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark shares."""
    parser.add_argument("--regime", choices=("real", "latency", "both"), default="both")
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--window", type=float, default=60.0, help="the real regime's rate window (s)")


def report(
    name: str,
    regime: Regime,
    calls: int,
    seconds: float,
    cpu_seconds: float,
    per_api: Mapping[str, int] | None = None,
    chain: int = 0,
) -> float:
    """Print one run's figures (``per_api``: calls by API, for the rate bound; ``chain``: round trips that
    must follow one another); returns bound / seconds."""
    bound = regime.bound(calls, per_api, chain)
    ratio = bound / seconds
    cpu_ms = 1000 * cpu_seconds / max(1, calls)
    print(
        f"{name} [{regime.name}]: calls {calls}, seconds {seconds:.2f}, bound {bound:.2f}, "
        f"ratio {ratio:.2f}, client CPU {cpu_ms:.2f} ms/call"
    )
    return ratio
