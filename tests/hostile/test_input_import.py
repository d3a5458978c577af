"""Import writes YAML that reads back to the same values, in the state reader (YAML 1.2) and in YAML 1.1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.desired.importer import dump
from reconciler.yaml.reader import ParsedFile, parse_bytes
from tests.apply import population
from tests.testing import make_workspace, serve

NUMBER_SHAPES = [
    r"[-+]?[0-9]{1,25}",
    r"0[0-9]{1,15}",
    r"[0-9]{1,6}[eE][-+]?[0-9]{1,4}",
    r"[-+]?[0-9]*\.[0-9]*([eE][-+]?[0-9]+)?",
    r"0o[0-7]{1,8}",
    r"0x[0-9a-fA-F]{1,8}",
    r"0b[01]{1,8}",
    r"[-+]?\.(inf|Inf|INF|nan|NaN|NAN)",
    r"[0-9]{1,3}(_[0-9]{3}){1,3}",
    r"[0-9]{1,2}(:[0-5][0-9]){1,2}",
    r"20[0-9]{2}-[01][0-9]-[0-3][0-9]",
    r"(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|true|True|false|FALSE|null|Null|~|=|<<)",
]
numbers = st.one_of(*(st.from_regex(shape, fullmatch=True) for shape in NUMBER_SHAPES))
identifiers = st.text(alphabet="0123456789abcdefxoEeyYnN.+-_:~@# ", max_size=16)


def _read_back(text: str) -> Any:
    parsed = parse_bytes(text.encode(), ParsedFile("x.yaml"))
    assert parsed.problems == [], parsed.problems
    return parsed.data


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(numbers, identifiers), min_size=1, max_size=8))
@pytest.mark.slow
def test_every_string_reads_back_as_the_same_string(values: list[str]) -> None:
    body = {"customers": [{"id": 1, "identifiers": {"INSTORE": {f"t{i}": v for i, v in enumerate(values)}}}]}
    text = dump(body)
    assert _read_back(text) == body  # the state reader, YAML 1.2 core schema
    assert yaml.safe_load(text) == body  # and any YAML 1.1 reader


def test_the_strings_from_the_issue_are_quoted() -> None:
    text = dump(["09876543210", "12e4", "0o777", "4000E0001", "yes", "~", "plain"])
    assert text.splitlines() == [
        '- "09876543210"',
        '- "12e4"',
        '- "0o777"',
        '- "4000E0001"',
        '- "yes"',
        '- "~"',
        "- plain",
    ]


@pytest.mark.slow
def test_import_through_the_cli_reads_back_what_it_wrote(tmp_path: Path) -> None:
    fixture = population.fixture(1, 0)
    [profile] = fixture["customers"][0]["profiles"]
    profile["identifiers"] = [
        {"type": "mobile", "value": "09876543210"},
        {"type": "externalId", "value": "4000E0001"},
    ]
    fixture["cards"][0]["number"] = "0012345"
    server = serve(fixture)
    try:
        make_workspace(tmp_path, server, {})
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", "import", "--id", str(population.cid(0))],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "NO_COLOR": "1", "RECONCILER_MASK_KEY": "k" * 32},
            check=False,
        )
    finally:
        server.stop()
    assert "Traceback" not in done.stderr
    assert done.returncode == 0, done.stderr
    assert "no changes" in done.stdout
    text = (tmp_path / "state" / "imported.yaml").read_text()
    for quoted in ('"09876543210"', '"4000E0001"', '"0012345"'):
        assert quoted in text
