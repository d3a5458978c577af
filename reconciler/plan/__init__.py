"""The plan: what would change, how risky each change is, and the exact API calls apply will make.

Two phases, so ``live.py`` reads holders only for what the diff adds::

    changes = compute_changes(desired, live, config)          # reconciler.plan.diff
    idents, cards = holders_needed(changes)                   # look these up (None = nobody)
    observed = Observed(live, holders, card_holders, series, labels, sources)  # reconciler.model
    plan = build_plan(changes, observed, config, all_declared, target=describe_target(config, org))

``plan.blocked``/``plan.has_changes`` choose the exit code, ``plan.checksum`` binds apply to the review,
``plan.calls`` (ordered, with ``after`` dependencies) is what apply sends, ``plan.facts[customer_id]`` is
compared with ``live_facts(...)`` before a customer's writes. Renderers are in ``reconciler.render``.
"""

from __future__ import annotations

from reconciler.plan.budget import evaluate_budgets
from reconciler.plan.build import SANDBOX_TARGET, build_plan, describe_target, target_key
from reconciler.plan.document import (
    BLOCKED,
    CARD_NUMBER,
    CHANGE_IDENTIFIER,
    CONFLICT,
    CREATE_CARD,
    FORMAT_VERSION,
    GENERATE_CARD,
    MERGE,
    MOVE,
    PLAIN,
    RISKS,
    UPDATE_CARD,
    Action,
    Budget,
    Call,
    CallItem,
    CustomerPlan,
    Op,
    Plan,
    Risk,
    checksum_of,
)

__all__ = [
    "BLOCKED",
    "CARD_NUMBER",
    "CHANGE_IDENTIFIER",
    "CONFLICT",
    "CREATE_CARD",
    "FORMAT_VERSION",
    "GENERATE_CARD",
    "MERGE",
    "MOVE",
    "PLAIN",
    "RISKS",
    "SANDBOX_TARGET",
    "UPDATE_CARD",
    "Action",
    "Budget",
    "Call",
    "CallItem",
    "CustomerPlan",
    "Op",
    "Plan",
    "Risk",
    "build_plan",
    "checksum_of",
    "describe_target",
    "evaluate_budgets",
    "target_key",
]
