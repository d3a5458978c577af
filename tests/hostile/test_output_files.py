"""Output files that cannot be written (a directory, a path under a file, /dev/full) fail before the
first API call: exit 1, one line, no traceback, and the sandbox saw no request at all."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.server import SandboxServer
from tests.testing import Workspace, demo_state, is_write, make_workspace, serve


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    running = serve("demo")
    yield running
    running.stop()


@pytest.fixture
def ws(tmp_path: Path, server: SandboxServer) -> Workspace:
    server.clear_log()
    (tmp_path / "a-file").write_text("not a directory\n")
    (tmp_path / "a-dir").mkdir()
    return make_workspace(tmp_path, server, demo_state())


BAD_PATHS = {"directory": "a-dir", "under a file": "a-file/plan.md", "full device": "/dev/full"}


def assert_refused_before_any_request(
    ws: Workspace, done: subprocess.CompletedProcess[str], option: str
) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option} "), done.stderr
    assert ws.server.request_log()["total"] == 0


@pytest.mark.parametrize("bad", BAD_PATHS.values(), ids=BAD_PATHS.keys())
@pytest.mark.parametrize("option", ["--out", "--json-out"])
def test_plan_output_that_cannot_be_written_is_refused_before_reading(
    ws: Workspace, option: str, bad: str
) -> None:
    done = ws.cli("plan", option, bad)
    assert_refused_before_any_request(ws, done, option)


@pytest.mark.parametrize("bad", BAD_PATHS.values(), ids=BAD_PATHS.keys())
@pytest.mark.slow
def test_apply_journal_that_cannot_be_written_is_refused_before_anything_is_sent(
    ws: Workspace, bad: str
) -> None:
    done = ws.cli("apply", "--auto-approve", "--journal", bad)
    assert_refused_before_any_request(ws, done, "--journal")
    assert not [e for e in ws.server.request_log()["requests"] if is_write(e)]


@pytest.mark.slow
def test_good_paths_are_left_as_they_were_when_nothing_is_written(ws: Workspace) -> None:
    # the check creates nothing it does not need: a refused run leaves no empty output file behind
    done = ws.cli("plan", "--out", "new/plan.md", "--json-out", "a-dir")
    assert done.returncode == 1 and not (ws.root / "new" / "plan.md").exists()
    kept = ws.root / "old.md"
    kept.write_text("the last plan\n")
    done = ws.cli("plan", "--out", str(kept), "--json-out", "a-dir")
    assert done.returncode == 1 and kept.read_text() == "the last plan\n"


@pytest.mark.slow
def test_stdout_that_fails_mid_run_is_one_line_not_a_traceback(ws: Workspace) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", "plan"],
            cwd=ws.root,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == ["error: cannot write to standard output: No space left on device"]
