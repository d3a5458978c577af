"""Per-API rate limiting: a sliding-window log that never lets more than R requests into any window, and
the backpressure that slows one API below R while the org's other clients need its quota.

The server counts a request when it *receives* it, somewhere between our send and our answer. So a
request occupies a slot from the moment it is sent until one full window after its answer (or failure)
arrived: however the server timestamps it, no window it sees can hold more than R of ours.

The org's quota is shared with its other clients (the stores' tills, the e-commerce site), so each API's
send rate is also paced (``Pace``): additive increase, multiplicative decrease on 429, and, where the org
sends ``X-RateLimit-Limit`` and ``-Remaining``, the rate its figures leave once the others' use is
counted. The rate never rises above R; once the org has shown another client, requests are also spaced
out, not sent in bursts.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger("reconciler.capillary.pace")  # commands/progress.py shows these on the progress line

_NUMERIC_SEGMENT = re.compile(r"/\d+(?=/|$)")
_WHOLE = re.compile(r"[0-9]{1,9}")  # a header's figure: ASCII digits, not "²" nor a 10**4300-digit one

HEADROOM = 0.1  # paced by the org's figures, leave this share of its limit for its other clients' growth
DECREASE = 0.5  # a 429 halves the rate, once per window: the window's other 429s answer the same excess
# A window's worth of answers without a 429 gives back this share of R. A tenth probed the limit again
# within three windows of a halving (bench_backpressure.py: more 429s for the till, a lower average).
INCREASE = 0.05
FLOOR = 0.05  # never below this share of R: the apply keeps a share and finishes
# Others using at most this share of the org's limit count as none: our count of our own requests in the
# window is taken when the answer arrives, the org's when the request did, so it is off by a request or two.
ALONE = 0.02


def api_key(method: str, path: str) -> str:
    """The rate-limit key of a request: method and path template (``GET /v2/customers/{id}``)."""
    return f"{method.upper()} {_NUMERIC_SEGMENT.sub('/{id}', path.split('?', 1)[0])}"


def loop_time() -> float:
    """The running event loop's clock (``time.monotonic`` unless a test runs the loop in virtual time)."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


@dataclass(frozen=True, slots=True)
class OrgQuota:
    """The org's limit for one API and what remains of it in the current window, as its headers say."""

    limit: int
    remaining: int


def org_quota(headers: Mapping[str, str]) -> OrgQuota | None:
    """``X-RateLimit-Limit`` and ``-Remaining`` (or the IETF ``RateLimit-*``), if both are whole numbers.

    Capillary documents no such header (docs/capillary-api.md 1.5): without them only 429s slow the client.
    """
    figures = []
    for name in ("limit", "remaining"):
        value = headers.get(f"x-ratelimit-{name}") or headers.get(f"ratelimit-{name}") or ""
        if not _WHOLE.fullmatch(value.strip()):
            return None
        figures.append(int(value))
    limit, remaining = figures
    return OrgQuota(limit, min(remaining, limit)) if limit > 0 else None


class Pace:
    """The send rate of one API, in requests per window: at most ``limit``, at least ``FLOOR`` of it.

    ``shared`` once the org has shown another client (its figures, or a 429): from then on requests are
    spaced ``window / rate`` apart, never sent as a burst that would take the others' share of a window.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.rate = float(limit)
        self.floor = max(1.0, limit * FLOOR)
        self.shared = False
        self._halved_at = float("-inf")

    def observe(self, now: float, *, refused: bool, quota: OrgQuota | None, ours: int) -> None:
        """Adjust to one answer: ``refused`` (a 429), the org's figures if sent, ``ours`` in our window."""
        if quota is not None:
            self.rate = max(self.floor, min(float(self.limit), self._share(quota, ours)))
        elif refused:
            if now - self._halved_at >= self.window:
                self.rate = max(self.floor, self.rate * DECREASE)
                self._halved_at = now
            self.shared = True
        else:
            self.rate = min(float(self.limit), self.rate + INCREASE * self.limit / self.rate)

    def _share(self, quota: OrgQuota, ours: int) -> float:
        """What the org's figures leave us: its limit after its other clients' use of the window and
        ``HEADROOM``; with no other client, its whole limit (ours keeps us under it if lower)."""
        others = quota.limit - quota.remaining - ours
        if others <= ALONE * quota.limit:
            return float(quota.limit)
        self.shared = True
        return quota.limit * (1 - HEADROOM) - others

    def per_minute(self) -> int:
        """The rate as requests per minute (the window is a minute unless a benchmark shortens it)."""
        return round(self.rate * 60 / self.window)


class WindowLimiter:
    """At most ``limit`` requests in any ``window`` seconds, shared by all tasks; ``limit <= 0``: no limit."""

    def __init__(self, limit: int, window: float = 60.0, *, name: str = "") -> None:
        self.limit = limit
        self.window = window
        self.name = name
        self.pace = Pace(limit, window) if limit > 0 else None
        self._done: deque[float] = deque()  # completion times within the last window, ascending
        self._in_flight = 0
        self._paused_until = 0.0
        self._next_send = 0.0  # once the org is shared, sends are spaced ``window / rate`` apart
        self._noted: int | None = None  # the rate last shown while slowed (None: at full rate)
        self._released = asyncio.Event()
        # This API's requests take its quota one at a time, in the order they asked (asyncio.Lock is
        # FIFO): only the first waits on the clock, the rest wait their turn. Without it every waiting
        # task woke at each free slot and all but one went back to sleep (work per request grew with the
        # queue), and the order was lost: a plan's first chunk of customers finished with its last.
        self.turn = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait (in turn) until one more request may be sent now, and take its slot."""
        async with self.turn:
            while not self.try_acquire():
                await self.ready()

    def try_acquire(self) -> bool:
        """Take a slot if a request may be sent now; False (nothing taken) if not.

        No lock: the event loop runs one task at a time and nothing awaits between the check and the take.
        """
        now = loop_time()
        if self._delay(now) > 0:
            return False
        self._in_flight += 1
        if self.pace is not None and self.pace.shared:
            self._next_send = now + self.window / self.pace.rate
        return True

    async def ready(self) -> None:
        """Wait until a request may be sent, without taking the slot (callers hold ``turn``)."""
        delay = self._delay(loop_time())
        if delay == float("inf"):
            await self._released.wait()  # every slot is in flight: wait for an answer
        elif delay > 0:
            await asyncio.sleep(delay)

    def _delay(self, now: float) -> float:
        """Seconds to wait before a send is allowed (``inf``: until a request in flight completes)."""
        if now < self._paused_until:
            return self._paused_until - now
        if self.pace is None:
            return 0.0
        spacing = self._next_send - now if self.pace.shared else 0.0
        if self._in_flight + self._in_window(now) < max(1, int(self.pace.rate)):
            return max(0.0, spacing)
        return max(spacing, self._done[0] + self.window - now) if self._done else float("inf")

    def _in_window(self, now: float) -> int:
        """Our answered requests still inside the window that ends ``now``."""
        while self._done and self._done[0] <= now - self.window:
            self._done.popleft()
        return len(self._done)

    def release(self) -> None:
        """Mark the request taken by ``acquire`` as answered (or failed)."""
        self._in_flight -= 1
        if self.limit > 0:
            self._done.append(loop_time())
        released, self._released = self._released, asyncio.Event()
        released.set()

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Pace this API by one answer: its status (429: refused) and the org's rate-limit headers."""
        if self.pace is None:
            return
        now, was = loop_time(), self.pace.per_minute()
        ours = self._in_flight + self._in_window(now)
        self.pace.observe(now, refused=status == 429, quota=org_quota(headers), ours=ours)
        rate = self.pace.per_minute()
        name = self.name or "requests"
        if rate < was and (self._noted is None or rate <= 0.75 * self._noted):  # a few lines, not one a cut
            log.info("API near its limit: slowing %s to %d/min", name, rate)
            self._noted = rate
        elif rate >= self.pace.limit * 60 / self.window and self._noted is not None:
            log.info("API quota free again: %s back to %d/min", name, rate)
            self._noted = None

    def pause(self, seconds: float) -> None:
        """Hold every request of this API for ``seconds`` (the server said 429)."""
        self._paused_until = max(self._paused_until, loop_time() + seconds)


class Limits:
    """One ``WindowLimiter`` per API key, created on first use, all with the same limit and window."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._by_key: dict[str, WindowLimiter] = {}

    def for_key(self, key: str) -> WindowLimiter:
        """The limiter of one API."""
        limiter = self._by_key.get(key)
        if limiter is None:
            limiter = self._by_key[key] = WindowLimiter(self.limit, self.window, name=key)
        return limiter
