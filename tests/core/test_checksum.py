"""The checksum: stable across processes for the same inputs; changes when any action changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.mask import MASK_KEY_ENV, choose_mask_key, mask_value, use_mask_key
from reconciler.model import Identifier
from reconciler.plan import Plan, checksum_of
from tests.core.factory import card, desired, holder, live, make_plan, spec

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = "3f224b98dec0352c70b4d6d6709fa144ba527ba5e06ae8161f2e5d15d3632ab1"


def fixed_plan(
    line: int = 1, mobile: str = "919000000002", target: str = "embedded sandbox (demo data)"
) -> Plan:
    """A plan touching every action kind, built from fixed inputs."""
    cards = [spec(121212, "GOLD1", status="CARD BLOCKED"), spec(121212, "GOLD2"), spec("DIGI01")]
    d = desired(1, {"INSTORE": {"mobile": mobile, "email": "tom@example.com"}}, line=line, cards=cards)
    lv_ids = {"INSTORE": {"mobile": "919000000001", "email": "tom@example.com"}}
    lv = live(1, lv_ids, cards=[card("GOLD1", 1), card("GOLD9", 1)])
    other = desired(2, {"INSTORE": {"externalId": "EXT-1"}}, line=line + 40)
    holders = {Identifier("externalId", "EXT-1"): holder(3)}
    return make_plan([d, other], {1: lv, 2: live(2)}, holders=holders, target=target)


@pytest.fixture(autouse=True)
def _default_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MASK_KEY_ENV, raising=False)
    choose_mask_key(sandbox=True)  # the embedded sandbox's fixed key, as the golden files were made


def test_checksum_is_stable_in_a_fresh_process() -> None:
    code = (
        "from reconciler.mask import choose_mask_key; choose_mask_key(sandbox=True); "
        "from tests.core.test_checksum import fixed_plan; print(fixed_plan().checksum)"
    )
    env = {k: v for k, v in os.environ.items() if k != MASK_KEY_ENV}
    env["PYTHONHASHSEED"] = "12345"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == fixed_plan().checksum == EXPECTED


def test_checksum_ignores_file_locations() -> None:
    assert fixed_plan(line=100).checksum == fixed_plan().checksum


def test_checksum_changes_when_an_action_or_target_changes() -> None:
    base = fixed_plan().checksum
    assert fixed_plan(mobile="919000000003").checksum != base
    assert fixed_plan(target="eu.api.capillarytech.com (org 7)").checksum != base


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
