"""A network transport made of several small connection pools behind one ``httpx.AsyncClient``.

httpcore scans every connection of its pool (polling each idle socket) whenever it assigns a request, so
its cost per request grows with the pool. At concurrency 16 that scan was ~40% of the client's CPU time;
requests spread over pools of four connections each keep the scan short. Each request goes to the pool
with the fewest requests in flight.
"""

from __future__ import annotations

import httpx

POOL_SIZE = 4


class ShardedTransport(httpx.AsyncBaseTransport):
    """``connections`` keep-alive connections split into pools of ``POOL_SIZE``."""

    def __init__(self, connections: int) -> None:
        count = max(1, -(-connections // POOL_SIZE))
        size = -(-connections // count)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        self._pools = [httpx.AsyncHTTPTransport(limits=limits) for _ in range(count)]
        self._busy = [0] * count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the least busy pool; the pool counts as busy until the response is read."""
        index = min(range(len(self._pools)), key=self._busy.__getitem__)
        self._busy[index] += 1
        try:
            response = await self._pools[index].handle_async_request(request)
            await response.aread()
        finally:
            self._busy[index] -= 1
        return response

    async def aclose(self) -> None:
        """Close every pool."""
        for pool in self._pools:
            await pool.aclose()
