"""``SandboxServer``: the sandbox served by uvicorn on 127.0.0.1 (port 0) in a daemon thread, for tests.

With ``tls=(certfile, keyfile)`` it serves HTTPS, the scheme a real org's API uses; ``verify`` is what the
admin calls trust (an ``ssl.SSLContext`` holding the test CA).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from reconciler.sandbox.app import SandboxApp, create_app
from reconciler.sandbox.envelope import SandboxAdminError
from reconciler.sandbox.faults import parse_faults
from reconciler.sandbox.settings import Settings
from reconciler.sandbox.store import Store


class SandboxServer:
    """A real loopback server: ``with SandboxServer(seed="demo") as srv: httpx.get(srv.url + "/v2/...")``."""

    def __init__(
        self,
        store: Store | None = None,
        settings: Settings | None = None,
        seed: str | dict[str, Any] | None = None,
        host: str = "127.0.0.1",
        *,
        tls: tuple[str, str] | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.store = store or Store()
        self.app: SandboxApp = create_app(self.store, settings)
        # What uvicorn serves: the app, or a test's wrapper around it (set before ``start``).
        self.served: ASGIApp = self.app
        if isinstance(seed, str) and seed != "demo":
            raise ValueError(f'seed: a fixture dict or "demo", not {seed!r}')
        if seed is not None:
            from reconciler.sandbox.admin import demo_fixture

            self.store.seed(demo_fixture() if isinstance(seed, str) else seed)
        self.host = host
        self.port = 0
        self.tls = tls
        self.verify = verify
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (``https://`` with ``tls``)."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns when the server accepts connections.

        The first start binds a free port; a start after ``stop()`` binds the same one again, so clients
        (and what they key by the URL, such as the apply lock) find the same target.
        """
        # IPPROTO_TCP explicitly: asyncio turns Nagle's algorithm off only on sockets it sees as TCP, and
        # with protocol 0 every response waited ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        certfile, keyfile = self.tls or (None, None)
        config = uvicorn.Config(
            self.served,
            log_level="warning",
            lifespan="off",
            access_log=False,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60  # liveness only: a loaded machine may start the thread late
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("sandbox server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ----- the admin API, called over HTTP so it exercises the real endpoints -----------------------------

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.url}/_sandbox/{path}"
        try:
            response = httpx.request(method, url, json=body, timeout=30, verify=self.verify)
        except httpx.HTTPError as exc:
            raise SandboxAdminError(f"{method} /_sandbox/{path}: {type(exc).__name__}") from None
        if response.is_error:
            raise SandboxAdminError(f"{method} /_sandbox/{path}: HTTP {response.status_code} {response.text}")
        return response.json()

    def reset(self) -> None:
        """Delete all state and the request log."""
        self._admin("POST", "reset")

    def seed(self, fixture: dict[str, Any] | str) -> None:
        """Seed a fixture dict, or ``"demo"``."""
        self._admin("POST", "seed", {"name": "demo"} if fixture == "demo" else fixture)

    def dump(self) -> dict[str, Any]:
        """The whole state (seed format)."""
        result: dict[str, Any] = self._admin("GET", "dump")
        return result

    def request_log(self) -> dict[str, Any]:
        """``{"requests": [...], "counts": {...}, "countsByRoute": {...}, "total": N}``."""
        result: dict[str, Any] = self._admin("GET", "requests")
        return result

    def clear_log(self) -> None:
        """Forget logged requests."""
        self._admin("DELETE", "requests")

    def set_faults(self, faults: dict[str, Any]) -> None:
        """Replace the fault plan (format in ``reconciler.sandbox.faults``)."""
        parse_faults(faults)  # fail here, with the message, before sending
        self._admin("PUT", "faults", faults)

    def set_settings(self, **changes: Any) -> dict[str, Any]:
        """Change settings by name; returns the new settings (secrets masked)."""
        result: dict[str, Any] = self._admin("PUT", "settings", changes)
        return result

    def basic_auth(self) -> dict[str, str]:
        """Headers with the till's Basic credentials."""
        return {"Authorization": self.app.runtime.basic_header()}
