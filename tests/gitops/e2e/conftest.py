"""The end-to-end world: an empty fake GitHub, the sandbox on loopback, and the git remote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.server import SandboxServer

from ..fake_github import FakeGitHub
from ..harness import Served
from ..world import World


@pytest.fixture
def fake() -> FakeGitHub:
    """A repository with no pull requests, comments or issues yet (overrides the recorded one)."""
    return FakeGitHub()


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed="demo") as srv:
        yield srv


@pytest.fixture
def world(tmp_path: Path, sandbox: SandboxServer, served: Served) -> World:
    return World(tmp_path, sandbox, served)
