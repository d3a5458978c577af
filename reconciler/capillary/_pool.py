"""The keep-alive connection pool under ``LeanTransport``: at most ``size`` connections, open or idle.

(httpcore's pool scans and polls every connection on each request; at concurrency 16 that was ~40% of the
client's CPU time, which is why the client has its own transport and pool.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

import httpx

C = TypeVar("C", bound="Pooled")


Origin = tuple[str, str, int]  # (scheme, host, port)


class Pooled(Protocol):
    """What the pool needs of a connection."""

    origin: Origin

    def is_reusable(self) -> bool:
        """True when idle, open and usable for the next request."""
        ...

    def close(self) -> None:
        """Close it now."""
        ...


class ConnectionPool(Generic[C]):
    """At most ``size`` open connections (in use or idle) and at most ``size`` requests at a time.

    Idle connections are reused most-recently-used first, each checked before reuse: one the server closed
    or wrote to while idle is dropped and another one taken or opened, so it never fails a request.
    """

    def __init__(self, size: int, connect: Callable[[Origin, float | None], Awaitable[C]]) -> None:
        self._size = size
        self._connect = connect
        self._slots = asyncio.Semaphore(size)
        self._idle: dict[Origin, list[C]] = {}
        self._open: set[C] = set()
        self._closed = False

    async def acquire(self, timeout: float | None) -> None:
        """Take a request slot; ``httpx.PoolTimeout`` when none frees up within ``timeout``."""
        if not self._slots.locked():
            await self._slots.acquire()
            return
        try:
            async with asyncio.timeout(timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("timed out waiting for a connection") from None

    def release(self) -> None:
        """Give back a request slot."""
        self._slots.release()

    async def checkout(self, origin: Origin, timeout: float | None) -> C:
        """An idle usable connection to ``origin``, else a new one (closing an idle one if full)."""
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.is_reusable():
                return connection
            self._discard(connection)
        if len(self._open) >= self._size:
            self._evict()
        connection = await self._connect(origin, timeout)
        if self._closed:
            connection.close()
            raise httpx.ConnectError("the transport was closed")
        self._open.add(connection)
        return connection

    def checkin(self, connection: C) -> None:
        """Return a connection after its request: kept idle if reusable, else closed."""
        if connection.is_reusable() and not self._closed:
            self._idle.setdefault(connection.origin, []).append(connection)
        else:
            self._discard(connection)

    def close(self) -> None:
        """Close every connection, idle or in use."""
        self._closed = True
        for connection in list(self._open):
            self._discard(connection)
        self._idle.clear()

    def _discard(self, connection: C) -> None:
        connection.close()
        self._open.discard(connection)

    def _evict(self) -> None:
        """Close the least recently used idle connection (of another origin: this one's have none idle)."""
        for idle in self._idle.values():
            if idle:
                self._discard(idle.pop(0))
                return
