"""Customer reads gathered into bulk requests: the reads asked for in one turn of the event loop go together.

With ``api.bulk_read`` on, every customer's precondition read (docs/architecture.md 5.4) is asked for as
its customer starts, and customers start together: the reads asked for before the loop next runs are sent
as bulk requests of ``api.bulk_batch_size`` ids (an apply of 400 customers: 4 requests instead of 400). A
read asked for later (a customer whose first call waited for another's) goes in the next turn's batch, so
no read waits for others that are not already due. Without bulk reads each read is its own request.
"""

from __future__ import annotations

import asyncio

from reconciler.capillary import CapillaryReader
from reconciler.errors import ApiError
from reconciler.model import LiveCustomer


class BatchedReads:
    """``read(cid)`` reads one customer; reads asked for in one loop turn share bulk requests."""

    def __init__(self, reader: CapillaryReader, batch: int) -> None:
        self._reader, self._batch = reader, max(1, batch)
        self._waiting: dict[int, list[asyncio.Future[LiveCustomer | ApiError]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def read(self, cid: int) -> LiveCustomer:
        """The customer as it is now; raises its ``ApiError`` as ``get_customer`` would."""
        if self._batch == 1:
            return await self._reader.get_customer(cid)
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._flush)
        future: asyncio.Future[LiveCustomer | ApiError] = loop.create_future()
        self._waiting.setdefault(cid, []).append(future)
        result = await future
        if isinstance(result, ApiError):
            raise result
        return result

    def _flush(self) -> None:
        waiting = list(self._waiting.items())
        self._waiting.clear()
        for i in range(0, len(waiting), self._batch):
            task = asyncio.ensure_future(self._send(dict(waiting[i : i + self._batch])))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, chunk: dict[int, list[asyncio.Future[LiveCustomer | ApiError]]]) -> None:
        try:
            read = await self._reader.get_customers(sorted(chunk))
        except BaseException as exc:  # every waiter hears why (cancelled, or an error)
            for futures in chunk.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for cid, futures in chunk.items():
            result = read.get(cid)
            for future in futures:
                if not future.done():
                    if result is None:
                        future.set_exception(ApiError(f"customer {cid} is missing from the bulk answer"))
                    else:
                        future.set_result(result)

    async def close(self) -> None:
        """Cancel the bulk reads still running (the apply ended early)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
