"""The tree stays lint-, format- and type-clean (ruff, mypy --strict as configured in pyproject.toml).

The tools come with the ``test`` extra. Where one is missing the check is skipped with the command that
installs it, except in CI (``CI=true``), where a missing tool is a failure: CI must never pass unchecked.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("module", "args"),
    [("ruff", ["check", "."]), ("ruff", ["format", "--check", "."]), ("mypy", [])],
    ids=["ruff-check", "ruff-format", "mypy"],
)
@pytest.mark.slow
def test_tool_passes(module: str, args: list[str]) -> None:
    if importlib.util.find_spec(module) is None:
        message = f"{module} is not installed: python -m pip install -e '.[test]'"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    done = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
