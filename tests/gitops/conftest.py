"""Fixtures for the GitOps tests: the recorded GitHub API in-process and on a loopback port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from reconciler.github import GitHubClient
from tests.testing.sandbox import free_port

from .fake_github import FakeGitHub, asgi_app, recorded_github
from .harness import Served


@pytest.fixture
def fake() -> FakeGitHub:
    return recorded_github()


@pytest.fixture
def client(fake: FakeGitHub) -> Iterator[GitHubClient]:
    with GitHubClient(fake.repo, fake.token, transport=httpx.MockTransport(fake.handle)) as c:
        yield c


@pytest.fixture
def served(fake: FakeGitHub) -> Iterator[Served]:
    """The fake GitHub on a loopback port, in a thread (as httpx's own tests serve)."""
    port = free_port()
    config = uvicorn.Config(asgi_app(fake), host="127.0.0.1", port=port, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # liveness only
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the fake GitHub did not start"
    yield Served(fake, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=5)
