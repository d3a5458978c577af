"""The checksum: stable across processes for the same inputs; it covers the machine data apply executes and
the live facts it depends on, and nothing written for people (docs/architecture.md 4.7)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from reconciler.config import ApiConfig, Config
from reconciler.mask import MASK_KEY_ENV, choose_mask_key, mask_value, use_mask_key
from reconciler.model import ProfileKey
from reconciler.plan import Action, Budget, Call, CallItem, CustomerPlan, Plan, checksum_of
from tests.unit.factory import fixed_plan

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = "bd180778b290a2ede4b328f6afe4391a17592fd9d30ba66b140adedf24a6334a"


@pytest.fixture(autouse=True)
def _default_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASK_KEY_ENV, raising=False)
    choose_mask_key(sandbox=True)  # the embedded sandbox's fixed key, as the golden files were made


def test_checksum_is_stable_in_a_fresh_process() -> None:
    code = (
        "from reconciler.mask import choose_mask_key; choose_mask_key(sandbox=True); "
        "from tests.unit.factory import fixed_plan; print(fixed_plan().checksum)"
    )
    env = {k: v for k, v in os.environ.items() if k != MASK_KEY_ENV}
    env["PYTHONHASHSEED"] = "12345"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == fixed_plan().checksum == EXPECTED


def test_checksum_ignores_file_locations() -> None:
    assert fixed_plan(line=100).checksum == fixed_plan().checksum


def test_checksum_changes_when_an_action_or_the_target_changes() -> None:
    base = fixed_plan().checksum
    assert fixed_plan(mobile="919000000003").checksum != base
    real = Config(api=ApiConfig(url="https://eu.api.capillarytech.com"))
    assert fixed_plan(config=real).checksum != base


def _reworded(text: str) -> str:
    return f"in other words: {text[::-1]}" if text else text


def test_rewording_every_human_message_leaves_the_checksum_unchanged() -> None:
    plan = fixed_plan(hard=True)
    assert any(a.blocked for a in plan.actions) and any(c.error for c in plan.customers)
    reworded = dataclasses.replace(
        plan,
        target="another way to name the same target",
        actions=tuple(dataclasses.replace(a, reason=_reworded(a.reason)) for a in plan.actions),
        customers=tuple(dataclasses.replace(c, error=_reworded(c.error)) for c in plan.customers),
    )
    assert reworded.to_dict() != plan.to_dict()  # the words did change
    assert reworded.checksum == plan.checksum


def test_a_live_fact_the_plan_depends_on_changes_the_checksum() -> None:
    # GOLD1's status change is the same action either way; only the live label it starts from differs
    # (the API refuses some transitions: a reviewer approved a change from ACTIVE, not from SUSPENDED).
    base, moved = fixed_plan(), fixed_plan(gold_label="SUSPENDED")
    kinds = [(a.kind, a.value, a.label) for a in base.actions]
    assert kinds == [(a.kind, a.value, a.label) for a in moved.actions]
    assert moved.checksum != base.checksum


STR_OR_NONE = {"value", "label", "series_code", "generated_by"}


def _other(value: Any, name: str = "") -> Any:
    """A different value of the same kind, for every field type a plan's records hold."""
    if value is None and name == "card":
        return CallItem("cardnumber", "GOLD77", series_id=121212)
    if value is None and name == "profile":
        return ProfileKey("INSTORE")
    if value == () and name in ("add", "remove"):
        return (CallItem("mobile", "919000000077"),)
    if isinstance(value, bool):
        return not value
    if isinstance(value, Enum):
        return next(m for m in type(value) if m != value)
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, ProfileKey):
        return ProfileKey("WECHAT", "other")
    if isinstance(value, tuple) and value and isinstance(value[0], CallItem):
        return value[1:]
    if isinstance(value, tuple):
        return (*value[1:], "zz") if value and isinstance(value[0], str) else value[1:] or ("zz",)
    if value is None:
        return "zz" if name in STR_OR_NONE else 99
    raise AssertionError(f"no other value for {value!r}")


HUMAN = {Action: {"reason", "loc"}, CustomerPlan: {"error", "loc"}}


def _variants(record: Any) -> list[tuple[str, Any]]:
    """``record`` with each machine field changed in turn; a CallItem is changed inside its call."""
    out = []
    for f in dataclasses.fields(record):
        if f.name in HUMAN.get(type(record), ()):
            continue
        value = getattr(record, f.name)
        if isinstance(value, CallItem) or (
            isinstance(value, tuple) and value and isinstance(value[0], CallItem)
        ):
            items = value if isinstance(value, tuple) else (value,)
            for item_name, item in _variants(items[0]):
                changed = (item, *items[1:]) if isinstance(value, tuple) else item
                out.append((f"{f.name}[0].{item_name}", dataclasses.replace(record, **{f.name: changed})))
            continue
        out.append((f.name, dataclasses.replace(record, **{f.name: _other(value, f.name)})))
    return out


def _every_machine_change(plan: Plan) -> list[tuple[str, Plan]]:
    out = []
    for group, cls in (
        ("actions", Action),
        ("calls", Call),
        ("customers", CustomerPlan),
        ("budgets", Budget),
    ):
        records = getattr(plan, group)
        assert records and all(isinstance(r, cls) for r in records)
        for n, record in enumerate(records):
            for name, changed in _variants(record):
                swapped: Any = (*records[:n], changed, *records[n + 1 :])
                out.append((f"{group}[{n}].{name}", dataclasses.replace(plan, **{group: swapped})))
    for name in ("target_key", "force", "selected", "unmanaged"):
        out.append((name, dataclasses.replace(plan, **{name: _other(getattr(plan, name))})))
    return out


def _executed(plan: Plan) -> str:
    """What apply would do with ``plan`` and what it checks first, written without ``checksum_of``: every
    request as sent (a generated number stands for its generate call's answer), every action's and
    budget's machine fields, each customer's facts and whether it is blocked, the target and scope."""
    generated = {c.id: f"answer-of-{c.id}" for c in plan.calls}
    data = {
        "requests": [
            (c.customer_id, c.op, c.method, c.path, c.query, c.body(generated), c.after, c.actions)
            for c in plan.calls
        ],
        "actions": [{**dataclasses.asdict(a), "reason": None, "loc": None} for a in plan.actions],
        "customers": [(c.id, c.facts, bool(c.error)) for c in plan.customers],
        "budgets": [dataclasses.asdict(b) for b in plan.budgets],
        "plan": (plan.target_key, plan.force, plan.selected, plan.unmanaged),
    }
    return json.dumps(data, sort_keys=True, default=str)


def test_changing_any_executed_value_or_live_fact_changes_the_checksum() -> None:
    plan = fixed_plan(hard=True)
    changes = _every_machine_change(plan)
    effective = [(name, changed) for name, changed in changes if _executed(changed) != _executed(plan)]
    assert len(effective) > 150  # every field of every action, call, item, customer and budget
    assert [name for name, changed in effective if changed.checksum == plan.checksum] == []


def test_checksum_of_json_read_back_matches_with_the_value_bindings() -> None:
    plan = fixed_plan()
    assert checksum_of({**plan.to_dict(), "checksum": "x"}, plan.value_bindings) == plan.checksum
    # the JSON plan alone cannot reproduce it: raw values are bound only through keyed HMACs never shown
    assert checksum_of(plan.to_dict()) != plan.checksum
    assert not any(b[2] in json.dumps(plan.to_dict()) for b in plan.value_bindings)


def _lookalike_mobiles() -> tuple[str, str]:
    """Two mobiles with one masked form (same shape, same 24-bit hash): a birthday search, ~5,000 HMACs."""
    seen: dict[str, str] = {}
    for n in range(1 << 20):
        mobile = f"91{n:08d}02"
        twin = seen.setdefault(mask_value("mobile", mobile), mobile)
        if twin != mobile:
            return twin, mobile
    raise AssertionError("no lookalike found")


def test_checksum_binds_raw_values_not_their_masked_form() -> None:
    first, second = _lookalike_mobiles()
    base, lookalike = fixed_plan(mobile=first), fixed_plan(mobile=second)
    assert lookalike.to_dict() == base.to_dict()  # what a reviewer sees is identical
    assert lookalike.checksum != base.checksum


def test_checksum_depends_on_the_mask_key(monkeypatch: pytest.MonkeyPatch) -> None:
    base = fixed_plan().checksum
    use_mask_key(None)
    monkeypatch.setenv(MASK_KEY_ENV, "another-key-of-enough-bytes")
    assert fixed_plan().checksum != base


def test_the_target_key_is_the_url_without_credentials_and_the_lock_names_the_same_target() -> None:
    from reconciler.commands.apply import lock_key
    from reconciler.config import ApiConfig, Config
    from reconciler.plan import target_key

    def config(url: str) -> Config:
        return Config(api=ApiConfig(url=url))

    assert target_key(config("https://eu.api.capillarytech.com")) == "https://eu.api.capillarytech.com:443"
    assert target_key(config("https://till:secret@EU.api.capillarytech.com/")) == target_key(
        config("https://eu.api.capillarytech.com")
    )
    assert target_key(config("https://eu.api.capillarytech.com")) != target_key(
        config("https://us.api.example.com")
    )
    assert target_key(Config()) == "sandbox"
    real = config("https://eu.api.capillarytech.com")
    assert lock_key(real) == target_key(real) and lock_key(Config()).startswith("sandbox:")
