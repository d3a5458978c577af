"""Fixtures: a real loopback sandbox per test and a temp workspace whose reconciler.yaml points at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.server import SandboxServer

from .harness import Workspace, writes


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """An empty sandbox served by uvicorn on 127.0.0.1."""
    with SandboxServer() as srv:
        yield srv


@pytest.fixture
def oauth_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's OAuth credentials in the environment; the test masking key (tests/conftest.py)."""
    monkeypatch.setenv("CAPILLARY_OAUTH_KEY", "sandbox")
    monkeypatch.setenv("CAPILLARY_OAUTH_SECRET", "sandbox")
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def ws(tmp_path: Path, server: SandboxServer, oauth_env: None) -> Iterator[Workspace]:
    """A workspace planned against ``server``; afterwards, the sandbox must have received no write."""
    workspace = Workspace(tmp_path / "repo", server)
    yield workspace
    assert writes(workspace.requests()) == [], "a plan sent a write"
