"""Mistakes a new user makes, through the real CLI: each is one line naming its cause, never a traceback."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_cli_output import ROOT, run


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The demo workspace, its blocked merge taken out (as the quickstart's ``sed`` does), in a git repo."""
    shutil.copy(ROOT / "reconciler.yaml", tmp_path / "reconciler.yaml")
    shutil.copytree(ROOT / "state", tmp_path / "state")
    bennets = tmp_path / "state" / "bennets.yaml"
    bennets.write_text(bennets.read_text().replace("919876543343", "919876543399"))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def one_error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("command", ["plan", "validate", "apply --auto-approve", "import --id 1"])
def test_a_named_config_that_does_not_exist_is_an_error_not_defaults(demo: Path, command: str) -> None:
    done = run(demo, *command.split(), "--config", "reconciler.yml")
    assert done.returncode == 2
    assert one_error(done) == "error: --config reconciler.yml: no such file"


@pytest.mark.slow
def test_a_checksum_in_upper_case_is_the_same_checksum(demo: Path) -> None:
    plan = run(demo, "plan")
    found = re.search(r"Checksum: ([0-9a-f]{64})", plan.stdout)
    assert plan.returncode == 0 and found, plan.stdout + plan.stderr
    done = run(demo, "apply", "--checksum", found.group(1).upper())
    assert done.returncode == 0, done.stdout + done.stderr
    assert run(demo, "plan", "--detailed-exitcode").returncode == 0


def test_an_unknown_git_ref_says_so(demo: Path) -> None:
    done = run(demo, "plan", "--changed-since", "no-such-branch")
    assert done.returncode == 2
    assert one_error(done) == (
        "error: --changed-since no-such-branch: no such commit, branch or tag in this repository"
    )


def test_a_malformed_api_url_says_what_fits(demo: Path) -> None:
    config = demo / "reconciler.yaml"
    config.write_text(config.read_text().replace("url: sandbox", "url: sandbx"))
    done = run(demo, "plan")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    (message,) = done.stderr.splitlines()  # one located problem, as every problem of a state is said
    assert message.startswith("reconciler.yaml:") and "api.url: 'sandbx' is not valid" in message
    assert "https://" in message and "^(" not in message  # the description, not the regular expression


def test_validate_counts_in_words(demo: Path) -> None:
    bad = demo / "state" / "one.yaml"
    bad.write_text("customers:\n  - id: 1\n    identifiers:\n      INSTORE:\n        mobile: '12'\n")
    done = run(demo, "validate")
    assert done.returncode == 1 and done.stderr.strip().endswith("1 problem in 1 file")


def test_outside_a_repository_plan_says_where_it_looked(tmp_path: Path) -> None:
    done = run(tmp_path, "plan")
    assert done.returncode == 2
    assert one_error(done) == (
        "error: no reconciler.yaml and no state/ here: run in a reconciler repository or pass --config"
    )


@pytest.mark.slow
def test_without_reconciler_yaml_the_defaults_apply(demo: Path) -> None:
    (demo / "reconciler.yaml").unlink()  # defaults: the embedded sandbox, the default ownership
    done = run(demo, "plan")
    assert done.returncode in (0, 3, 4) and "Traceback" not in done.stderr, done.stderr
    assert "Target: embedded sandbox (demo data)" in done.stdout


@pytest.mark.slow
def test_a_config_directory_is_read_and_one_without_the_file_is_refused(demo: Path, tmp_path: Path) -> None:
    assert run(demo, "validate", "--config", ".").returncode == 0
    assert run(demo, "plan", "--config", str(demo)).returncode == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run(demo, "plan", "--config", str(empty))
    assert (
        done.returncode == 2
        and one_error(done) == f"error: --config {empty}: a directory without reconciler.yaml"
    )


def test_a_malformed_api_url_that_may_hold_a_secret_is_not_echoed(demo: Path) -> None:
    config = demo / "reconciler.yaml"
    config.write_text(
        config.read_text().replace("url: sandbox", "url: https://api.example.com/v2?token=s3cret")
    )
    done = run(demo, "plan")
    assert done.returncode == 1 and "s3cret" not in done.stderr + done.stdout
    (message,) = done.stderr.splitlines()
    assert "api.url: (value not shown: it may hold a secret) is not valid" in message
