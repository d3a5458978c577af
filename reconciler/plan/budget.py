"""Safety budgets (docs/architecture.md 4.5): how much a plan may remove before it needs ``--force``.

Removals are identifier removes plus card delinks that lose something: a remove paired with an add of the
same type in the same profile (a changed mobile) or a delink paired with a link on the same customer (a
replaced card) is an update, and a release for a move keeps the value under management, so neither counts.
Otherwise a pull request that changes ten mobiles would read as a mass deletion.

``max_removals`` is absolute. ``max_removal_ratio`` is the share of the live items the plan's customers own
(managed identifiers in declared profiles, held cards when cards are owned); like octoDNS's update threshold
it applies only when at least ``ratio_applies_from`` such items exist, since a ratio of a handful is noise.
``max_calls`` is the most API calls the apply may spend, as the plan states them (``cost.py``): the org's
quota is shared with the integrations that run the business. ``--force`` lets budgets pass; it never
lets a merge or a conflict pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from reconciler.config import SafetyConfig
from reconciler.plan.diff import ADD, DELINK, LINK, REMOVE
from reconciler.plan.document import Action, Budget


def count_removals(actions: Sequence[Action]) -> int:
    """Removes and delinks that are neither part of a replacement nor a release for a move."""
    adds = Counter((a.customer_id, a.profile, a.type) for a in actions if a.kind == ADD)
    links = Counter(a.customer_id for a in actions if a.kind == LINK)
    lost = 0
    for a in actions:
        if a.releases_to is not None:
            continue
        if a.kind == REMOVE and adds[(a.customer_id, a.profile, a.type)]:
            adds[(a.customer_id, a.profile, a.type)] -= 1
        elif a.kind == DELINK and links[a.customer_id]:
            links[a.customer_id] -= 1
        elif a.kind in (REMOVE, DELINK):
            lost += 1
    return lost


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


def calls_budget(calls: int, max_calls: int, *, force: bool) -> Budget:
    """``safety.max_calls`` for a plan whose apply spends ``calls``."""
    over = calls > max_calls
    return Budget("safety.max_calls", max_calls, calls, True, over, over and force)
