"""Fixtures: a real loopback sandbox per test and a temp workspace whose reconciler.yaml points at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.server import SandboxServer

from .harness import Workspace


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """An empty sandbox served by uvicorn on 127.0.0.1."""
    with SandboxServer() as srv:
        yield srv


@pytest.fixture
def ws(tmp_path: Path, server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace planned against ``server`` with OAuth credentials from the environment."""
    monkeypatch.setenv("CAPILLARY_OAUTH_KEY", "sandbox")
    monkeypatch.setenv("CAPILLARY_OAUTH_SECRET", "sandbox")
    monkeypatch.delenv("RECONCILER_MASK_KEY", raising=False)
    return Workspace(tmp_path / "repo", server)
