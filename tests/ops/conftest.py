"""The apply tests' fixtures: a real loopback sandbox with the demo org and a workspace pointing at it."""

from __future__ import annotations

from tests.apply.conftest import demo_server, demo_ws

__all__ = ["demo_server", "demo_ws"]
