"""Per-API rate limiting: a sliding-window log that never lets more than R requests into any window.

The server counts a request when it *receives* it, somewhere between our send and our answer. So a
request occupies a slot from the moment it is sent until one full window after its answer (or failure)
arrived: however the server timestamps it, no window it sees can hold more than R of ours.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque

_NUMERIC_SEGMENT = re.compile(r"/\d+(?=/|$)")


def api_key(method: str, path: str) -> str:
    """The rate-limit key of a request: method and path template (``GET /v2/customers/{id}``)."""
    return f"{method.upper()} {_NUMERIC_SEGMENT.sub('/{id}', path.split('?', 1)[0])}"


class WindowLimiter:
    """At most ``limit`` requests in any ``window`` seconds, shared by all tasks; ``limit <= 0``: no limit."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._done: deque[float] = deque()  # completion times within the last window, ascending
        self._in_flight = 0
        self._paused_until = 0.0
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
        if self._delay(time.monotonic()) > 0:
            return False
        self._in_flight += 1
        return True

    async def ready(self) -> None:
        """Wait until a request may be sent, without taking the slot (callers hold ``turn``)."""
        delay = self._delay(time.monotonic())
        if delay == float("inf"):
            await self._released.wait()  # every slot is in flight: wait for an answer
        elif delay > 0:
            await asyncio.sleep(delay)

    def _delay(self, now: float) -> float:
        """Seconds to wait before a send is allowed (``inf``: until a request in flight completes)."""
        if now < self._paused_until:
            return self._paused_until - now
        if self.limit <= 0:
            return 0.0
        while self._done and self._done[0] <= now - self.window:
            self._done.popleft()
        if self._in_flight + len(self._done) < self.limit:
            return 0.0
        return self._done[0] + self.window - now if self._done else float("inf")

    def release(self) -> None:
        """Mark the request taken by ``acquire`` as answered (or failed)."""
        self._in_flight -= 1
        if self.limit > 0:
            self._done.append(time.monotonic())
        released, self._released = self._released, asyncio.Event()
        released.set()

    def pause(self, seconds: float) -> None:
        """Hold every request of this API for ``seconds`` (the server said 429)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)


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
            limiter = self._by_key[key] = WindowLimiter(self.limit, self.window)
        return limiter
