"""The two regimes every API benchmark runs in, and the one line of figures each prints.

- ``real``: what an org sees. 150 ms latency, concurrency 16, and the rate limit binding: 1,000 requests
  per window, the window shortened from a minute to ``--window`` seconds (15 by default, still binding:
  16 / 0.15 s = 107 requests/s could be sent, 1,000 / 15 s = 67 are allowed) so a run takes seconds, not
  minutes. The limit is per API (method and route, as Capillary counts it), so the bound is the busiest
  API's ``calls / rate`` (or the latency bound, if longer); a ratio near 1 means the client wastes none of
  the org's quota.
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

    def bound(self, calls: int, per_api: Mapping[str, int] | None = None) -> float:
        """The fastest the calls can go: by the busiest API's rate limit (all ``calls`` on one API when
        ``per_api`` is not given), or by latency over the concurrency."""
        by_latency = calls * self.latency_ms / 1000 / self.concurrency
        busiest = max(per_api.values(), default=0) if per_api is not None else calls
        by_rate = busiest / (self.limit / self.window) if self.limit else 0.0
        return max(by_latency, by_rate)

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
    parser.add_argument("--window", type=float, default=15.0, help="the real regime's rate window (s)")


def report(
    name: str,
    regime: Regime,
    calls: int,
    seconds: float,
    cpu_seconds: float,
    per_api: Mapping[str, int] | None = None,
) -> float:
    """Print one run's figures (``per_api``: calls by API, for the rate bound); returns bound / seconds."""
    bound = regime.bound(calls, per_api)
    ratio = bound / seconds
    cpu_ms = 1000 * cpu_seconds / max(1, calls)
    print(
        f"{name} [{regime.name}]: calls {calls}, seconds {seconds:.2f}, bound {bound:.2f}, "
        f"ratio {ratio:.2f}, client CPU {cpu_ms:.2f} ms/call"
    )
    return ratio
