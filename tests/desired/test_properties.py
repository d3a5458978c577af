"""Property tests: generated and mutated documents either load or fail with located problems, and the
loader agrees with the JSON Schema on structure."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.desired import collect
from reconciler.errors import StateError
from tests.desired.test_schemas import schema_accepts

ROOT = Path(__file__).resolve().parents[2]
SEED_TEXT = (ROOT / "state" / "instore.yaml").read_text()

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**13),
    st.sampled_from(["ACTIVE", "919876543210", "a@b.com", "GOLD1", "DIGI01", "", "x y", "CARD BLOCKED"]),
    st.text(string.ascii_letters + string.digits + "@._-", max_size=12),
)
keys = st.sampled_from(
    [
        "customers",
        "id",
        "note",
        "identifiers",
        "cards",
        "allow",
        "merge_with",
        "number",
        "series",
        "status",
        "INSTORE",
        "WECHAT:a",
        "WECHAT",
        "LINE:x",
        "mobile",
        "email",
        "wechat",
        "externalId",
        "bogus",
    ]
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


def check_outcome(path: Path) -> list[Any]:
    """Load ``path``: it must load or fail only with problems that name the file and a line."""
    result = collect([path])
    for problem in result.problems:
        assert problem.file == path.name and problem.line >= 1 and problem.col >= 1, problem
    try:
        from reconciler.desired import load_state

        load_state([path])
    except StateError as exc:
        assert exc.problems
    return result.problems


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=documents)
@pytest.mark.slow
def test_generated_documents_load_or_fail_located(tmp_path_factory: Any, doc: Any) -> None:
    directory = tmp_path_factory.mktemp("gen")
    path = directory / "g.yaml"
    path.write_text(yaml.safe_dump({"customers": [doc]} if isinstance(doc, dict) else doc))
    import os

    os.chdir(directory)
    problems = check_outcome(path)
    data = yaml.safe_load(path.read_text())
    if data is not None and not any("declared" in p.message or "itself" in p.message for p in problems):
        # structure only (an empty file is fine for the loader): both accept and reject the same documents
        assert (problems == []) == schema_accepts(data), (json.dumps(data), problems)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(SEED_TEXT)),
            st.integers(0, 8),
            st.text(" \t\n:-[]{}&*!#'\"|>%@`\x00\xe9ab1", max_size=4),
        ),
        min_size=1,
        max_size=4,
    ),
    raw=st.booleans(),
)
@pytest.mark.slow
def test_mutated_files_never_escape(
    tmp_path_factory: Any, edits: list[tuple[int, int, str]], raw: bool
) -> None:
    text = SEED_TEXT
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut :]
    directory = tmp_path_factory.mktemp("mut")
    path = directory / "m.yaml"
    data = text.encode()
    path.write_bytes(data.replace(b"\xc3\xa9", b"\xe9") if raw else data)
    import os

    os.chdir(directory)
    check_outcome(path)
