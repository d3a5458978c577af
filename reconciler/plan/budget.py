"""Safety budgets (DESIGN.md 3, 4.3): how much a plan may remove before it needs ``--force``.

Removals are identifier removes plus card delinks. ``max_removals`` is absolute. ``max_removal_ratio``
is the share of the live items the plan's customers own (managed identifiers in declared profiles, held
cards when cards are owned); like octoDNS's update threshold it applies only when at least
``ratio_applies_from`` such items exist, since a ratio of a handful is noise. ``--force`` lets budgets
pass; it never lets a merge or a conflict pass.
"""

from __future__ import annotations

from reconciler.config import SafetyConfig
from reconciler.plan.model import Budget


def evaluate_budgets(
    removals: int, live_managed: int, safety: SafetyConfig, *, force: bool
) -> tuple[Budget, ...]:
    """Both budgets for a plan removing ``removals`` of ``live_managed`` live items."""
    over = removals > safety.max_removals
    absolute = Budget("safety.max_removals", safety.max_removals, removals, True, over, over and force)
    ratio = removals / live_managed if live_managed else 0.0
    applies = live_managed >= safety.ratio_applies_from
    over_ratio = applies and ratio > safety.max_removal_ratio
    relative = Budget(
        "safety.max_removal_ratio",
        safety.max_removal_ratio,
        round(ratio, 4),
        applies,
        over_ratio,
        over_ratio and force,
    )
    return absolute, relative
