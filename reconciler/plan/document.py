"""The plan's value types: actions, API calls, budgets, and the Plan with its ``to_dict`` and checksum."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from reconciler.mask import mask_value, value_binding
from reconciler.model import Location, Observed, ProfileKey
from reconciler.plan.diff import Kind

if TYPE_CHECKING:
    from reconciler.plan.cost import Cost

FORMAT_VERSION = 1


class Risk(StrEnum):
    """How dangerous an action is: what the API would do beyond the change itself."""

    PLAIN = "plain"
    MOVE = "move"
    CONFLICT = "conflict"
    MERGE = "merge"
    BLOCKED = "blocked"


class Op(StrEnum):
    """The API operation a call makes."""

    CHANGE_IDENTIFIER = "changeIdentifier"
    CREATE_CARD = "createCard"
    GENERATE_CARD = "generateCard"
    UPDATE_CARD = "updateCard"


PLAIN, MOVE, CONFLICT, MERGE, BLOCKED = Risk
RISKS = tuple(Risk)
GENERATED = "(generated at apply)"


@dataclass(frozen=True, slots=True)
class Action:
    """One change to one customer, with its risk and, if it cannot run, why (``blocked``)."""

    id: str  # "a1", "a2", ... in plan order
    customer_id: int
    kind: Kind
    profile: ProfileKey
    type: str  # identifier type, or "cardnumber"
    value: str | None  # raw value; None for a generated card (known only at apply time)
    risk: Risk
    blocked: bool
    reason: str  # never contains a raw value
    loc: Location | None  # the declaration; None for removals of undeclared values
    series: int | str | None = None  # cards: seriesId when known, else the declared id/code
    label: str | None = None  # cards: status label
    holder: int | None = None  # the customer that holds the value now (move/conflict/merge)
    depends_on: tuple[str, ...] = ()  # action ids that must run first (release, create, generate)
    releases_to: int | None = None  # a remove/delink that frees the value for this customer's move

    @property
    def masked(self) -> str:
        """The value as every shared output shows it."""
        return GENERATED if self.value is None else mask_value(self.type, self.value)

    def to_dict(self) -> dict[str, Any]:
        """Masked, JSON-ready form."""
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "kind": self.kind,
            "profile": str(self.profile),
            "type": self.type,
            "value": self.masked,
            "series": self.series,
            "label": self.label,
            "risk": self.risk,
            "blocked": self.blocked,
            "reason": self.reason,
            "holder": self.holder,
            "depends_on": list(self.depends_on),
            "releases_to": self.releases_to,
            "loc": str(self.loc) if self.loc else None,
        }


@dataclass(frozen=True, slots=True)
class CallItem:
    """An identifier or card in a call body. ``value`` None: the card number a generate call returns."""

    type: str
    value: str | None
    series_id: int | None = None
    series_code: str | None = None
    label: str | None = None
    generated_by: str | None = None  # the id of the generate call whose result is the value

    def raw(self, generated: Mapping[str, str]) -> str:
        """The raw value; a generated card's number is looked up by its generate call's id."""
        return self.value if self.value is not None else generated.get(self.generated_by or "", "")

    def body(self, generated: Mapping[str, str], *, card_key: str = "value") -> dict[str, Any]:
        """Raw JSON form."""
        return self._shape(self.raw(generated), card_key)

    def masked(self, *, card_key: str = "value") -> dict[str, Any]:
        """Masked JSON form; a generated value is shown as ``${cN.cardNumber}``."""
        shown = (
            f"${{{self.generated_by}.cardNumber}}"
            if self.value is None
            else mask_value(self.type, self.value)
        )
        return self._shape(shown, card_key)

    def _shape(self, value: str, card_key: str) -> dict[str, Any]:
        out: dict[str, Any] = (
            {"type": self.type, card_key: value} if card_key == "value" else {card_key: value}
        )
        if self.series_id is not None:
            out["seriesId"] = self.series_id
        elif self.series_code is not None:
            out["seriesCode"] = self.series_code
        if self.label is not None:
            out["statusLabel"] = self.label
        return out


CHANGE_IDENTIFIER, CREATE_CARD, GENERATE_CARD, UPDATE_CARD = Op
# The endpoint of each card operation; a changeIdentifier names its customer in its path.
_CARD_ENDPOINTS = {
    CREATE_CARD: ("POST", "/v2/card"),
    GENERATE_CARD: ("POST", "/v2/card/generate"),
    UPDATE_CARD: ("PUT", "/v2/card"),
}
STATUS_REASON = "reconciler apply"  # the statusInfo reason a status change gives


@dataclass(frozen=True, slots=True)
class Call:
    """One API write apply will send: the one description of the request (method, path, query, body).

    Runs after every call in ``after``; ``actions`` it performs. A ``changeIdentifier`` changes ``profile``
    (its query names it); the card operations take one ``card``.
    """

    id: str  # "c1", "c2", ... in execution order
    customer_id: int
    op: Op
    after: tuple[str, ...]
    actions: tuple[str, ...]
    profile: ProfileKey | None = None  # changeIdentifier only
    add: tuple[CallItem, ...] = ()
    remove: tuple[CallItem, ...] = ()
    card: CallItem | None = None  # createCard / generateCard / updateCard

    @property
    def items(self) -> tuple[CallItem, ...]:
        """Every value the call names: its adds, its removes, its card."""
        return (*self.add, *self.remove, *((self.card,) if self.card else ()))

    @property
    def method(self) -> str:
        return _CARD_ENDPOINTS[self.op][0] if self.op in _CARD_ENDPOINTS else "POST"

    @property
    def path(self) -> str:
        if self.op in _CARD_ENDPOINTS:
            return _CARD_ENDPOINTS[self.op][1]
        return f"/v2/customers/{self.customer_id}/changeIdentifier"

    @property
    def query(self) -> tuple[tuple[str, str], ...]:
        """``source`` (and ``accountId``) of a changeIdentifier's profile; nothing for a card operation."""
        if self.op != CHANGE_IDENTIFIER or self.profile is None:
            return ()
        account = (("accountId", self.profile.account_id),) if self.profile.account_id else ()
        return (("source", self.profile.source), *account)

    def body(self, generated: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The raw JSON body sent; ``generated`` maps generate call ids to the card numbers they returned.

        A generate asks for one NOT_ISSUED card whatever the declared label (its link sets the label).
        """
        gen = generated or {}
        if self.op == CHANGE_IDENTIFIER:
            return {"add": [i.body(gen) for i in self.add], "remove": [i.body(gen) for i in self.remove]}
        card = self.card or CallItem("cardnumber", None)
        if self.op == GENERATE_CARD:
            return {"seriesId": card.series_id, "count": 1, "statusLabel": "NOT_ISSUED"}
        number = card.raw(gen)
        if self.op == CREATE_CARD:
            return {"cardNumber": number, **_series(card), "statusLabel": card.label or "NOT_ISSUED"}
        return {
            "cardNumber": number,
            "statusLabel": card.label or "",
            "statusInfo": {"reason": STATUS_REASON},
        }

    def _generate_body(self) -> dict[str, Any]:
        """The generate body as the plan shows it, with the declared label."""
        card = self.card or CallItem("cardnumber", None)
        return {**_series(card), "count": 1, "statusLabel": card.label or "NOT_ISSUED"}

    def to_dict(self) -> dict[str, Any]:
        """Masked, JSON-ready form."""
        if self.op == CHANGE_IDENTIFIER:
            body = {"add": [i.masked() for i in self.add], "remove": [i.masked() for i in self.remove]}
        elif self.op == GENERATE_CARD:
            body = self._generate_body()
        else:
            body = self.card.masked(card_key="cardNumber") if self.card else {}
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "op": self.op,
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "body": body,
            "after": list(self.after),
            "actions": list(self.actions),
        }


def _series(card: CallItem) -> dict[str, Any]:
    """A card's series as a body names it: by id when known, else by code."""
    return {"seriesId": card.series_id} if card.series_id is not None else {"seriesCode": card.series_code}


@dataclass(frozen=True, slots=True)
class Budget:
    """One safety budget as evaluated for this plan."""

    name: str  # "safety.max_removals" | "safety.max_removal_ratio"
    limit: float
    actual: float
    applies: bool  # the ratio applies only when enough live items are managed
    exceeded: bool
    forced: bool  # exceeded, but --force let it pass

    @property
    def blocks(self) -> bool:
        return self.exceeded and not self.forced

    def describe(self) -> str:
        """One line for reviewers."""
        verdict = "exceeded" if self.exceeded else "ok"
        if self.forced:
            verdict += " (overridden by --force)"
        if not self.applies:
            verdict = "not applied (too few live managed items)"
        return f"{self.name}: {self.actual:g} of at most {self.limit:g}, {verdict}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "limit": self.limit,
            "actual": self.actual,
            "applies": self.applies,
            "exceeded": self.exceeded,
            "forced": self.forced,
        }


@dataclass(frozen=True, slots=True)
class CustomerPlan:
    """A customer with actions or a blocking reason: its live-facts digest, for apply's precondition."""

    id: int
    facts: str
    error: str  # why the whole customer is blocked; "" if it is not
    loc: Location | None


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
            for n, item in enumerate((*c.add, *c.remove, *((c.card,) if c.card else ())))
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
    blocked flag, holder and dependencies, every call as sent (method, path, query, body with each value
    bound by its keyed HMAC), and the unmanaged ids.
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
