"""One apply's context and shared state: what every step of ``executor.py``, ``customer.py`` and ``send.py``
reads (the plan, the writer, the desired state, the config, the journal) and what they fill in together
(the numbers generated, each call's outcome and the event that says it settled, incidents, notes)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.apply.batch import BatchedReads
from reconciler.apply.guard import HolderGuard
from reconciler.apply.journal import Journal
from reconciler.apply.result import CallOutcome
from reconciler.apply.stop import Stopper
from reconciler.backoff import Backoff
from reconciler.capillary import CapillaryWriter
from reconciler.config import Config
from reconciler.model import DesiredCustomer, Progress
from reconciler.plan import Call, Plan


@dataclass(frozen=True, slots=True)
class Run:
    """The fields are fixed for the run; the dicts, lists and sets are filled in as calls settle."""

    plan: Plan
    writer: CapillaryWriter
    desired: Mapping[int, DesiredCustomer]
    config: Config
    journal: Journal
    guard: HolderGuard
    reads: BatchedReads
    allowed_merges: frozenset[str]  # the calls of merges the plan allowed
    progress: Progress
    settle: Backoff  # the pause after an unknown outcome, before re-reading
    stopper: Stopper
    cleared: asyncio.Event | None  # set when writes may start (see apply_plan)
    generated: dict[str, str] = field(default_factory=dict)  # generate call id -> the number it returned
    done: dict[str, asyncio.Event] = field(default_factory=dict)  # call id -> set once it settled
    outcomes: dict[str, CallOutcome] = field(default_factory=dict)
    incidents: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)  # call id -> sends, while the call runs
    inflight: set[str] = field(default_factory=set)  # calls sent whose outcome line is not written yet

    def __post_init__(self) -> None:
        self.done.update((c.id, asyncio.Event()) for c in self.plan.calls)

    def settled(self, outcome: CallOutcome) -> None:
        """Record a call's outcome and wake the calls that wait for it."""
        self.outcomes[outcome.call_id] = outcome
        self.done[outcome.call_id].set()
        self.progress("writes", len(self.outcomes), len(self.plan.calls))

    def by_customer(self) -> dict[int, list[Call]]:
        """The plan's calls per customer, in plan order."""
        calls: dict[int, list[Call]] = {}
        for call in self.plan.calls:
            calls.setdefault(call.customer_id, []).append(call)
        return calls
