"""The YAML test suite (tests/data/yaml-test-suite, MIT): the reader agrees with libyaml or says where.

For every valid case the reader gives the value ``yaml.CSafeLoader`` gives, or at least one located problem
(the reader refuses aliases, merge keys, tags, complex and non-string keys, several documents); no case, valid
or not, raises. CSafeLoader resolves plain scalars with YAML 1.1, the reader with the YAML 1.2 core schema
(``no`` is a string, ``012`` is twelve), so the reference loader below is CSafeLoader with the 1.2 core
schema's resolvers, written from the spec (YAML 1.2.2, 10.3.2), not from the reader's code.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.yaml.reader import INVALID, read_yaml

SUITE = Path(__file__).parent.parent / "data" / "yaml-test-suite"
CASES = sorted(p.parent for p in SUITE.rglob("in.yaml"))


class CoreLoader(yaml.CSafeLoader):
    """libyaml's parser with the YAML 1.2 core schema."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML's class-level registry


CORE = [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["", *"~nN"]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
]
for _tag, _regexp, _first in CORE:
    CoreLoader.add_implicit_resolver(_tag, re.compile(_regexp), _first)


def _int(loader: CoreLoader, node: yaml.ScalarNode) -> int:
    text = node.value
    return int(text, 0) if text[:2] in ("0o", "0x") else int(text)


def _float(loader: CoreLoader, node: yaml.ScalarNode) -> float:
    text = node.value
    body = text.lstrip("+-")
    if body[:1] == "." and body[1:2].isalpha():
        return float(text[: len(text) - len(body)] + body[1:])
    return float(text)


CoreLoader.add_constructor("tag:yaml.org,2002:int", _int)
CoreLoader.add_constructor("tag:yaml.org,2002:float", _float)


def _plain(value: Any) -> Any:
    """The reader's value as plain dicts and lists; INVALID or a non-finite number fails the comparison."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    assert value is not INVALID, "INVALID without a problem"
    assert not (isinstance(value, float) and not math.isfinite(value)), "non-finite without a problem"
    return value


def _reference(text: str) -> tuple[bool, Any]:
    try:
        return True, yaml.load(text, Loader=CoreLoader)  # a CSafeLoader subclass: builds no objects
    except (yaml.YAMLError, ValueError, RecursionError):
        return False, None


@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(SUITE)) for c in CASES])
def test_reader_agrees_with_libyaml_or_reports_a_located_problem(case: Path) -> None:
    parsed = read_yaml(case / "in.yaml", "in.yaml")  # nothing but a located problem may come out
    text = (case / "in.yaml").read_bytes().decode("utf-8", "replace")
    lines = text.count("\n") + 2
    for problem in parsed.problems:
        assert problem.file == "in.yaml"
        assert 1 <= problem.line <= lines and problem.col >= 1, problem
        assert problem.message and "\n" not in problem.message, problem
    if (case / "error").exists() or parsed.problems:
        return
    loaded, expected = _reference(text)
    assert loaded, "the reader took a document libyaml refuses, without a problem"
    assert _plain(parsed.data) == expected


def test_the_suite_is_there() -> None:
    assert len(CASES) > 300
    assert (SUITE / "License").read_text().startswith("MIT License")
