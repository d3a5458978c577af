"""The Plan: everything ``plan`` shows and ``apply`` runs, its ``to_dict`` and its checksum.

Its parts (actions, calls, budgets, customers) are in ``reconciler.plan.parts``; every name of it is
importable from here too.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from reconciler.mask import value_binding
from reconciler.model import Observed
from reconciler.plan.parts import (
    BLOCKED,
    CARD_NUMBER,
    CHANGE_IDENTIFIER,
    CONFLICT,
    CREATE_CARD,
    GENERATE_CARD,
    GENERATED,
    MERGE,
    MOVE,
    PLAIN,
    RISKS,
    STATUS_REASON,
    UPDATE_CARD,
    Action,
    Budget,
    Call,
    CallItem,
    CustomerPlan,
    Op,
    Risk,
)

if TYPE_CHECKING:
    from reconciler.plan.cost import Cost

__all__ = [
    "BLOCKED",
    "CARD_NUMBER",
    "CHANGE_IDENTIFIER",
    "CONFLICT",
    "CREATE_CARD",
    "FORMAT_VERSION",
    "GENERATED",
    "GENERATE_CARD",
    "MERGE",
    "MOVE",
    "PLAIN",
    "RISKS",
    "STATUS_REASON",
    "UPDATE_CARD",
    "Action",
    "Budget",
    "Call",
    "CallItem",
    "CustomerPlan",
    "Op",
    "Plan",
    "Risk",
    "checksum_of",
]

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Plan:
    """Everything ``plan`` shows and ``apply`` runs. Data only; renderers live in ``reconciler.render``."""

    target: str  # the target line every output starts with (display only; not in the checksum)
    actions: tuple[Action, ...]
    calls: tuple[Call, ...]
    customers: tuple[CustomerPlan, ...]  # only customers with actions or a blocking reason
    budgets: tuple[Budget, ...]
    unmanaged: tuple[int, ...]
    customers_in_scope: int
    force: bool = False
    selected: tuple[int, ...] = ()  # --customer ids: in the checksum, so the plan applies only to them
    target_key: str = ""  # the target's identity ("sandbox", or the API host): in the checksum
    # What the plan read (model.Observed), kept for the simulated apply; never in to_dict or the checksum.
    observed: Observed | None = field(default=None, compare=False, repr=False)
    # What its apply will spend (plan/cost.py); shown, not in the checksum (safety.max_calls binds it)
    cost: Cost | None = field(default=None, compare=False)

    @property
    def blocked(self) -> bool:
        """True when any action is blocked or a budget is exceeded and not forced."""
        return any(a.blocked for a in self.actions) or any(b.blocks for b in self.budgets)

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    @cached_property
    def kind_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(a.kind for a in self.actions).items()))

    @cached_property
    def risk_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(a.risk for a in self.actions).items()))

    @property
    def blocked_actions(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.blocked)

    @cached_property
    def facts(self) -> dict[int, str]:
        """Customer id -> live-facts digest, for every customer with actions."""
        return {c.id: c.facts for c in self.customers}

    def to_dict(self) -> dict[str, Any]:
        """Canonical, masked, JSON-ready form (``format_version`` 1); no raw value ever appears."""
        return {
            "format_version": FORMAT_VERSION,
            "target": self.target,
            "target_key": self.target_key,
            "blocked": self.blocked,
            "has_changes": self.has_changes,
            "force": self.force,
            "summary": {
                "customers_in_scope": self.customers_in_scope,
                "customers_changed": len({a.customer_id for a in self.actions}),
                "actions": self.kind_counts,
                "risks": self.risk_counts,
                "calls": len(self.calls),
            },
            "budgets": [b.to_dict() for b in self.budgets],
            "customers": [
                {"id": c.id, "facts": c.facts, "error": c.error, "loc": str(c.loc) if c.loc else None}
                for c in self.customers
            ],
            "actions": [a.to_dict() for a in self.actions],
            "calls": [c.to_dict() for c in self.calls],
            "unmanaged": list(self.unmanaged),
            **({"cost": self.cost.to_dict()} if self.cost is not None else {}),
        } | ({"scope": {"customers": list(self.selected)}} if self.selected else {})

    @cached_property
    def checksum(self) -> str:
        """sha256 of what apply executes and the live facts it depends on (``checksum_of``), plus
        ``value_bindings`` (masked values are 24-bit: a lookalike value must not pass as the reviewed one)."""
        return checksum_of(self.to_dict(), self.value_bindings)

    @cached_property
    def value_bindings(self) -> list[list[str]]:
        """A full-length keyed HMAC of every raw value an action names or a call sends, in plan order.

        Part of the checksum only: never displayed, never in the JSON plan.
        """
        actions = [["", a.id, value_binding(a.type, a.value)] for a in self.actions if a.value is not None]
        items = [
            [c.id, str(n), value_binding(item.type, item.value)]
            for c in self.calls
            for n, item in enumerate(c.items)
            if item.value is not None
        ]
        return actions + items


# What the checksum leaves out of ``to_dict``: words for people (a reason, a customer's error, the target
# line), where a declaration sits, and what is derived from the rest (counts, masked forms of values that
# the value bindings bind in full). Rewording a message, moving a customer in its file or changing how a
# value is masked leaves every open pull request's plan valid; docs/architecture.md 4.7.
_HUMAN_ACTION_FIELDS = frozenset({"reason", "loc", "value"})


def checksum_of(plan_dict: Mapping[str, Any], bindings: Sequence[Sequence[str]] = ()) -> str:
    """The checksum of a plan dict (as ``Plan.to_dict``) and its value bindings: its machine data only.

    Covered: the target's identity, ``force`` and the ``--customer`` scope, each budget, each customer's
    live-facts digest and whether it is blocked, every action's kind, profile, type, series, label, risk,
    blocked flag, holder and dependencies, every call as sent (method, path, query, and the body
    ``Call.body`` sends, key for key: each value bound by its keyed HMAC in place of its masked form, a
    generated card's number by the placeholder naming its generate call), and the unmanaged ids.
    """
    data = {
        "format_version": plan_dict.get("format_version"),
        "target_key": plan_dict.get("target_key", ""),
        "force": plan_dict.get("force", False),
        "scope": plan_dict.get("scope"),
        "budgets": plan_dict.get("budgets", []),
        "customers": [
            {"id": c["id"], "facts": c["facts"], "blocked": bool(c["error"])}
            for c in plan_dict.get("customers", [])
        ],
        "actions": [
            {k: v for k, v in a.items() if k not in _HUMAN_ACTION_FIELDS}
            for a in plan_dict.get("actions", [])
        ],
        "calls": [_machine_call(c) for c in plan_dict.get("calls", [])],
        "unmanaged": plan_dict.get("unmanaged", []),
        "value_bindings": [list(b) for b in bindings],
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _machine_call(call: Mapping[str, Any]) -> dict[str, Any]:
    """A call's dict without the masked forms of its values (the value bindings bind them in full); a
    generated card's placeholder (``${cN.cardNumber}``) stays: it names the call whose answer is sent."""

    def unmasked(item: Mapping[str, Any]) -> dict[str, Any]:
        return {
            k: v
            for k, v in item.items()
            if k not in ("value", "cardNumber") or (isinstance(v, str) and v.startswith("${"))
        }

    body = call.get("body", {})
    if "add" in body or "remove" in body:
        body = {part: [unmasked(i) for i in body.get(part, [])] for part in ("add", "remove")}
    else:
        body = unmasked(body)
    return {**call, "body": body}
