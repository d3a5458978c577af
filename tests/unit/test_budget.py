"""Safety budgets: blocked with the budget named; --force lets budgets pass, never merges."""

from __future__ import annotations

from reconciler.config import Config, SafetyConfig
from reconciler.model import DesiredCustomer, Identifier, LiveCustomer
from tests.unit.factory import desired, holder, live, make_plan


def many_removals(n: int, keep: int = 0) -> tuple[list[DesiredCustomer], dict[int, LiveCustomer]]:
    emails = [f"e{i}@example.com" for i in range(n + keep)]
    d = desired(1, {"INSTORE": {"email": emails[n:]}})
    return [d], {1: live(1, {"INSTORE": {"email": emails}})}


def test_absolute_budget_blocks_and_is_named() -> None:
    declared, lives = many_removals(3, keep=100)
    cfg = Config(safety=SafetyConfig(max_removals=2))
    plan = make_plan(declared, lives, config=cfg)
    assert plan.blocked and not any(a.blocked for a in plan.actions)
    [over] = [b for b in plan.budgets if b.blocks]
    assert over.name == "safety.max_removals" and over.actual == 3
    assert "safety.max_removals" in plan.to_dict()["budgets"][0]["name"]


def test_ratio_budget_applies_only_from_enough_live_items() -> None:
    declared, lives = many_removals(4, keep=6)  # 4 of 10 = 0.4 > 0.3
    plan = make_plan(declared, lives)
    assert [b.name for b in plan.budgets if b.blocks] == ["safety.max_removal_ratio"]
    declared, lives = many_removals(4, keep=5)  # 9 live items: ratio not applied
    assert not make_plan(declared, lives).blocked


def test_force_passes_budgets() -> None:
    declared, lives = many_removals(60)
    plan = make_plan(declared, lives, force=True)
    assert not plan.blocked
    assert all(b.forced for b in plan.budgets if b.exceeded)
    assert "overridden by --force" in plan.budgets[0].describe()


def test_force_passes_budgets_but_not_a_merge() -> None:
    d = desired(1, {"INSTORE": {"email": [], "mobile": "919000000001"}})
    lv = live(1, {"INSTORE": {"email": [f"e{i}@example.com" for i in range(60)]}})
    plan = make_plan(
        [d], {1: lv}, holders={Identifier("mobile", "919000000001"): holder(7, "LINE:x")}, force=True
    )
    assert plan.blocked and not any(b.blocks for b in plan.budgets)


def test_a_changed_value_is_an_update_not_a_removal() -> None:
    """Ten customers each changing a mobile remove nothing: such a PR must not look like mass deletion."""
    declared = [desired(i, {"INSTORE": {"mobile": f"91900000{i:04d}"}}) for i in range(1, 11)]
    lives = {i: live(i, {"INSTORE": {"mobile": f"91800000{i:04d}"}}) for i in range(1, 11)}
    plan = make_plan(declared, lives, config=Config(safety=SafetyConfig(max_removals=0)))
    assert sum(a.kind == "remove" for a in plan.actions) == 10
    assert [b.actual for b in plan.budgets] == [0, 0.0] and not plan.blocked
    dropped = make_plan(
        [desired(1, {"INSTORE": {}})], {1: lives[1]}, config=Config(safety=SafetyConfig(max_removals=0))
    )
    assert dropped.blocked and dropped.budgets[0].actual == 1
