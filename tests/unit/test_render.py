"""Renderers: target first, masking everywhere shared, bounded Markdown, schema-valid JSON, golden files."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

import reconciler
from reconciler.mask import MASK_KEY_ENV, choose_mask_key, mask_value
from reconciler.model import Identifier
from reconciler.plan import Plan
from reconciler.render import render_json, render_markdown, render_text
from tests.unit.factory import card, desired, fixed_plan, holder, live, make_plan, spec

GOLDEN = Path(__file__).parent / "golden"
SCHEMA = json.loads((Path(reconciler.__file__).parent / "schemas" / "plan.schema.json").read_text())


@pytest.fixture(autouse=True)
def _default_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASK_KEY_ENV, raising=False)
    choose_mask_key(sandbox=True)  # the embedded sandbox's fixed key, as the golden files were made


def big_plan(n: int) -> tuple[Plan, set[str]]:
    """``n`` customers each changing a mobile and an email and linking a card; some blocked."""
    declared, lives, holders, values = [], {}, {}, set()
    for i in range(n):
        cid = 100_000 + i
        mobile, old, email = f"9198{i:08d}", f"9197{i:08d}", f"person.{i}@example.com"
        number = f"CARD{i:08d}"
        declared.append(
            desired(cid, {"INSTORE": {"mobile": mobile, "email": email}}, cards=[spec(121212, number)])
        )
        lives[cid] = live(cid, {"INSTORE": {"mobile": old, "email": f"old.{i}@example.com"}})
        if i % 50 == 0:
            holders[Identifier("mobile", mobile)] = holder(cid + 1_000_000)  # a conflict
        values |= {mobile, old, email, f"old.{i}@example.com", number}
    return make_plan(declared, lives, holders=holders, force=True), values


@pytest.mark.slow
def test_markdown_of_5000_customers_stays_under_limit_with_full_summary() -> None:
    plan, _ = big_plan(5000)
    text = render_markdown(plan)
    assert len(text) < 60_000
    assert text.startswith("### Reconciler plan for **embedded sandbox (demo data)**")
    assert f"| add | {plan.kind_counts['add']} |" in text and "| risk: conflict | 100 |" in text
    assert "**Blocked (100):**" in text and "… and 60 more blocked actions" in text
    assert "more customers omitted" in text
    assert text.rstrip().endswith(f"<!-- reconciler-plan checksum={plan.checksum} -->")
    assert f"Checksum: `{plan.checksum}`" in text


@pytest.mark.slow
def test_no_raw_value_in_json_or_markdown() -> None:
    plan, values = big_plan(300)
    for output in (render_json(plan), render_markdown(plan, limit=10_000_000)):
        found = [v for v in values if v in output]
        assert not found, found[:5]
    text = render_text(plan, show_values=False)
    assert not [v for v in values if v in text]
    shown = render_text(plan, show_values=True)
    assert all(v in shown for v in values)


def test_json_is_valid_against_schema_and_names_target_first() -> None:
    plan = fixed_plan()
    doc = json.loads(render_json(plan))
    jsonschema.validate(doc, SCHEMA)
    assert next(iter(doc)) == "format_version" and list(doc)[1] == "target"
    assert doc["checksum"] == plan.checksum
    big, _ = big_plan(20)
    jsonschema.validate(json.loads(render_json(big)), SCHEMA)


def test_every_output_names_target_first() -> None:
    plan = fixed_plan(target="eu.api.capillarytech.com (org 42)")
    assert render_text(plan).startswith("Target: eu.api.capillarytech.com (org 42)\n")
    assert render_markdown(plan).startswith("### Reconciler plan for **eu.api.capillarytech.com (org 42)**")


def test_text_color_only_when_asked() -> None:
    plan = fixed_plan()
    assert "\033[" not in render_text(plan, color=False)
    assert "\033[32m" in render_text(plan, color=True)


@pytest.mark.parametrize(
    ("type_", "value", "shape"),
    [
        ("mobile", "919876543210", "91******10#"),
        ("email", "tom.sawyer@example.com", "t***@example.com#"),
        ("cardnumber", "GOLD0000001234", "…1234#"),
        ("externalId", "EXT-99887", "E***7#"),
        ("wechat", "abc", "***#"),
    ],
    ids=["mobile", "email", "card", "externalId", "short"],
)
def test_mask_shapes_and_equal_values_look_equal(type_: str, value: str, shape: str) -> None:
    masked = mask_value(type_, value)
    assert masked.startswith(shape) and re.fullmatch(r".*#[0-9a-f]{6}", masked)
    assert masked == mask_value(type_, value) != mask_value(type_, value + "0")


@pytest.mark.parametrize(("name", "render"), [("plan.txt", render_text), ("plan.md", render_markdown)])
def test_golden_output(name: str, render: Callable[[Plan], str]) -> None:
    plan = fixed_plan()
    moved = make_plan(
        [desired(1, {"INSTORE": {}}, cards=[spec(121212, "GOLD7")]), desired(2, {"INSTORE": {}}, cards=[])],
        {1: live(1), 2: live(2, cards=[card("GOLD7", 2)])},
        card_holders={"GOLD7": card("GOLD7", 2)},
        unmanaged=[5],
    )
    text = render(plan) + "\n----\n" + render(moved)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()
