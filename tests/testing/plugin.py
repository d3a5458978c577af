"""The toolkit's fixtures (loaded by ``tests/conftest.py``): sandboxes, workspaces, credentials, the mask key.

- ``server``: an empty sandbox on loopback, per test; ``demo_server``: one seeded with the demo org.
- ``api``: the demo sandbox behind one request interface, on loopback and in-process (each test runs in
  both modes).
- ``ws``: a plan workspace on ``server`` (OAuth); afterwards the sandbox must have received no write.
- ``demo_ws``: an apply workspace on ``demo_server`` with the demo state (Lydia's merge taken out).
- ``oauth_env``: the sandbox's OAuth credentials in the environment.
- ``demo_repo``: a copy of the repository's demo (state/ and reconciler.yaml, the embedded sandbox), the
  test run from its root.
- the mask key: every test runs with ``RECONCILER_MASK_KEY`` set to ``TEST_MASK_KEY`` (autouse).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.mask import use_mask_key
from reconciler.sandbox import create_app
from reconciler.sandbox.server import SandboxServer
from tests.testing.mask import TEST_MASK_KEY
from tests.testing.requests import writes
from tests.testing.sandbox import Api, fresh_demo
from tests.testing.workspace import REPO, Workspace, demo_state, make_workspace


@pytest.fixture(autouse=True)
def _mask_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_MASK_KEY", TEST_MASK_KEY)
    use_mask_key(None)  # no key chosen by an earlier test's workspace: RECONCILER_MASK_KEY


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """An empty sandbox served by uvicorn on 127.0.0.1."""
    with SandboxServer() as srv:
        yield srv


@pytest.fixture
def demo_server() -> Iterator[SandboxServer]:
    """The sandbox with the demo organisation, on loopback."""
    with SandboxServer(seed="demo") as srv:
        yield srv


@pytest.fixture(scope="session")
def _shared_loopback() -> Iterator[SandboxServer]:
    with SandboxServer() as srv:
        yield srv


@pytest.fixture(params=["loopback", "inprocess"])
def api(request: pytest.FixtureRequest) -> Api:
    """The demo sandbox, fresh, over loopback (one server for the session) or in-process."""
    if request.param == "loopback":
        shared: SandboxServer = request.getfixturevalue("_shared_loopback")
        fresh_demo(shared.app)
        return Api("loopback", shared.app, shared.url)
    app = create_app()
    fresh_demo(app)
    return Api("inprocess", app, "http://sandbox")


@pytest.fixture
def oauth_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's OAuth credentials in the environment."""
    monkeypatch.setenv("CAPILLARY_OAUTH_KEY", "sandbox")
    monkeypatch.setenv("CAPILLARY_OAUTH_SECRET", "sandbox")
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def demo_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo repository (state/ and reconciler.yaml, the embedded sandbox), run from its root."""
    root = tmp_path / "demo"
    shutil.copytree(REPO / "state", root / "state")
    shutil.copy(REPO / "reconciler.yaml", root / "reconciler.yaml")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def ws(tmp_path: Path, server: SandboxServer, oauth_env: None) -> Iterator[Workspace]:
    """A workspace planned against ``server``; afterwards, the sandbox must have received no write."""
    workspace = Workspace(tmp_path / "repo", server)
    yield workspace
    assert writes(workspace.requests()) == [], "a plan sent a write"


@pytest.fixture
def demo_ws(tmp_path: Path, demo_server: SandboxServer) -> Workspace:
    """An apply workspace on the demo sandbox with the demo state, Lydia's merge taken out."""
    return make_workspace(tmp_path, demo_server, demo_state())
