"""Run-time state beside the store: auth tokens, rate limits, the 521 guard and the request log."""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from reconciler.sandbox.faults import Faults
from reconciler.sandbox.settings import Settings
from reconciler.sandbox.store import Store


@dataclass(frozen=True, slots=True)
class Quota:
    """One API's quota as a request found it: what remains after it, and seconds until a slot frees."""

    limit: int
    remaining: int
    reset: int
    admitted: bool

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (seconds)."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class Busy(Exception):
    """Another write for the same customer is in progress (521)."""


@dataclass
class Runtime:
    """Everything the app needs per instance."""

    store: Store
    settings: Settings
    faults: Faults = field(default_factory=Faults)
    tokens: dict[str, float] = field(default_factory=dict)
    windows: dict[str, deque[float]] = field(default_factory=dict)
    busy: set[int] = field(default_factory=set)
    log: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0  # requests arrived and not yet answered
    lock: threading.Lock = field(default_factory=threading.Lock)
    # tokens expire and rate windows pass by it; tests move it instead of waiting
    clock: Callable[[], float] = time.monotonic

    def issue_token(self) -> str:
        """A new OAuth token valid for ``token_ttl_seconds``."""
        token = "sbx." + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = self.clock() + self.settings.token_ttl_seconds
        return token

    def authorised(self, headers: dict[str, str]) -> bool:
        """Whether the request carries valid Basic credentials or a live OAuth token."""
        if not self.settings.auth_required:
            return True
        token = headers.get("x-cap-api-oauth-token")
        if token is not None:
            with self.lock:
                expiry = self.tokens.get(token)
            return expiry is not None and self.clock() < expiry
        return secrets.compare_digest(headers.get("authorization", ""), self.basic_header())

    def basic_header(self) -> str:
        """The Authorization header the configured till credentials give."""
        digest = hashlib.md5(self.settings.password.encode()).hexdigest()  # the API's scheme, not ours
        raw = f"{self.settings.till}:{digest}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def admit(self, route_key: str) -> Quota | None:
        """Count one request against its API's window (None: no limit); refused when the window is full."""
        limit = self.settings.rate_limit_per_minute
        if limit <= 0:
            return None
        window_seconds = self.settings.rate_limit_window_seconds
        now = self.clock()
        with self.lock:
            window = self.windows.setdefault(route_key, deque())
            while window and window[0] <= now - window_seconds:
                window.popleft()
            admitted = len(window) < limit
            if admitted:
                window.append(now)
            reset = max(1, math.ceil(window[0] + window_seconds - now))
            return Quota(limit, limit - len(window), reset, admitted)

    @contextmanager
    def guard(self, customer_id: int) -> Iterator[None]:
        """Hold the customer for one write; Busy if another write holds it (the real 521)."""
        with self.lock:
            if customer_id in self.busy:
                raise Busy(customer_id)
            self.busy.add(customer_id)
        try:
            yield
        finally:
            with self.lock:
                self.busy.discard(customer_id)

    def is_busy(self, customer_id: int) -> bool:
        """Whether a write for ``customer_id`` is in progress."""
        with self.lock:
            return customer_id in self.busy

    def arrived(self) -> None:
        """A request arrived; it is logged when it has been answered (``record``)."""
        with self.lock:
            self.in_flight += 1

    def record(self, entry: dict[str, Any]) -> None:
        """Append one answered request to the log."""
        with self.lock:
            self.in_flight -= 1
            entry["seq"] = len(self.log) + 1
            self.log.append(entry)

    def request_log(self) -> dict[str, Any]:
        """The log with counts per ``METHOD path`` and per ``METHOD route``."""
        with self.lock:
            entries, in_flight = list(self.log), self.in_flight
        return {
            "requests": entries,
            "counts": dict(sorted(Counter(f"{e['method']} {e['path']}" for e in entries).items())),
            "countsByRoute": dict(sorted(Counter(f"{e['method']} {e['route']}" for e in entries).items())),
            "total": len(entries),
            "inFlight": in_flight,  # arrived, not yet answered (so not in the log yet)
        }

    def clear_log(self) -> None:
        """Forget every logged request."""
        with self.lock:
            self.log.clear()
