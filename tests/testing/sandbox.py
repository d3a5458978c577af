"""The sandbox in tests: a real loopback server (``serve``; the ``server``, ``demo_server`` fixtures) or the
same app in-process through ``httpx.ASGITransport`` (``Api`` in either mode; the ``api`` fixture)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from typing import Any

import httpx

from reconciler.sandbox import Settings, demo_fixture
from reconciler.sandbox.app import SandboxApp
from reconciler.sandbox.faults import Faults, parse_faults
from reconciler.sandbox.runtime import Runtime
from reconciler.sandbox.server import SandboxServer
from tests.testing.seed import base_org, seed_fixture

__all__ = [
    "Api",
    "base_org",
    "change_behind_the_plan",
    "codes",
    "free_port",
    "fresh_demo",
    "seed_fixture",
    "serve",
]


def free_port() -> int:
    """A loopback port nothing listens on now (for a server a test starts in a thread or a process)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(seed: Any = None, **kw: Any) -> SandboxServer:
    """A started loopback sandbox seeded with ``seed`` ("demo", a fixture, or None: empty); stop it."""
    return SandboxServer(seed=seed, **kw).start()


class Api:
    """Sends requests to the sandbox (over loopback or in-process) with Basic auth by default."""

    def __init__(self, mode: str, app: SandboxApp, url: str) -> None:
        self.mode, self.app, self.url = mode, app, url
        self.auth = {"Authorization": app.runtime.basic_header()}

    @property
    def runtime(self) -> Runtime:
        return self.app.runtime

    def request(self, method: str, path: str, *, auth: bool = True, **kw: Any) -> httpx.Response:
        headers = {**(self.auth if auth else {}), **kw.pop("headers", {})}
        if self.mode == "loopback":
            with httpx.Client(base_url=self.url, timeout=10) as client:
                return client.request(method, path, headers=headers, **kw)
        return asyncio.run(self._in_process(method, path, headers, kw))

    async def _in_process(
        self, method: str, path: str, headers: dict[str, str], kw: dict[str, Any]
    ) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=self.url, timeout=10) as client:
            response = await client.request(method, path, headers=headers, **kw)
            await response.aread()
            return response

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("POST", path, json=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, json=body, **kw)

    def change(self, cid: int, body: Any, source: str = "INSTORE", account: str = "") -> httpx.Response:
        query = f"source={source}" + (f"&accountId={account}" if account else "")
        return self.post(f"/v2/customers/{cid}/changeIdentifier?{query}", body)

    def settings(self, **changes: Any) -> None:
        self.runtime.settings = self.runtime.settings.replace(changes)

    def faults(self, spec: dict[str, Any]) -> None:
        self.runtime.faults = parse_faults(spec)

    def customer(self, cid: int) -> dict[str, Any]:
        for c in self.runtime.store.dump()["customers"]:
            if c["id"] == cid:
                return dict(c)
        raise KeyError(cid)


def fresh_demo(app: SandboxApp) -> None:
    """Reset ``app`` to the demo org, default settings, no faults, empty rate windows and request log."""
    rt = app.runtime
    rt.store.reset()
    rt.store.seed(demo_fixture())
    rt.settings, rt.faults = Settings(), Faults()
    rt.windows.clear()
    rt.clear_log()


def change_behind_the_plan(server: SandboxServer, customer: int, identifiers: Mapping[str, str]) -> None:
    """Someone else adds ``identifiers`` to ``customer``'s INSTORE profile, between a plan and its apply."""
    body = {"add": [{"type": t, "value": v} for t, v in identifiers.items()], "remove": []}
    url = f"{server.url}/v2/customers/{customer}/changeIdentifier?source=INSTORE"
    assert httpx.post(url, json=body, headers=server.basic_auth()).status_code == 200


def codes(response: httpx.Response, key: str = "errors") -> list[int]:
    """The codes of a response's errors (or warnings)."""
    return [item["code"] for item in response.json().get(key) or []]
