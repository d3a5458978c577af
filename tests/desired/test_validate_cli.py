"""`reconciler validate` as a user runs it: a real subprocess, real files, exit codes and outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.desired.writing import Write

ROOT = Path(__file__).resolve().parents[2]
BAD = "customers:\n  - id: 1\n    identifiers: {INSTORE: {mobile: '12ab'}}\n  - id: 1\n"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_demo_state_is_clean_by_default() -> None:
    result = run(cwd=ROOT)
    assert (result.returncode, result.stdout) == (0, "20 customers in 3 files: ok\n")


def test_text_format_lists_every_problem_sorted(write: Write, tmp_path: Path) -> None:
    write("state/b.yaml", BAD)
    write("state/a.yaml", "customers:\n  - id: 2\n    oops: 1\n")
    result = run(cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "state/a.yaml:3:5: unknown key 'oops' in customer (allowed: id, note, identifiers, cards, allow)",
        "state/b.yaml:2:5: customer 1 declared 2 times; also at state/b.yaml:4:5",
        "state/b.yaml:3:37: malformed mobile '12ab': digits only, with country code, 8-15 digits",
        "state/b.yaml:4:5: customer 1 declared 2 times; also at state/b.yaml:2:5",
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_github_and_json_formats(write: Write, tmp_path: Path) -> None:
    path = write("x.yaml", "customers:\n  - id: 0\n")
    github = run("--format", "github", str(path), cwd=tmp_path)
    assert (
        github.stdout
        == "::error file=x.yaml,line=2,col=9::customer id must be a positive integer, not int 0\n"
    )
    as_json = run("--format", "json", "x.yaml", cwd=tmp_path)
    assert json.loads(as_json.stdout) == [
        {
            "file": "x.yaml",
            "line": 2,
            "col": 9,
            "message": "customer id must be a positive integer, not int 0",
        }
    ]
    assert as_json.returncode == github.returncode == 1


def test_bad_config_is_one_located_line(write: Write, tmp_path: Path) -> None:
    write("reconciler.yaml", "api:\n  url: ftp://x\n")
    result = run(cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("reconciler.yaml:2:8: api.url: 'ftp://x' is not valid: ")
    assert len(result.stdout.splitlines()) == 1 and result.stderr == "1 problem in 1 file\n"


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    assert run("nope/", cwd=tmp_path).returncode == 2


@pytest.mark.slow
def test_every_problem_is_said_in_one_run_whatever_else_is_wrong(write: Write, tmp_path: Path) -> None:
    """Issue 20, 6: a config with an unknown key, a customer block with an unknown key and a value that
    block shares with another file: all three in one run of validate, and of plan."""
    write("reconciler.yaml", "api: {url: sandbox}\nbogus: 1\n")
    write(
        "state/a.yaml",
        "customers:\n  - id: 1\n    oops: 1\n    identifiers: {INSTORE: {email: x@example.com}}\n",
    )
    write("state/b.yaml", "customers:\n  - id: 2\n    identifiers: {INSTORE: {email: x@example.com}}\n")
    twice = "email 'x@example.com' in INSTORE declared on customers 1, 2"
    expected = [
        "reconciler.yaml:2:1: unknown key 'bogus' in top level "
        "(allowed: api, default_source, manage, safety, state_dir, sources, simulate)",
        "state/a.yaml:3:5: unknown key 'oops' in customer (allowed: id, note, identifiers, cards, allow)",
        f"state/a.yaml:4:36: {twice}; also at state/b.yaml:3:36",
        f"state/b.yaml:3:36: {twice}; also at state/a.yaml:4:36",
    ]
    result = run(cwd=tmp_path)
    assert (result.returncode, result.stdout.splitlines()) == (1, expected), result.stderr
    planned = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert planned.returncode == 1 and planned.stderr.splitlines() == expected, planned.stderr
    started = sorted(path.name for path in (tmp_path / ".reconciler").iterdir())
    assert started == ["cache"]  # the state cache (reconciler/desired/cache.py) only: nothing was started
