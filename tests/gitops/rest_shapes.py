"""GitHub's documented answer shapes, as pinned in tests/data/github-rest/required-fields.json (written by
regenerate.py there from ``@octokit/openapi``), and a check of a JSON value against one of them: the
required fields present, each field of its type, format (date-time, uri) and enum, null only where
allowed, one of ``anyOf``'s alternatives matched, and no field the description does not name (where it
names an object's fields)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .fake_github import FakeRoute

PIN_FILE = Path(__file__).parents[1] / "data/github-rest/required-fields.json"
PIN: dict[str, Any] = json.loads(PIN_FILE.read_text(encoding="utf-8"))
Node = dict[str, Any]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def schema_for(route: str, status: int) -> Node | None:
    """The pinned body schema of ``route``'s answer with ``status``; None when GitHub documents no
    success answer with that status."""
    documented = PIN["routes"][route]
    if str(status) in documented:
        return documented[str(status)] or {}
    return PIN["undocumented_error"] if status >= 400 else None


def unpinned(routes: Iterable[FakeRoute], failures: Iterable[int]) -> list[str]:
    """Each route, or status of a route, that the fake answers and the pin has no schema for."""
    out = []
    for route in routes:
        if str(route) not in PIN["routes"]:
            out.append(f"{route}: not pinned (add it to the fake, then run regenerate.py)")
            continue
        for status in (*route.answers, 401, *failures):
            if schema_for(str(route), status) is None:
                out.append(f"{route}: {status} is not an answer GitHub documents")
    return out


def problems(node: Node, value: Any, where: str) -> list[str]:
    """``where.field: what is wrong`` for each way ``value`` (or a value inside it) breaks ``node``."""
    if "$ref" in node:
        node = PIN["schemas"][node["$ref"]]
    if value is None:
        return [] if _nullable(node) else [f"{where}: null, which the description does not allow"]
    if "anyOf" in node:
        return _alternatives(node, value, where)
    wrong = _scalar(node, value)
    if wrong:
        return [f"{where}: {wrong}"]
    if isinstance(value, dict):
        return _object(node, value, where)
    if isinstance(value, list) and "items" in node:
        return [p for i, item in enumerate(value) for p in problems(node["items"], item, f"{where}[{i}]")]
    return []


def _nullable(node: Node) -> bool:
    if "$ref" in node:
        return _nullable(PIN["schemas"][node["$ref"]])
    return bool(node.get("nullable")) or any(_nullable(alt) for alt in node.get("anyOf", []))


def _alternatives(node: Node, value: Any, where: str) -> list[str]:
    """An answer matches one of the alternatives: the problems of the likeliest (its type fits) if none."""
    found = [problems(alt, value, where) for alt in node["anyOf"]]
    if any(not p for p in found):
        return []
    fitting = [p for p in found if not any(q.startswith(f"{where}: ") for q in p)]
    return (fitting or found)[0]


def _scalar(node: Node, value: Any) -> str:
    """What is wrong with ``value``'s type, format or enum ("" if nothing)."""
    kind = node.get("type")
    if kind in _TYPES and (
        not isinstance(value, _TYPES[kind]) or (isinstance(value, bool) and kind != "boolean")
    ):
        return f"{type(value).__name__} {value!r:.40}, expected {kind}"
    if "enum" in node and value not in node["enum"]:
        return f"{value!r} is not one of {node['enum']}"
    if node.get("format") == "date-time" and not _DATE_TIME.fullmatch(str(value)):
        return f"{value!r} is not a date-time"
    if node.get("format") == "uri" and not urlsplit(str(value)).scheme:
        return f"{value!r} is not a URI"
    return ""


def _object(node: Node, value: dict[str, Any], where: str) -> list[str]:
    out = [f"{where}.{name}: missing" for name in node.get("required", []) if name not in value]
    for name, inner in node.get("properties", {}).items():
        if name in value:
            out += problems(inner, value[name], f"{where}.{name}")
    known, extra = node.get("properties", {}), node.get("additionalProperties")
    others = [k for k in value if k not in known]
    if extra is not None:
        out += [p for k in others for p in problems(extra, value[k], f"{where}.{k}")]
    elif known:  # a field the description does not name is one the fake made up
        out += [f"{where}.{k}: not in the description" for k in others]
    return out
