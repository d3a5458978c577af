"""The journal's event names are one enum (``journal.Event``): docs, schema, docstring and writers agree."""

from __future__ import annotations

import ast
import asyncio
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import journal
from reconciler.apply.journal import Event

ROOT = Path(__file__).resolve().parents[2]
EVENTS = {e.value for e in Event}


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n### ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def _documented() -> set[str]:
    """The events of docs/architecture.md 5.8's table: the first cell of each row."""
    section = _section((ROOT / "docs/architecture.md").read_text(encoding="utf-8"), "### 5.8 Journal")
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE))


def _schema() -> Any:
    return json.loads((ROOT / "reconciler/schemas/journal.schema.json").read_text(encoding="utf-8"))


def test_architecture_5_8_lists_every_event_and_no_other() -> None:
    assert _documented() == EVENTS


def test_the_schema_allows_every_event_and_no_other() -> None:
    schema = _schema()
    enum = schema["properties"]["event"]["enum"]
    assert set(enum) == EVENTS
    assert len(enum) == len(EVENTS)


def test_the_schema_describes_each_event_by_its_own_definition() -> None:
    schema = _schema()
    branches = schema["allOf"]
    consts = {b["if"]["properties"]["event"]["const"] for b in branches}
    assert consts == EVENTS
    defs = schema["$defs"]
    assert set(defs) >= EVENTS
    assert {defs[e]["properties"]["event"]["const"] for e in EVENTS} == EVENTS


def test_the_module_docstring_lists_every_event_and_no_other() -> None:
    doc = journal.__doc__ or ""
    listed = set(re.findall(r"^    ([a-z_]+) ", doc, re.MULTILINE))
    assert listed == EVENTS


@functools.cache
def _journal_writes() -> list[tuple[str, int, ast.expr]]:
    """Every ``<...>.journal.record(...)``/``.write_now(...)`` call in reconciler/apply (the journal's only
    writer): file, line, first argument."""
    found = []
    for path in sorted((ROOT / "reconciler/apply").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in ("record", "write_now") or not node.args:
                continue
            if ast.unparse(node.func.value).split(".")[-1] == "journal":
                found.append((str(path.relative_to(ROOT)), node.lineno, node.args[0]))
    return found


def test_every_journal_write_names_its_event_by_the_enum() -> None:
    writes = _journal_writes()
    assert writes, "no journal writes found: the scan is broken"
    loose = [
        f"{file}:{line}: {ast.unparse(arg)}"
        for file, line, arg in writes
        if not (isinstance(arg, ast.Attribute) and ast.unparse(arg.value) == "Event")
    ]
    assert not loose


def test_every_event_is_written_somewhere() -> None:
    named = {arg.attr for _, _, arg in _journal_writes() if isinstance(arg, ast.Attribute)}
    assert {Event[name].value for name in named} == EVENTS


@pytest.mark.parametrize("write", ["record", "write_now"])
def test_a_name_that_is_no_event_is_refused(tmp_path: Path, write: str) -> None:
    log = journal.Journal(tmp_path / "j.jsonl")
    try:
        with pytest.raises(ValueError, match="'nonsense' is not a valid Event"):
            if write == "write_now":
                log.write_now("nonsense")
            else:
                asyncio.run(log.record("nonsense"))
    finally:
        log.close()
    assert journal.read_journal(tmp_path / "j.jsonl") == []
