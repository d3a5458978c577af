"""Fixtures for desired-state tests: write state files in a temp dir and load them from there."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.desired.writing import Write


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Write:
    """Write a dedented file under tmp_path (the cwd, so problems name it relative) and return its path."""
    monkeypatch.chdir(tmp_path)

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return _write
