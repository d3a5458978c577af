"""A loopback TCP proxy whose traffic waits behind a gate: lets a test hold a real subprocess mid-apply.

Connections are accepted at once (the client sees a live server) but nothing is forwarded until ``open()``,
so a process that needs the API waits while one that does not (a second apply refused by the lock) runs on.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class GatedProxy:
    """``http://127.0.0.1:<port>`` forwarding to ``upstream_port`` once the gate is open."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.gate = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open(self) -> None:
        self.gate.set()

    def shut(self) -> None:
        """New connections wait again (open ones keep flowing)."""
        self.gate.clear()

    def close(self) -> None:
        self._closed = True
        self.gate.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self.gate.wait()
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
