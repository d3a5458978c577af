"""The JSON Schemas: they accept the demo files, reject invalid ones, and agree with the loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from reconciler.config import load_config
from reconciler.desired import collect
from tests.desired.writing import Write

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "reconciler" / "schemas"


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


STATE = validator("state.schema.json")
CONFIG = validator("config.schema.json")


@pytest.mark.parametrize("path", sorted((ROOT / "state").glob("*.yaml")), ids=lambda p: p.name)
def test_demo_state_files_match_the_schema(path: Path) -> None:
    assert list(STATE.iter_errors(yaml.safe_load(path.read_text()))) == []
    assert path.read_text().startswith("# yaml-language-server: $schema=../schemas/state.schema.json\n")


def test_demo_config_matches_the_schema_and_loads() -> None:
    path = ROOT / "reconciler.yaml"
    assert list(CONFIG.iter_errors(yaml.safe_load(path.read_text()))) == []
    config = load_config(path)
    assert config.api.is_sandbox and config.root == ROOT and "wechat" in config.manage.identifiers


def test_demo_state_is_valid_against_the_sandbox_seed() -> None:
    seed = json.loads((ROOT / "reconciler" / "sandbox" / "seeds" / "demo.json").read_text())
    labels = {label["label"] for label in seed["labels"]}
    series = {s["id"] for s in seed["series"]} | {s["code"] for s in seed["series"]}
    result = collect([ROOT / "state"], labels=labels, series=series)
    assert result.problems == []
    declared = {c.id for c in result.state.customers}
    seeded = {c["id"] for c in seed["customers"]}
    assert 15 <= len(declared) <= 20 and declared < seeded


INVALID = {
    "unknown key": "customers:\n  - id: 1\n    colour: red\n",
    "id text": "customers:\n  - id: one\n",
    "bad mobile": "customers:\n  - id: 1\n    identifiers: {INSTORE: {mobile: '12ab'}}\n",
    "bad email": "customers:\n  - id: 1\n    identifiers: {INSTORE: {email: nobody}}\n",
    "wechat on INSTORE": "customers:\n  - id: 1\n    identifiers: {INSTORE: {wechat: x}}\n",
    "WECHAT without account": "customers:\n  - id: 1\n    identifiers: {WECHAT: {wechat: x}}\n",
    "card without series": "customers:\n  - id: 1\n    cards: [{number: X}]\n",
    "cards null": "customers:\n  - id: 1\n    cards:\n",
    "profile null": "customers:\n  - id: 1\n    identifiers: {INSTORE: }\n",
    "merge_with text": "customers:\n  - id: 1\n    allow: {merge_with: [x]}\n",
    "top level list": "- id: 1\n",
}


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_schema_and_loader_both_reject(write: Write, text: str) -> None:
    assert list(STATE.iter_errors(yaml.safe_load(text))) != []
    assert collect([write("bad.yaml", text)]).problems != []


def schema_accepts(data: Any) -> bool:
    """Whether the state schema accepts ``data``."""
    return bool(STATE.is_valid(data))  # jsonschema is untyped: its answer is Any


@pytest.mark.parametrize("name", ["bad.yaml"])
def test_config_schema_rejects_unknown_keys_with_position(write: Write, name: str) -> None:
    from reconciler.errors import ConfigError

    path = write(name, "api:\n  url: sandbox\n  token: abc\n")
    with pytest.raises(ConfigError, match=r"^bad.yaml:3:3: unknown key 'token' in api"):
        load_config(path)
    assert list(CONFIG.iter_errors({"api": {"token": "abc"}})) != []


def test_missing_config_means_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "reconciler.yaml")
    assert config.state_dir == "state" and config.root == tmp_path and config.api.is_sandbox
