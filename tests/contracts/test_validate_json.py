"""``reconciler validate --format json`` writes what ``schemas/validate.schema.json`` describes: the problems
of broken state files and a broken reconciler.yaml (YAML that does not parse, a file that is not UTF-8,
unknown keys, bad values, a duplicate customer), and ``[]`` for a clean state; a problem broken in one key
is rejected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import main

from .schemas import VALIDATE, assert_valid, broken, problems

BROKEN = {
    "a.yaml": "customers:\n  - id: 2\n    oops: 1\n",
    "b.yaml": "customers:\n  - id: 1\n    identifiers: {INSTORE: {mobile: '12ab'}}\n  - id: 1\n",
    "c.yaml": "customers: [\n",
    "d.yaml": "customers:\n  - id: 0\n",
}


def _validate(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[dict[str, Any]]]:
    monkeypatch.chdir(root)
    done = CliRunner().invoke(main, ["validate", "--format", "json"])
    document = json.loads(done.stdout)
    assert isinstance(document, list)
    return done.exit_code, document


def test_the_problems_of_a_broken_state_and_config_are_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "state").mkdir()
    for name, text in BROKEN.items():
        (tmp_path / "state" / name).write_text(text, encoding="utf-8")
    (tmp_path / "state" / "e.yaml").write_bytes(b"customers:\n  - id: 3\n    note: \xff\n")
    (tmp_path / "reconciler.yaml").write_text("api: {url: sandbox, colour: 1}\nstate_dir: state\n")
    code, found = _validate(tmp_path, monkeypatch)
    assert code == 1 and {p["file"] for p in found} >= {f"state/{n}" for n in BROKEN} | {"reconciler.yaml"}
    assert_valid(found, VALIDATE)
    first, *rest = found
    accepted = [label for label, changed in broken(first) if not problems([changed, *rest], VALIDATE)]
    assert not accepted, accepted


def test_a_clean_state_is_an_empty_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "a.yaml").write_text("customers:\n  - id: 2\n", encoding="utf-8")
    (tmp_path / "reconciler.yaml").write_text("api: {url: sandbox}\nstate_dir: state\n")
    assert _validate(tmp_path, monkeypatch) == (0, [])
    assert_valid([], VALIDATE)
