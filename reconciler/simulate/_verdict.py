"""The verdict of a simulated apply: where the twin parted from the plan, and the ``Simulation`` it makes.

A divergence is the first call of a customer that did not apply (with the twin's answer), an incident of
the run (a merge the plan did not allow), a merge the declarations do not both allow, or a change still to
make once the run is over (but for those the plan's blocked actions leave, by design).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.apply import APPLIED, SKIPPED, ApplyResult, CustomerResult
from reconciler.config import Config
from reconciler.errors import ApiError
from reconciler.mask import mask_value
from reconciler.model import DesiredCustomer, DesiredState, LiveCustomer
from reconciler.plan import MERGE, Plan
from reconciler.plan.diff import compute_changes
from reconciler.render.words import counted


class SimulationStatus(StrEnum):
    """How a simulated apply ended; the JSON plan's ``simulation.status``."""

    PASSED = "passed"
    DIVERGED = "diverged"
    NOT_SIMULATED = "not simulated"
    OFF = "off"


PASSED, DIVERGED, NOT_SIMULATED, OFF = SimulationStatus


@dataclass(frozen=True, slots=True)
class Divergence:
    """Where the twin parted from the plan: a customer (``None``: the run as a whole, an incident), the
    call (or "" for the customer's end state), and why."""

    customer_id: int | None
    call: str
    detail: str

    @classmethod
    def incident(cls, detail: str) -> Divergence:
        """An incident of the run, which names its customer and call in its own words."""
        return cls(None, "", detail)

    @property
    def _shown_id(self) -> int:
        # the published form (text and JSON, schemas/plan.schema.json: an integer) shows an incident as 0
        return 0 if self.customer_id is None else self.customer_id

    def __str__(self) -> str:
        where = f" ({self.call})" if self.call else ""
        return f"customer {self._shown_id}{where}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {"customer_id": self._shown_id, "call": self.call, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Simulation:
    """The verdict of a simulated apply."""

    status: SimulationStatus
    customers: int = 0  # customers with actions
    reached: int = 0  # of them, those that reached their declared state
    calls: int = 0  # calls run on the twin
    divergences: tuple[Divergence, ...] = ()
    not_simulated: tuple[str, ...] = ()
    blocked: int = 0  # blocked actions: never sent, their changes expected to remain
    # The twin's customers as read back after the run (those judged), for tests and adopters to inspect.
    end_state: Mapping[int, LiveCustomer | ApiError] = field(default_factory=dict, compare=False, repr=False)

    @property
    def blocks(self) -> bool:
        """A divergence blocks the plan like any blocked change."""
        return self.status == DIVERGED

    def summary(self) -> str:
        """The one line every output shows."""
        if self.status == OFF:
            return "Simulated apply: off (--no-simulate)"
        if self.status == NOT_SIMULATED:
            return "Simulated apply: not simulated: " + "; ".join(self.not_simulated)
        left = f"; {counted(self.blocked, 'blocked change')} left undone, as planned" if self.blocked else ""
        line = (
            f"Simulated apply: {self.reached} of {self.customers} customers reach the declared state "
            f"({self.calls} calls{left})"
        )
        if self.divergences:
            line += f"; {counted(len(self.divergences), 'divergence')}: the plan is blocked"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "customers": self.customers,
            "reached": self.reached,
            "calls": self.calls,
            "blocked": self.blocked,
            "divergences": [d.to_dict() for d in self.divergences],
            "not_simulated": list(self.not_simulated),
        }


@dataclass(frozen=True, slots=True)
class TwinRun:
    """What the twin did: the apply's result, and the judged customers as read back afterwards."""

    result: ApplyResult
    after: Mapping[int, LiveCustomer | ApiError]


def blocked_actions(plan: Plan) -> int:
    """The plan's blocked actions: never sent to the twin, their changes expected to remain."""
    return len([a for a in plan.actions if a.blocked])


def judge(
    plan: Plan,
    desired: Mapping[int, DesiredCustomer],
    config: Config,
    run: TwinRun,
    *,
    judged: Sequence[int],
    unseeded: Sequence[str],
) -> Simulation:
    """The verdict on ``run``: passed when no call, merge or end state of the ``judged`` diverged."""
    divergences = _call_divergences(run.result)
    divergences += _unallowed_merges(plan, desired)
    divergences += _end_divergences(plan, desired, config, run)
    diverged = {d.customer_id for d in divergences}
    return Simulation(
        DIVERGED if divergences else PASSED,
        customers=len(judged),
        reached=len([c for c in judged if c not in diverged]),
        calls=len(plan.calls),
        blocked=blocked_actions(plan),
        divergences=tuple(divergences),
        not_simulated=tuple(unseeded),
        end_state=run.after,
    )


def _call_divergences(result: ApplyResult) -> list[Divergence]:
    """The first call of each customer that did not apply, with the twin's answer; then each incident."""
    out = [d for d in map(_first_missed, result.customers) if d is not None]
    return out + [Divergence.incident(incident) for incident in result.incidents]


def _first_missed(customer: CustomerResult) -> Divergence | None:
    """The customer's first call that did not apply (the first not merely skipped, if any), with the
    calls it kept from running counted on the same line."""
    missed = [c for c in customer.calls if c.status != APPLIED]
    if not missed:
        return None
    first = next((c for c in missed if c.status != SKIPPED), missed[0])
    detail = first.detail or customer.reason or f"the call was {first.status}"
    later = len(missed) - 1
    more = f" ({counted(later, 'later call')} of the customer not run)" if later else ""
    return Divergence(customer.id, f"{first.call_id} {first.op}", f"{first.status}: {detail}{more}")


def _unallowed_merges(plan: Plan, desired: Mapping[int, DesiredCustomer]) -> list[Divergence]:
    """Every merge the plan lets run, checked against the declarations themselves, not the plan's
    verdict on them: both customers must list each other in ``allow.merge_with``."""
    out = []
    for a in plan.actions:
        if a.risk != MERGE or a.blocked or a.holder is None:
            continue
        mine, theirs = desired.get(a.customer_id), desired.get(a.holder)
        if (
            mine is None
            or theirs is None
            or a.holder not in mine.merge_with
            or a.customer_id not in theirs.merge_with
        ):
            why = f"merges into customer {a.holder}, which their declarations do not both allow"
            why += " (allow.merge_with)"
            out.append(Divergence(a.customer_id, a.id, why))
    return out


_ChangeKey = tuple[int, str, str, str, str | None]  # customer, kind, profile, type (lower case), value


def _expected_changes(plan: Plan) -> set[_ChangeKey]:
    """The changes the plan's blocked actions leave: they never ran. A numberless card's change is to
    generate; its blocked actions are a generate and a link."""
    kinds = {"link": ("link", "generate"), "generate": ("generate",)}
    return {
        (a.customer_id, kind, str(a.profile), a.type.lower(), a.value)
        for a in plan.actions
        if a.blocked
        for kind in kinds.get(a.kind, (a.kind,))
    }


def _end_divergences(
    plan: Plan, desired: Mapping[int, DesiredCustomer], config: Config, run: TwinRun
) -> list[Divergence]:
    """Each customer's remaining changes against the declared state, but for those its blocked actions
    leave (they never ran) and those of a customer an allowed merge made a victim (verified as such)."""
    merged = {a.customer_id for a in plan.actions if a.risk == MERGE and not a.blocked}
    ids = [cid for cid in run.after if cid in desired]
    state = DesiredState(tuple(desired[cid] for cid in ids))
    changes = compute_changes(state, {cid: run.after[cid] for cid in ids}, config)
    expected = _expected_changes(plan)
    failed = {c.id for c in run.result.customers if any(x.status != APPLIED for x in c.calls)}
    out = []
    for customer in changes.customers:
        if customer.id in merged:
            continue
        if customer.error:
            out.append(Divergence(customer.id, "", f"ended {customer.error}"))
            continue
        for change in customer.changes:
            key = (customer.id, change.kind, str(change.profile), change.type.lower(), change.value)
            if key in expected or customer.id in failed:
                continue  # a blocked action's change; a failed call is said once, as its call
            shown = "a generated card" if change.value is None else mask_value(change.type, change.value)
            out.append(
                Divergence(customer.id, "", f"still to {change.kind} {shown} in {change.profile} afterwards")
            )
    return out
