"""Deterministic fault injection per endpoint: latency, shares of 500/461/521 answers, connection drops before
the handler runs and after its write has committed.

Format (a JSON file for ``--faults``, or the body of ``PUT /_sandbox/faults``)::

    {"seed": 7,
     "endpoints": {"POST /v2/customers/{id}/changeIdentifier": {"latency_ms": 50, "error_500": 0.1,
                    "error_461": 0.0, "error_521": 0.0, "error_429": 0.0, "drop_before": 0.0,
                    "drop_after_commit": 0.2,
                    "limit": 3, "retry_after": 1},
                   "*": {"latency_ms": 5}}}

Keys are ``METHOD route`` with the route template as the request log shows it, or ``*`` for every endpoint
without its own entry. Shares are probabilities in [0, 1]; one seeded draw per request picks at most
one fault.
``latency_ms`` is the time from the request's arrival to its answer, the server's own work included (as a
remote API's latency would be seen); on writes it is spent inside the per-customer guard, so overlapping
writes meet a real 521. ``limit`` caps how many faults (not latencies) the entry injects in total.
``retry_after`` is the ``Retry-After`` (whole seconds, default 1) of an injected 429, when the settings send
that header. The same seed and the same request sequence give the same faults.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = (
    "drop_before",
    "error_500",
    "error_461",
    "error_521",
    "error_429",
    "error_8011",
    "drop_after_commit",
)


@dataclass(frozen=True, slots=True)
class FaultRule:
    """The faults of one endpoint."""

    latency_ms: float = 0.0
    shares: tuple[tuple[str, float], ...] = ()
    limit: int | None = None
    retry_after: int = 1


@dataclass
class Faults:
    """A seeded fault plan; ``decide`` is thread-safe and deterministic per endpoint."""

    seed: int = 0
    rules: dict[str, FaultRule] = field(default_factory=dict)
    _rngs: dict[str, random.Random] = field(default_factory=dict)
    _used: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _key(self, route_key: str) -> str:
        """The entry that governs ``route_key``: its own, else ``*``."""
        return route_key if route_key in self.rules else "*"

    def decide(self, route_key: str) -> tuple[float, str | None]:
        """(latency in seconds, fault kind or None) for the next request to ``route_key``."""
        key = self._key(route_key)
        rule = self.rules.get(key)
        if rule is None:
            return 0.0, None
        with self._lock:
            rng = self._rngs.setdefault(key, random.Random(f"{self.seed}:{key}"))
            draw, total = rng.random(), 0.0
            for kind, share in rule.shares:
                total += share
                if draw < total and (rule.limit is None or self._used.get(key, 0) < rule.limit):
                    self._used[key] = self._used.get(key, 0) + 1
                    return rule.latency_ms / 1000, kind
                if draw < total:
                    break
        return rule.latency_ms / 1000, None

    def retry_after(self, route_key: str) -> int:
        """The Retry-After of a 429 injected on ``route_key``."""
        rule = self.rules.get(self._key(route_key))
        return rule.retry_after if rule is not None else 1

    def to_dict(self) -> dict[str, Any]:
        """The plan in its input format."""
        endpoints = {
            key: {
                "latency_ms": r.latency_ms,
                **dict(r.shares),
                "limit": r.limit,
                "retry_after": r.retry_after,
            }
            for key, r in self.rules.items()
        }
        return {"seed": self.seed, "endpoints": endpoints, "injected": dict(self._used)}


def parse_faults(data: Any) -> Faults:
    """Build a Faults plan from its JSON form; ValueError names the bad entry."""
    if not isinstance(data, dict):
        raise ValueError("faults must be a JSON object")
    endpoints = data.get("endpoints", {})
    if not isinstance(endpoints, dict):
        raise ValueError("faults: 'endpoints' must be an object")
    rules = {key: _parse_rule(key, spec) for key, spec in endpoints.items()}
    seed = data.get("seed", 0)
    if not isinstance(seed, int):
        raise ValueError("faults: 'seed' must be an integer")
    return Faults(seed=seed, rules=rules)


def _parse_rule(key: str, spec: Any) -> FaultRule:
    if not isinstance(spec, dict):
        raise ValueError(f"faults: {key!r} must be an object")
    unknown = set(spec) - {"latency_ms", "limit", "retry_after", *KINDS}
    if unknown:
        raise ValueError(f"faults: {key!r} has unknown keys {sorted(unknown)}")
    shares = []
    for kind in KINDS:
        share = spec.get(kind, 0)
        if not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ValueError(f"faults: {key!r} {kind} must be a number in [0, 1]")
        if share:
            shares.append((kind, float(share)))
    if sum(s for _, s in shares) > 1:
        raise ValueError(f"faults: {key!r} shares add up to more than 1")
    latency, limit = spec.get("latency_ms", 0), spec.get("limit")
    if not isinstance(latency, int | float) or latency < 0:
        raise ValueError(f"faults: {key!r} latency_ms must be a non-negative number")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValueError(f"faults: {key!r} limit must be a non-negative integer")
    retry_after = spec.get("retry_after", 1)
    if not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0:
        raise ValueError(f"faults: {key!r} retry_after must be a non-negative integer (seconds)")
    return FaultRule(float(latency), tuple(shares), limit, retry_after)


def load_faults(path: str | Path) -> Faults:
    """Read a faults file; ValueError (with the file name) if it is unreadable or malformed."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read faults: {exc}") from exc
    try:
        return parse_faults(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
