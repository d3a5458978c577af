"""Malformed YAML: every case is one clear problem at the exact file:line:col, never a traceback."""

from __future__ import annotations

import pytest

from tests.desired.writing import Write, problems_of

CASES = [
    ("tab", "customers:\n\t- id: 1\n", "s.yaml:2:1: YAML syntax: tab character: indent with spaces"),
    (
        "alias",
        "customers:\n  - id: 1\n    note: &n hi\n  - id: 2\n    note: *n\n",
        "s.yaml:5:11: YAML aliases (*n) are not allowed: write the value out",
    ),
    (
        "merge key",
        "customers:\n  - id: 1\n    <<: {note: x}\n",
        "s.yaml:3:5: YAML merge keys (<<) are not allowed: write the keys out",
    ),
    (
        "duplicate key",
        "customers:\n  - id: 1\n    id: 2\n",
        "s.yaml:3:5: duplicate key 'id' (first at line 2, column 5)",
    ),
    ("complex key", "customers:\n  - ? [a]\n    : 1\n", "s.yaml:2:7: mapping keys must be plain scalars"),
    ("custom tag", "customers:\n  - id: !secret 1\n", "s.yaml:2:9: YAML tag !secret is not allowed"),
    (
        "two documents",
        "customers: []\n---\ncustomers: []\n",
        "s.yaml:2:1: only one YAML document per file (remove this '---')",
    ),
    ("control char", "customers: []\nx: \x07\n", "s.yaml:2:4: character U+0007 is not allowed in YAML"),
    ("not a mapping", "- id: 1\n", "s.yaml:1:1: a state file is a mapping with one key, 'customers:'"),
    ("unclosed", "customers: [\n", "s.yaml:2:1: YAML syntax: did not find expected node content"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_yaml_is_one_located_problem(write: Write, text: str, expected: str) -> None:
    assert expected in problems_of(write("s.yaml", text))


def test_non_utf8_bytes_point_at_the_byte(write: Write) -> None:
    path = write("s.yaml", b"customers:\n  - id: 1\n    note: caf\xe9\n")
    assert problems_of(path) == ["s.yaml:3:14: not UTF-8: byte 0xe9"]


def test_deep_nesting_stops_with_a_problem(write: Write) -> None:
    path = write("s.yaml", "customers: " + "[" * 100_000 + "]" * 100_000 + "\n")
    # PyYAML >= 6.0.4's scanner refuses past 1,000 levels before our own limit of 64 sees the events;
    # either way it is one problem on line 1 that says what is wrong.
    [problem] = problems_of(path)
    assert problem in (
        "s.yaml:1:75: nested deeper than 64 levels",
        "s.yaml:1:1011: YAML syntax: exceeded maximum nesting depth",
    )


def test_huge_file_is_refused_before_reading(write: Write) -> None:
    path = write("s.yaml", "customers: []\n")
    with path.open("ab") as handle:
        handle.truncate(33 * 1024 * 1024)
    assert problems_of(path) == ["s.yaml:1:1: file is 33 MiB: split it (limit 32 MiB)"]


def test_empty_file_declares_nobody(write: Write) -> None:
    assert problems_of(write("s.yaml", "# nothing yet\n")) == []


def test_yaml_12_scalars_keep_no_as_a_string(write: Write) -> None:
    path = write(
        "s.yaml",
        "customers:\n  - id: 1\n    note: no\n    identifiers:\n      WECHAT:a:\n        wechat: on\n",
    )
    assert problems_of(path) == []


def test_every_problem_in_every_file_is_reported(write: Write) -> None:
    a = write("a.yaml", "customers:\n  - id: x\n")
    b = write("b/b.yml", "customers:\n  - id: 2\n    colour: red\n")
    assert problems_of(a.parent) == [
        "a.yaml:2:9: customer id must be a positive integer, not string 'x'",
        "b/b.yml:3:5: unknown key 'colour' in customer (allowed: id, note, identifiers, cards, allow)",
    ]
    assert b.exists()
