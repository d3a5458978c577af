"""The published schemas as validators, and what a real output looks like broken: the contracts tests'
own helpers (the outputs themselves come from real runs, in each test)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from reconciler.schemas import SCHEMA_DIR

PLAN, RESULT, JOURNAL = "plan.schema.json", "apply-result.schema.json", "journal.schema.json"
VALIDATE = "validate.schema.json"


@cache
def validator(name: str) -> Draft202012Validator:
    """The schema ``name`` as shipped in the package, checked as a 2020-12 schema, formats enforced."""
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(document: Any, name: str) -> list[str]:
    """Where ``document`` breaks schema ``name``: ``path: message`` per error, none when it is valid."""
    found = validator(name).iter_errors(document)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:300]}" for e in found]


def assert_valid(document: Any, name: str) -> None:
    wrong = problems(document, name)
    assert not wrong, f"{name}: " + "; ".join(wrong[:10])


def parsed(text: str) -> dict[str, Any]:
    """A JSON document a command wrote: one object, nothing around it."""
    document = json.loads(text)
    assert isinstance(document, dict), type(document)
    return document


def objects(document: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in ``document`` with its path, the outermost first."""
    if isinstance(document, dict):
        yield where, document
        for key, value in document.items():
            yield from objects(value, f"{where}/{key}")
    elif isinstance(document, list):
        for i, value in enumerate(document):
            yield from objects(value, f"{where}/{i}")


def broken(document: dict[str, Any], free: re.Pattern[str] | None = None) -> Iterator[tuple[str, Any]]:
    """Copies of ``document`` each broken in one way: an unknown key added to one of its objects, or one of
    its keys dropped. Of the items of a list, the first of each shape stands for the rest (a path's
    indexes read as ``*``); ``free`` matches the object paths whose keys are open by design (a call's
    ``body``, the API's), which are left alone with everything inside them."""
    seen: set[str] = set()
    for where, obj in objects(document):
        shape = re.sub(r"/\d+(?=/|$)", "/*", where)
        if shape in seen or (free is not None and free.match(where)):
            continue
        seen.add(shape)
        yield f"{where}/+unknown", _changed(document, where, lambda o: o.__setitem__("unexpected", 1))
        for key in obj:
            yield f"{where}/-{key}", _changed(document, where, lambda o, k=key: o.pop(k))


def _changed(document: dict[str, Any], where: str, change: Any) -> Any:
    out = copy.deepcopy(document)
    target: Any = out
    for part in where.split("/")[1:]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    change(target)
    return out
