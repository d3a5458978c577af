"""An ASGI wrapper for tests: answers a seeded share of requests with 429 (or 401) before the sandbox.

The sandbox injects 500/461/521 and dropped connections itself, and its 429s come only from its real
per-minute limit; this wrapper adds the random 429s (with or without Retry-After) that a gateway gives.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class Throttle:
    """Wraps an ASGI app; ``share`` of API requests (at most ``limit``) get ``status`` (429 by default)."""

    def __init__(
        self,
        app: App,
        share: float,
        *,
        retry_after: int | None = None,
        status: int = 429,
        limit: int | None = None,
        seed: int = 1,
    ) -> None:
        self.app = app
        self.share = share
        self.retry_after = retry_after
        self.status = status
        self.limit = limit
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.throttled: list[float] = []  # monotonic times of the 429s given
        self.passed: list[float] = []  # monotonic times of the requests passed on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Throttle or pass on one request."""
        if scope["type"] != "http" or scope["path"].startswith(("/_sandbox", "/v3/oauth")):
            await self.app(scope, receive, send)
            return
        with self.lock:
            hit = self.rng.random() < self.share and (self.limit is None or len(self.throttled) < self.limit)
            (self.throttled if hit else self.passed).append(time.monotonic())
        if not hit:
            await self.app(scope, receive, send)
            return
        error = {"status": False, "code": self.status, "message": "Refused by the test gateway"}
        body = json.dumps({"errors": [error]}).encode()
        headers = [(b"content-type", b"application/json")]
        if self.retry_after is not None:
            headers.append((b"retry-after", str(self.retry_after).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
