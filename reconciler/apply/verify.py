"""Verify after write: every customer apply wrote is read again and compared with what its plan promised.

The promise is per action of every call that was applied: an added identifier is in its profile, a removed
one is not; a linked card (a generated one by the number its generate returned) is this customer's, a
delinked one is not; a status change shows its label. A customer whose allowed merge ran is a merge victim
by design and is verified by being one. Anything else is a divergence: the write was answered as applied
and live state says otherwise (another writer, a lost write, an API that dropped part of a call).

A customer is re-read once no call of the plan can still change it: its own calls have all settled, and
so have those of every customer it is entangled with: one that waits for a call of it (a move's release),
one that holds a value it takes (a move or an allowed merge: the merge changes both accounts). ``Verifier``
starts those re-reads while the rest of the apply runs, so verification overlaps the writes instead of
following the last of them; ``verify`` checks finished results in one go. Progress is reported as phase
``verifying``, from the end of the writes: a long verification draws its own line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from reconciler.apply.result import APPLIED, CustomerResult, Verification
from reconciler.capillary import CapillaryReader
from reconciler.errors import ApiError, MergedCustomerError
from reconciler.mask import mask_value
from reconciler.model import LiveCustomer, Progress, no_progress
from reconciler.plan import MERGE, Action, Plan
from reconciler.plan.diff import ADD, DELINK, LINK, REMOVE, STATUS

Promised = list[tuple[Action, str | None]]  # the actions of a customer's applied calls, generated number


async def verify(
    plan: Plan,
    reader: CapillaryReader,
    customers: tuple[CustomerResult, ...],
    generated: Mapping[str, str],
    progress: Progress = no_progress,
) -> Verification:
    """Re-read each customer with an applied call; compare with the actions of its applied calls.
    ``progress`` hears ``("verifying", customers re-read, customers to re-read)``."""
    verifier = Verifier(plan, reader, generated)
    for customer in customers:
        verifier.finished(customer)
    verifier.start_rest()  # customers whose group has a member not given here: checked all the same
    return await verifier.results(progress)


class Verifier:
    """Verifies each written customer as soon as no call of the plan can still change it.

    The executor tells it of every customer whose calls have all settled (``finished``); a group of
    entangled customers is checked when the last of them is. A customer every applied call of which was
    answered as done by the write itself (a 2xx, sent once, no merge: ``CallOutcome.answered``) is verified
    by those answers; any other (an unknown outcome settled by re-reading, a merge, a call counted done
    unsent) is re-read. ``reread_all`` re-reads every written customer, ``batch`` at a time (the bulk
    read's batch when ``api.bulk_read`` is on). ``results`` waits for the rest.
    """

    def __init__(
        self,
        plan: Plan,
        reader: CapillaryReader,
        generated: Mapping[str, str],
        *,
        reread_all: bool = True,
        batch: int = 1,
    ) -> None:
        self._reader = reader
        self._generated = generated
        self._calls = {c.id: c for c in plan.calls}
        self._actions = {a.id: a for a in plan.actions}
        self._groups = entangled(plan)
        self._reread_all, self._batch = reread_all, max(1, batch)
        self._finished: dict[int, CustomerResult] = {}
        self._checks: dict[int, asyncio.Task[dict[int, list[str]]]] = {}
        self._answered: set[int] = set()  # verified by their writes' answers
        self._pending: dict[int, Promised] = {}  # to re-read in the next batch
        self._closed = False  # cancelled: no re-read starts any more

    def finished(self, customer: CustomerResult) -> None:
        """``customer`` sends no more calls: check its group now if it was the group's last."""
        if self._closed:
            return
        self._finished[customer.id] = customer
        group = self._groups.get(customer.id, frozenset({customer.id}))
        if all(member in self._finished for member in group):
            self._start(sorted(group))

    def start_rest(self) -> None:
        """Check every finished customer not checked yet, whatever its group."""
        if not self._closed:
            self._start(sorted(self._finished))
            self._flush()

    def _start(self, members: list[int]) -> None:
        for member in members:
            customer = self._finished[member]
            done = self._promised(customer)
            if not done or member in self._checks or member in self._answered or member in self._pending:
                continue
            if not self._reread_all and _answered(customer, done):
                self._answered.add(member)
                continue
            self._pending[member] = done
        if len(self._pending) >= self._batch:
            self._flush()

    def _flush(self) -> None:
        """Start the re-read of every customer pending, ``batch`` at a time."""
        pending = list(self._pending.items())
        self._pending.clear()
        for i in range(0, len(pending), self._batch):
            chunk = dict(pending[i : i + self._batch])
            task = asyncio.create_task(_check(self._reader, chunk))
            for member in chunk:
                self._checks[member] = task

    async def results(self, progress: Progress = no_progress) -> Verification:
        """Wait for every re-read started; ``progress`` hears ``verifying`` from those already done."""
        if not self._closed:
            self._flush()
        tasks = list(dict.fromkeys(self._checks.values()))  # one per batch, in order
        total = len(self._checks) + len(self._answered)
        done = len(self._answered) + sum(len(_members(self._checks, t)) for t in tasks if t.done())
        progress("verifying", done, total)
        try:
            for next_done in asyncio.as_completed([t for t in tasks if not t.done()]):
                done += len(await next_done)
                progress("verifying", done, total)
        except BaseException:  # one re-read failed unexpectedly (or we were cancelled): stop the rest
            await self.cancel()
            raise
        found: dict[int, list[str]] = {}
        for task in tasks:
            found.update(task.result())
        lines = [found[cid] for cid in sorted(found)]
        divergences = tuple(line for each in lines for line in each)
        bad = sum(1 for each in lines if each)
        return Verification(total - bad, total, divergences, reread=len(found))

    async def cancel(self) -> None:
        """Stop the re-reads still running, and start none after (an apply that was stopped, or failed, is
        re-planned, not verified)."""
        self._closed = True
        self._pending.clear()
        tasks = list(dict.fromkeys(self._checks.values()))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _promised(self, customer: CustomerResult) -> Promised:
        promised: Promised = []
        for outcome in (o for o in customer.calls if o.status == APPLIED):
            call = self._calls[outcome.call_id]
            gen = next((i.generated_by for i in call.items if i.generated_by), None)
            number = self._generated.get(gen) if gen else None
            promised.extend((self._actions[a], number) for a in call.actions)
        return promised


def _answered(customer: CustomerResult, done: Promised) -> bool:
    """Every applied call of ``customer`` was answered as done by its own write, and none merged."""
    applied = [o for o in customer.calls if o.status == APPLIED]
    return all(o.answered for o in applied) and not any(a.risk == MERGE for a, _ in done)


def _members(checks: Mapping[int, asyncio.Task[dict[int, list[str]]]], task: asyncio.Task[Any]) -> list[int]:
    return [cid for cid, t in checks.items() if t is task]


def entangled(plan: Plan) -> dict[int, frozenset[int]]:
    """Each customer with calls -> the customers with calls whose writes can change it, itself included.

    Two customers are entangled when a call of one waits for a call of the other (a move's release), or
    when an action of one names the other as the value's holder or as the one a release frees it for (a
    move, an allowed merge). The relation is closed: the groups are its connected components.
    """
    parent = {c.customer_id: c.customer_id for c in plan.calls}

    def root(cid: int) -> int:
        while parent[cid] != cid:
            parent[cid] = parent[parent[cid]]
            cid = parent[cid]
        return cid

    calls = {c.id: c for c in plan.calls}
    actions = {a.id: a for a in plan.actions}
    for call in plan.calls:
        others = [calls[dep].customer_id for dep in call.after if dep in calls]
        for action in (actions[a] for a in call.actions if a in actions):
            others.extend(o for o in (action.holder, action.releases_to) if o is not None)
        for other in others:
            if other in parent:
                parent[root(other)] = root(call.customer_id)
    groups: dict[int, set[int]] = {}
    for cid in parent:
        groups.setdefault(root(cid), set()).add(cid)
    return {cid: frozenset(groups[root(cid)]) for cid in parent}


async def _check(reader: CapillaryReader, chunk: Mapping[int, Promised]) -> dict[int, list[str]]:
    """Re-read the customers of ``chunk`` (one bulk request when the reader reads in bulk); each one's
    divergences."""
    ids = sorted(chunk)
    if len(ids) == 1:
        try:
            read: Mapping[int, LiveCustomer | ApiError] = {ids[0]: await reader.get_customer(ids[0])}
        except ApiError as exc:
            read = {ids[0]: exc}
    else:
        read = await reader.get_customers(ids)
    return {cid: _judge(cid, read.get(cid), chunk[cid]) for cid in ids}


def _judge(cid: int, live: LiveCustomer | ApiError | None, done: Promised) -> list[str]:
    merged = any(a.risk == MERGE for a, _ in done)
    if isinstance(live, MergedCustomerError):
        return [] if merged else [f"customer {cid}: now a merge victim, which the plan did not promise"]
    if isinstance(live, ApiError):
        return [f"customer {cid}: could not be re-read to verify it: {live}"]
    if live is None:
        return [f"customer {cid}: could not be re-read to verify it: not in the answer"]
    if merged:
        return [f"customer {cid}: the allowed merge ran but the customer is not a merge victim"]
    return [f"customer {cid}: {line}" for a, number in done if (line := _diverges(live, a, number))]


def _diverges(live: LiveCustomer, action: Action, generated: str | None) -> str:
    """Why ``live`` does not show ``action`` done, or ""."""
    value = action.value if action.value is not None else generated
    if value is None:
        return ""  # a create/generate: its link's check covers it
    shown = mask_value(action.type, value)
    if action.kind in (ADD, REMOVE):
        profile = live.profile(action.profile)
        present = profile is not None and any(
            i.type.lower() == action.type.lower() and i.value == value for i in profile.identifiers
        )
        if present != (action.kind == ADD):
            where = "missing from" if action.kind == ADD else "still in"
            return f"{action.kind} {shown}: {where} {action.profile}"
        return ""
    card = next((c for c in live.cards if c.number == value), None)
    if action.kind == LINK and card is None:
        return f"link {shown}: the card is not linked to the customer"
    if action.kind == DELINK and card is not None:
        return f"delink {shown}: the card is still linked to the customer"
    if action.kind == STATUS and (card is None or card.status_label != action.label):
        label = card.status_label if card is not None else "not linked"
        return f"status {shown}: {label}, not {action.label}"
    return ""
