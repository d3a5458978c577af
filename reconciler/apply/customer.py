"""One customer's chain of calls, in sequence, each after the calls it depends on.

- Every call waits for the calls in its ``after`` (its own customer's previous call, a release it
  depends on, the generate whose number it links). If one of them did not apply, the call is not sent:
  the customer is ``stale`` if that call was stale, else ``failed``.
- Before a customer's first write its live state is re-read and ``live_facts`` compared with the digest
  the plan was computed from; a difference skips the customer as stale (nothing is sent for it).
- Immediately before each write that adds a value, its holder is looked up again (``guard.py``): a holder
  the plan did not expect stops the customer as stale, the call unsent. A generate already satisfied by a
  card a racing apply linked is not sent again.
- A write the API refused (an ``ApiError``) fails that customer's remaining calls; others go on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reconciler.apply.guard import DONE, SEND
from reconciler.apply.guard import STALE as HOLDER_MOVED
from reconciler.apply.journal import Event
from reconciler.apply.result import APPLIED, FAILED, SKIPPED, STALE, CallOutcome, CustomerResult, Status
from reconciler.apply.run import Run
from reconciler.apply.send import send_call
from reconciler.errors import PERMANENT, TRANSIENT, ApiError, Failure, failure_class
from reconciler.plan import GENERATE_CARD, Call
from reconciler.plan.diff import live_facts


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a customer's remaining calls are not sent: its status, the reason, and the failure class
    (``errors.TRANSIENT`` or ``errors.PERMANENT``; kept only when the status is ``failed``)."""

    status: Status
    reason: str
    failure: Failure | None = None


async def run_customer(run: Run, cid: int, calls: list[Call]) -> CustomerResult:
    """Send one customer's calls in order; the first that does not apply ends the chain."""
    outcomes: list[CallOutcome] = []
    for i, call in enumerate(calls):
        refusal = await _blocked(run, call)
        if refusal is None and i == 0:
            refusal = await _start(run, cid)
        if refusal is not None:
            return await _finish(run, cid, outcomes, calls[i:], refusal)
        checked = await _guarded(run, call)
        if isinstance(checked, Refusal):
            if any(o.status == APPLIED for o in outcomes):  # stale only while nothing was written for it
                checked = replace(checked, status=FAILED)
            return await _finish(run, cid, outcomes, calls[i:], checked)
        outcome = checked if checked is not None else await send_call(run, call)
        run.settled(outcome)
        outcomes.append(outcome)
        if outcome.status != APPLIED:
            refusal = Refusal(FAILED, outcome.detail, outcome.failure)
            return await _finish(run, cid, outcomes, calls[i + 1 :], refusal)
    return CustomerResult(cid, APPLIED, "", tuple(outcomes))


async def _blocked(run: Run, call: Call) -> Refusal | None:
    """Wait for the calls ``call`` depends on; a refusal if one of them did not apply."""
    for dep in call.after:
        await run.done[dep].wait()
        blocker = run.outcomes[dep]
        if blocker.status != APPLIED:
            status = STALE if blocker.status == STALE else FAILED
            reason = f"depends on {blocker.call_id} of customer {blocker.customer_id} ({blocker.status})"
            return Refusal(status, reason, blocker.failure)
    return None


async def _start(run: Run, cid: int) -> Refusal | None:
    """Before the first call: the precondition, then (the simulated apply's verdict) the go-ahead."""
    if run.stopper.stopped:
        return _not_started(run)
    problem = await _precondition(run, cid)
    if problem is not None:
        return problem
    if run.cleared is not None:
        await run.cleared.wait()  # the simulated apply's verdict (or a stop) first
    return _not_started(run) if run.stopper.stopped else None


def _not_started(run: Run) -> Refusal:
    return Refusal(FAILED, f"not started: {run.stopper.reason}")


async def _precondition(run: Run, cid: int) -> Refusal | None:
    """Re-read the customer; a refusal if its live facts are not the plan's (or the read failed)."""
    try:
        live = await run.reads.read(cid)
    except ApiError as exc:
        await run.journal.record(Event.PRECONDITION, customer_id=cid, ok=False, error=str(exc))
        return Refusal(FAILED, f"re-reading the customer failed: {exc}", failure_class(exc))
    facts = live_facts(live, run.desired[cid], run.config)
    ok = facts == run.plan.facts.get(cid)
    run.guard.baseline[cid] = frozenset(c.number for c in live.cards)
    await run.journal.record(Event.PRECONDITION, customer_id=cid, ok=ok, facts=facts)
    return None if ok else Refusal(STALE, "its live state changed since the plan was made")


async def _guarded(run: Run, call: Call) -> CallOutcome | Refusal | None:
    """The holder check: None to send, an outcome for a call already satisfied, or a refusal."""
    verdict = await run.guard.check(call, run.generated)
    if call.add or call.op == GENERATE_CARD:
        await run.journal.record(
            Event.HOLDER_CHECK, call=call.id, verdict=verdict.status, detail=verdict.detail
        )
    if verdict.status == SEND:
        return None
    if verdict.status == DONE:
        return CallOutcome(call.id, call.customer_id, call.op, APPLIED, verdict.detail, 0)
    if verdict.status == HOLDER_MOVED:  # a value another customer took will not come back by itself
        return Refusal(STALE, verdict.detail, PERMANENT)
    return Refusal(FAILED, verdict.detail, TRANSIENT)  # a failed holder lookup may pass next time


async def _finish(
    run: Run, cid: int, outcomes: list[CallOutcome], rest: list[Call], refusal: Refusal
) -> CustomerResult:
    """Mark the calls not sent (``stale`` or ``skipped``) and close the customer's result."""
    mark = STALE if refusal.status == STALE else SKIPPED
    for call in rest:
        outcome = CallOutcome(call.id, cid, call.op, mark, refusal.reason)
        await run.journal.record(
            Event.SKIPPED, call=call.id, customer_id=cid, status=mark, reason=refusal.reason
        )
        run.settled(outcome)
        outcomes.append(outcome)
    failure = refusal.failure if refusal.status == FAILED else None
    return CustomerResult(cid, refusal.status, refusal.reason, tuple(outcomes), failure)
