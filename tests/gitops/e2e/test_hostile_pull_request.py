"""A pull request is data to plan, never code to run: one that edits the tool, the workflows and the
target gets a plan computed by the base branch's tool against the base's target."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.server import SandboxServer

from ..world import World
from .helpers import TOM, TOM_EMAIL, plan_comment

# End to end (CLI subprocesses, a GitHub job run, signals, a full scenario): `-m "not slow"` skips it.
pytestmark = pytest.mark.slow


@pytest.fixture
def elsewhere() -> Iterator[SandboxServer]:
    """The host a hostile pull request names as its target: it must never hear from the plan."""
    with SandboxServer(seed="demo") as srv:
        yield srv


def test_a_pull_request_editing_the_tool_workflows_and_target_is_planned_by_the_base(
    world: World, elsewhere: SandboxServer, tmp_path: Path
) -> None:
    canary = tmp_path / "pull-request-code-ran"
    payload = f"import pathlib\npathlib.Path({str(canary)!r}).write_text('ran')\n"
    edits = dict(TOM_EMAIL) | {"reconciler.yaml": (f"url: {world.sandbox.url}", f"url: {elsewhere.url}")}
    code = {
        "reconciler/__init__.py": payload,  # the tool's own package, as the pull request would change it
        "reconciler/cli.py": payload,
        "setup.py": payload,
        "sitecustomize.py": payload,
        "state/conftest.py": payload,
        ".github/workflows/reusable-plan.yml": "on: pull_request_target\njobs: {}\n",
    }
    world.open_pull_request(1, edits, code)
    elsewhere.clear_log()
    planned = world.plan_pull_request(1)

    assert not planned.failed, {n: s.stderr for n, s in planned.steps.items()}
    assert not canary.exists()
    assert elsewhere.request_log()["requests"] == []  # the read credentials never went there
    assert world.sandbox.request_log()["requests"]  # the base's target was read
    comment = plan_comment(world, 1)
    assert f"customer {TOM}:" in comment
    assert "changes `api` in `reconciler.yaml`" in comment and "takes effect after merge" in comment
    # Only the desired state of the head is even on disk, and nothing ran from it.
    data = planned.work / ".pull-request"
    assert sorted(p.name for p in data.iterdir() if p.name != ".git") == ["reconciler.yaml", "state"]
    assert not (planned.work / "reconciler").exists()
