"""The write stopper: how an apply stops starting writes (a signal, or a journal it can no longer write).

Each call takes a slot from the stopper before its writes (``send.py``); once it has stopped, no slot admits
a new call (``NotStarted``). A first SIGINT/SIGTERM stops it and gives the writes in flight
``GRACE_SECONDS`` to finish; a second signal, or the end of the grace, halts them at once (their tasks are
cancelled and journalled as outcome unknown). The slots also bound how many writes are in
flight, so the journal's reserve (``journal.py``) always has room for their outcome lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from reconciler.apply.result import APPLIED, FAILED, SKIPPED, ApplyResult, CallOutcome, CustomerResult
from reconciler.errors import EXIT_BLOCKED, EXIT_PARTIAL, exit_for_signal
from reconciler.plan import Call

T = TypeVar("T")
GRACE_SECONDS = 10.0


class NotStarted(Exception):
    """The stopper is stopped: the call was not sent."""


class Stopper:
    """Admits writes, at most ``concurrency`` at a time, until it is stopped."""

    def __init__(self, concurrency: int = 16) -> None:
        self.reason: str | None = None
        self.signum: int | None = None
        self.journal_failed = False
        self.refused = False
        self.halted = False
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._writes: asyncio.Future[Any] | None = None
        self._armed = False
        self._timer: asyncio.TimerHandle | None = None
        self.on_stop: Callable[[str], None] | None = None  # told once, when the stopper stops

    @property
    def stopped(self) -> bool:
        return self.reason is not None

    @property
    def exit_code(self) -> int | None:
        """6 when the journal failed, 130/143 after SIGINT/SIGTERM, 4 when the simulated apply diverged
        before any write, else None (the result decides)."""
        if self.journal_failed:
            return EXIT_PARTIAL
        if self.refused:
            return EXIT_BLOCKED
        return None if self.signum is None else exit_for_signal(self.signum)

    def stop(self, reason: str, *, journal: bool = False, refused: bool = False) -> None:
        """Start no more writes; in-flight writes get the grace period to finish. ``refused``: the plan
        was refused before any write (its simulated apply diverged)."""
        self.journal_failed = self.journal_failed or journal
        self.refused = self.refused or (refused and self.reason is None)
        if self.reason is None:
            self.reason = reason
            if self.on_stop is not None:
                self.on_stop(reason)
            if self._writes is not None:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(GRACE_SECONDS, self.halt)

    def halt(self) -> None:
        """Cancel the writes in flight now."""
        if self._writes is not None and not self._writes.done():
            self.halted = True
            self._writes.cancel()

    def on_signal(self, signum: int) -> bool:
        """Handle SIGINT/SIGTERM while writes run (True); before them, the caller cancels (False)."""
        if not self._armed:
            return False
        if self.signum is None:
            self.signum = signum
            self.stop(f"interrupted by {signal.Signals(signum).name}")
        else:
            self.halt()
        return True  # after the writes, a signal is ignored: only the end line and summary remain

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """One call's writes; raises ``NotStarted`` once the stopper is stopped."""
        async with self._slots:
            if self.reason is not None:
                raise NotStarted(f"not started: {self.reason}")
            yield

    async def run(self, writes: Iterable[Coroutine[Any, Any, T]]) -> list[T] | None:
        """Run ``writes`` concurrently; None if they were halted (a second signal, or the grace ran out).

        A halt cancels every task, and this waits until each has handled its cancellation (a write in flight
        journals its outcome as unknown) before returning: gather's own future is done as soon as the first
        task is, and the journal must still be open for the others.
        """
        tasks = [asyncio.ensure_future(w) for w in writes]
        future = asyncio.gather(*tasks)
        self._writes, self._armed = future, True
        try:
            return await future
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not self.halted or (current is not None and current.cancelling()):
                raise
            await asyncio.wait(tasks)
            return None
        finally:
            if self._timer is not None:
                self._timer.cancel()


def write_counts(result: ApplyResult) -> dict[str, int]:
    """Planned calls by fate: applied, failed (sent, not applied or unknown), not started."""
    calls = [o for c in result.customers for o in c.calls]
    applied = sum(1 for o in calls if o.status == APPLIED)
    failed = sum(1 for o in calls if o.status != APPLIED and o.sends > 0)
    return {"applied": applied, "failed": failed, "not_started": len(calls) - applied - failed}


def halted_results(
    by_customer: Mapping[int, Sequence[Call]], settled: Mapping[str, CallOutcome], reason: str
) -> list[CustomerResult]:
    """Per customer, after a halt: the calls that settled as they did, the rest not started."""
    out = []
    for cid, calls in by_customer.items():
        outcomes = tuple(
            settled.get(c.id) or CallOutcome(c.id, cid, c.op, SKIPPED, f"not started: {reason}")
            for c in calls
        )
        first = next((o for o in outcomes if o.status != APPLIED), None)
        status, why = (APPLIED, "") if first is None else (FAILED, first.detail)
        out.append(CustomerResult(cid, status, why, outcomes))
    return out
