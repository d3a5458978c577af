"""The parts a plan is made of: its actions, the API calls apply sends, its budgets and customers.

``reconciler.plan.document`` (the ``Plan`` and its checksum) re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from reconciler.mask import mask_value

if TYPE_CHECKING:
    from reconciler.model import Location, ProfileKey
    from reconciler.plan.diff import Kind

CARD_NUMBER = "cardnumber"  # the identifier type of a card number, in actions and call items


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
    type: str  # identifier type, or CARD_NUMBER
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

    @property
    def shown(self) -> str:
        """The value as the plan shows it: masked; a generated card's number as ``${cN.cardNumber}``."""
        return (
            f"${{{self.generated_by}.cardNumber}}"
            if self.value is None
            else mask_value(self.type, self.value)
        )

    def body(self, generated: Mapping[str, str]) -> dict[str, Any]:
        """Raw JSON form, as a ``changeIdentifier`` adds or removes it."""
        return self.shaped(self.raw(generated))

    def masked(self) -> dict[str, Any]:
        """Masked JSON form, as the plan shows it (``shown``)."""
        return self.shaped(self.shown)

    def shaped(self, value: str) -> dict[str, Any]:
        """This item in a ``changeIdentifier`` body, with ``value`` as its value."""
        out: dict[str, Any] = {"type": self.type, "value": value}
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
        """The raw JSON body sent; ``generated`` maps generate call ids to the card numbers they returned."""
        gen = generated or {}
        return self._body(lambda item: item.raw(gen))

    def _body(self, value: Callable[[CallItem], str]) -> dict[str, Any]:
        """The body with each item's value as ``value`` gives it: raw (``body``) or shown (``to_dict``).

        A generate asks for one NOT_ISSUED card whatever the declared label (its link sets the label).
        """
        if self.op == CHANGE_IDENTIFIER:
            return {
                "add": [i.shaped(value(i)) for i in self.add],
                "remove": [i.shaped(value(i)) for i in self.remove],
            }
        card = self.card or CallItem(CARD_NUMBER, None)
        if self.op == GENERATE_CARD:
            return {"seriesId": card.series_id, "count": 1, "statusLabel": "NOT_ISSUED"}
        if self.op == CREATE_CARD:
            return {"cardNumber": value(card), **_series(card), "statusLabel": card.label or "NOT_ISSUED"}
        return {
            "cardNumber": value(card),
            "statusLabel": card.label or "",
            "statusInfo": {"reason": STATUS_REASON},
        }

    def to_dict(self) -> dict[str, Any]:
        """Masked, JSON-ready form; its body is the body sent, each value shown as ``CallItem.shown``."""
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "op": self.op,
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "body": self._body(lambda item: item.shown),
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
