"""The one backoff policy: a jittered, growing pause, with the sleep and the randomness injectable.

The client's retries (``capillary._channel``) and apply's pause before settling an unknown outcome
(``apply.send``) both use it; tests pass a ``sleep`` that records the pauses instead of waiting.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Pause ``attempt`` lasts between half and all of ``min(cap, base * 2**(attempt-1))`` seconds."""

    base: float
    cap: float
    sleep: Sleep = field(default=asyncio.sleep, compare=False)
    uniform: Callable[[float, float], float] = field(default=random.uniform, compare=False)

    def delay(self, attempt: int) -> float:
        """The pause after attempt ``attempt`` (1-based): half fixed, half random."""
        ceiling = min(self.cap, self.base * 2.0 ** (attempt - 1))
        return ceiling / 2 + self.uniform(0, ceiling / 2)

    async def pause(self, attempt: int, at_least: float = 0.0) -> None:
        """Sleep the pause after attempt ``attempt``, or ``at_least`` if that is longer (a Retry-After)."""
        await self.sleep(max(at_least, self.delay(attempt)))
