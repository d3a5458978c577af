"""The tree stays lint-, format- and type-clean (ruff, mypy --strict as configured in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "argv",
    [["ruff", "check", "."], ["ruff", "format", "--check", "."], [sys.executable, "-m", "mypy"]],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_passes(argv: list[str]) -> None:
    if shutil.which(argv[0]) is None and argv[0] != sys.executable:
        pytest.skip(f"{argv[0]} is not installed")
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
