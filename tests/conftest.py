"""Shared fixtures. A guard refuses any socket connection beyond loopback: tests never leave the machine.
The toolkit's fixtures (sandbox, workspace, mask key) come from ``tests/testing/plugin.py``."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

# Property tests run the same examples every time, with no per-example deadline: a loaded machine must
# not fail them (a slow example is not a wrong one), and CI must not meet an example no local run saw.
settings.register_profile("deterministic", derandomize=True, deadline=None, database=None)
settings.load_profile("deterministic")

pytest_plugins = ["tests.testing.plugin"]

_real_connect = socket.socket.connect


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return True  # AF_UNIX paths


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise RuntimeError(f"test tried to connect beyond loopback: {address!r}")
    return _real_connect(self, address)


@pytest.fixture(scope="session")
def _state_home(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("state-home"))


@pytest.fixture(autouse=True)
def _user_state(monkeypatch: pytest.MonkeyPatch, _state_home: str) -> None:
    """Apply locks live in the user's state directory: the tests' own, never the developer's."""
    monkeypatch.setenv("XDG_STATE_HOME", _state_home)
    monkeypatch.delenv("RECONCILER_LOCK_DIR", raising=False)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    yield
