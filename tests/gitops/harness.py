"""Running the CLI as a workflow step does: a real subprocess with the step's environment."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .fake_github import FakeGitHub

REPO_ROOT = Path(__file__).resolve().parents[2]

# Runs the real CLI group, named as the console script names it.
_CLI = "import sys; from reconciler.cli import main; sys.argv[0] = 'reconciler'; main()"


@dataclass
class Served:
    """The fake GitHub and the loopback URL it answers on."""

    fake: FakeGitHub
    url: str


def github_env(served: Served, **extra: str) -> dict[str, str]:
    """The environment a workflow step has: repository, token and API URL pointing at the fake."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env |= {"GITHUB_REPOSITORY": served.fake.repo, "GITHUB_TOKEN": served.fake.token}
    env |= {"GITHUB_API_URL": served.url, **extra}
    return env


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``reconciler <args>`` as a real subprocess."""
    return subprocess.run(
        [sys.executable, "-c", _CLI, *args],
        env=env,
        cwd=cwd or REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def cli_shim(bin_dir: Path) -> Path:
    """A ``reconciler`` executable on a PATH directory that runs the real CLI (github group included)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "reconciler"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -c "{_CLI}" "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    return shim


def run_step_script(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a step's ``run:`` script the way GitHub's runner does (bash -e -o pipefail)."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
