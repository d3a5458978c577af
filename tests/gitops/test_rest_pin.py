"""tests/data/github-rest/regenerate.py, which writes the pin the fake is checked against: how it reduces a
description's schemas (a small description written here, with the constructs GitHub's uses), and its
one-line refusals of a file it cannot use."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .harness import REPO_ROOT

SCRIPT = REPO_ROOT / "tests/data/github-rest/regenerate.py"
_spec = importlib.util.spec_from_file_location("regenerate", SCRIPT)
assert _spec is not None and _spec.loader is not None
regenerate: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regenerate)

REF = "#/components/schemas/"
DESCRIPTION: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"version": "1.2.3"},
    "paths": {
        "/repos/{owner}/{repo}/things/{n}": {
            "get": {
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": REF + "thing"}}}},
                    "304": {"$ref": "#/components/responses/not_modified"},
                    "404": {"$ref": "#/components/responses/not_found"},
                }
            }
        }
    },
    "components": {
        "responses": {
            "not_modified": {"description": "Not modified"},
            "not_found": {"content": {"application/json": {"schema": {"$ref": REF + "basic-error"}}}},
            "requires_authentication": {
                "content": {"application/json": {"schema": {"$ref": REF + "basic-error"}}}
            },
        },
        "schemas": {
            "basic-error": {"type": "object", "properties": {"message": {"type": "string"}}},
            "nullable-user": {
                "type": "object",
                "nullable": True,
                "description": "dropped from the pin",
                "properties": {"login": {"type": "string", "example": "octocat"}},
                "required": ["login"],
            },
            "thing": {
                "allOf": [
                    {"$ref": REF + "nullable-user"},
                    {
                        "type": "object",
                        "properties": {
                            "parent": {"$ref": REF + "thing"},
                            "when": {"type": "string", "format": "date-time", "nullable": True},
                            "state": {"type": "string", "enum": ["open", "closed"]},
                            "tags": {
                                "type": "array",
                                "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                            },
                        },
                        "required": ["when", "state"],
                    },
                ]
            },
        },
    },
}


def test_it_pins_each_documented_status_with_schemas_reduced_and_merged() -> None:
    pinned = regenerate.pin(DESCRIPTION, "ab" * 32, [("GET", "/repos/{owner}/{repo}/things/{n}")])
    assert pinned["source"] == {
        "package": "@octokit/openapi",
        "version": "1.2.3",
        "file": "generated/api.github.com.json",
        "sha256": "ab" * 32,
    }
    assert pinned["routes"] == {
        "GET /repos/{owner}/{repo}/things/{n}": {
            "200": {"$ref": "thing"},
            "304": None,
            "404": {"$ref": "basic-error"},
        }
    }
    assert pinned["undocumented_error"] == {"$ref": "basic-error"}
    thing = pinned["schemas"]["thing"]
    assert thing["required"] == ["login", "state", "when"]  # allOf: both parts' required fields
    assert "nullable" not in thing  # null satisfies one part only
    assert thing["properties"]["login"] == {"type": "string"}  # no examples or descriptions
    assert thing["properties"]["parent"] == {"$ref": "thing"}  # a schema reaching itself stays a name
    assert thing["properties"]["when"] == {"type": "string", "nullable": True, "format": "date-time"}
    assert thing["properties"]["state"]["enum"] == ["open", "closed"]
    assert thing["properties"]["tags"]["items"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert pinned["schemas"]["nullable-user"]["nullable"] is True


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "No such file or directory"),
        ("{not json", "Expecting property name"),
        ("[]", "not an OpenAPI description"),
        (
            json.dumps({"paths": {}, "components": {}, "info": {}}),
            "a route the fake serves, is not described",
        ),
    ],
    ids=["missing", "not-json", "not-openapi", "no-such-route"],
)
def test_a_file_it_cannot_use_is_refused_in_one_line(tmp_path: Path, content: str | None, said: str) -> None:
    source = tmp_path / "api.github.com.json"
    if content is not None:
        source.write_text(content, encoding="utf-8")
    before = regenerate.PIN.read_bytes()
    done = _run(str(source))
    assert done.returncode == 2 and said in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert regenerate.PIN.read_bytes() == before
