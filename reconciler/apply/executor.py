"""Runs a Plan's calls: in dependency order, customers in parallel, each customer's calls in sequence.

- Every call waits for the calls in its ``after`` (its own customer's previous call, a release it
  depends on, the generate whose number it links). If one of them did not apply, the call is not sent:
  the customer is ``stale`` if that call was stale, else ``failed``.
- Before a customer's first write its live state is re-read and ``live_facts`` compared with the digest
  the plan was computed from; a difference skips the customer as stale (nothing is sent for it).
- Immediately before each write that adds a value, its holder is looked up again (``guard.py``): a holder
  the plan did not expect stops the customer as stale, the call unsent. A generate already satisfied by a
  card a racing apply linked is not sent again.
- Every customer written is re-read and compared with the plan (``verify.py``) as soon as no call of the
  plan can still change it: its own calls and those of the customers entangled with it (moves, merges)
  have settled. The re-reads run beside the remaining writes; the result waits for the last of them.
- A write with an unknown outcome (timeout, dropped connection, 5xx) is settled by re-reading
  (``resolve.took_effect``) after a jittered, growing pause (``SETTLE``: a write still running on the
  server lands before the re-read, not after it). It is sent again only when that re-read proves it did not
  take effect, each resend backed by its own proof, at most ``MAX_SENDS`` sends in all. A ``generateCard``
  cannot be proven either way (its number was in the lost answer); it is generated again, at most
  ``GENERATE_MAX_SENDS`` sends. Each lost answer may leave one spare NOT_ISSUED, unlinked card in the series
  (harmless, but a number used up); the result says how many may exist.
- A write the API refused (an ``ApiError``) fails that customer's remaining calls; others go on.
- Merge warnings on a call the plan did not mark as an allowed merge are incidents.
Concurrency and the rate limit are the client's (``api.concurrency``, ``api.requests_per_minute``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from reconciler.apply.batch import BatchedReads
from reconciler.apply.guard import DONE, SEND, HolderGuard
from reconciler.apply.guard import STALE as HOLDER_MOVED
from reconciler.apply.journal import FORMAT_VERSION, Journal, JournalError
from reconciler.apply.resolve import took_effect
from reconciler.apply.result import (
    APPLIED,
    FAILED,
    SKIPPED,
    STALE,
    ApplyResult,
    CallOutcome,
    CustomerResult,
    GeneratedCard,
    Status,
    Verdict,
    Verification,
)
from reconciler.apply.stop import NotStarted, Stopper, halted_results, write_counts
from reconciler.apply.verify import Verifier
from reconciler.backoff import Backoff
from reconciler.capillary import CapillaryWriter
from reconciler.config import Config
from reconciler.errors import PERMANENT, TRANSIENT, ApiError, OutcomeUnknownError, failure_class
from reconciler.mask import mask_value
from reconciler.model import ChangeResult, DesiredCustomer, Progress, no_progress
from reconciler.plan import GENERATE_CARD, MERGE, Call, Plan
from reconciler.plan.diff import live_facts

MAX_SENDS = 5
GENERATE_MAX_SENDS = 3  # resent unproven: each lost answer may leave a spare card; fewer sends, more reruns
# Merge notices that say the merge was done (8050/8051 merging, 8067 already merged): in the errors of an
# org answering them as errors (docs/capillary-api.md 10), an allowed merge's call applied all the same.
MERGED_IN_ERRORS = frozenset({8050, 8051, 8067})
# The pause after an unknown outcome, before re-reading: 0.25 s after the first, doubling, at most 4 s.
SETTLE = Backoff(0.25, 4.0)


@dataclass
class _Run:
    plan: Plan
    writer: CapillaryWriter
    desired: Mapping[int, DesiredCustomer]
    config: Config
    journal: Journal
    guard: HolderGuard
    reads: BatchedReads
    generated: dict[str, str] = field(default_factory=dict)
    done: dict[str, asyncio.Event] = field(default_factory=dict)
    outcomes: dict[str, CallOutcome] = field(default_factory=dict)
    incidents: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    allowed_merges: frozenset[str] = frozenset()
    progress: Progress = no_progress
    settle: Backoff = SETTLE
    stopper: Stopper = field(default_factory=Stopper)
    cleared: asyncio.Event | None = None  # set when writes may start (see apply_plan)
    sent: dict[str, int] = field(default_factory=dict)  # call id -> sends, while the call runs
    inflight: set[str] = field(default_factory=set)  # calls sent whose outcome line is not written yet

    # ----- customers ---------------------------------------------------------------------------

    async def customer(self, cid: int, calls: list[Call]) -> CustomerResult:
        outcomes: list[CallOutcome] = []
        for i, call in enumerate(calls):
            blocker = await self._blocker(call)
            if blocker is not None:
                status = STALE if blocker.status == STALE else FAILED
                reason = f"depends on {blocker.call_id} of customer {blocker.customer_id} ({blocker.status})"
                return await self._finish(cid, outcomes, calls[i:], status, reason, blocker.failure)
            if i == 0 and self.stopper.stopped:
                return await self._finish(cid, outcomes, calls, FAILED, f"not started: {self.stopper.reason}")
            if i == 0:
                problem = await self._precondition(cid)
                if problem is not None:
                    return await self._finish(cid, outcomes, calls, *problem)
                if self.cleared is not None:
                    await self.cleared.wait()  # the simulated apply's verdict (or a stop) first
                if self.stopper.stopped:
                    return await self._finish(
                        cid, outcomes, calls, FAILED, f"not started: {self.stopper.reason}"
                    )
            checked = await self._guarded(call)
            if isinstance(checked, tuple):  # stale only while nothing was written for this customer
                status, reason = checked
                # a failed holder lookup may pass next time; a value another customer took will not
                failure = TRANSIENT if status == FAILED else PERMANENT
                if any(o.status == APPLIED for o in outcomes):
                    status = FAILED
                return await self._finish(cid, outcomes, calls[i:], status, reason, failure)
            outcome = checked if checked is not None else await self._call(call)
            self._settle(outcome)
            outcomes.append(outcome)
            if outcome.status != APPLIED:
                rest = calls[i + 1 :]
                return await self._finish(cid, outcomes, rest, FAILED, outcome.detail, outcome.failure)
        return CustomerResult(cid, APPLIED, "", tuple(outcomes))

    async def _blocker(self, call: Call) -> CallOutcome | None:
        for dep in call.after:
            await self.done[dep].wait()
            if self.outcomes[dep].status != APPLIED:
                return self.outcomes[dep]
        return None

    async def _precondition(self, cid: int) -> tuple[Status, str, str] | None:
        try:
            live = await self.reads.read(cid)
        except ApiError as exc:
            await self.journal.record("precondition", customer_id=cid, ok=False, error=str(exc))
            return FAILED, f"re-reading the customer failed: {exc}", failure_class(exc)
        facts = live_facts(live, self.desired[cid], self.config)
        ok = facts == self.plan.facts.get(cid)
        self.guard.baseline[cid] = frozenset(c.number for c in live.cards)
        await self.journal.record("precondition", customer_id=cid, ok=ok, facts=facts)
        return None if ok else (STALE, "its live state changed since the plan was made", "")

    async def _guarded(self, call: Call) -> CallOutcome | tuple[Status, str] | None:
        """The holder check: None to send, an outcome for a call already satisfied, or (status, reason)."""
        verdict = await self.guard.check(call, self.generated)
        if call.add or call.op == GENERATE_CARD:
            await self.journal.record(
                "holder_check", call=call.id, verdict=verdict.status, detail=verdict.detail
            )
        if verdict.status == SEND:
            return None
        if verdict.status == DONE:
            return CallOutcome(call.id, call.customer_id, call.op, APPLIED, verdict.detail, 0)
        return (STALE if verdict.status == HOLDER_MOVED else FAILED), verdict.detail

    async def _finish(
        self,
        cid: int,
        outcomes: list[CallOutcome],
        rest: list[Call],
        status: Status,
        reason: str,
        failure: str = "",
    ) -> CustomerResult:
        for call in rest:
            mark = STALE if status == STALE else SKIPPED
            outcome = CallOutcome(call.id, cid, call.op, mark, reason)
            await self.journal.record("skipped", call=call.id, customer_id=cid, status=mark, reason=reason)
            self._settle(outcome)
            outcomes.append(outcome)
        return CustomerResult(cid, status, reason, tuple(outcomes), failure if status == FAILED else "")

    def _settle(self, outcome: CallOutcome) -> None:
        self.outcomes[outcome.call_id] = outcome
        self.done[outcome.call_id].set()
        self.progress("writes", len(self.outcomes), len(self.plan.calls))

    # ----- one call ----------------------------------------------------------------------------

    async def _call(self, call: Call) -> CallOutcome:
        try:
            async with self.stopper.slot():
                return await self._sends(call)
        except NotStarted as exc:
            return CallOutcome(call.id, call.customer_id, call.op, SKIPPED, str(exc))
        except asyncio.CancelledError:
            self._halted(call)
            raise
        finally:
            self.sent.pop(call.id, None)

    def _halted(self, call: Call) -> None:
        """The stopper cancelled this call: a write with no answer yet may have committed; say so."""
        sends = self.sent.get(call.id)
        if call.id in self.inflight:
            fields = {"method": call.method, "path": call.path, "result": "unknown", "message": "interrupted"}
            self.journal.write_now("outcome", call=call.id, attempt=sends, **fields)
        if sends is not None:
            self._settle(CallOutcome(call.id, call.customer_id, call.op, FAILED, _HALTED, sends))

    async def _sends(self, call: Call) -> CallOutcome:
        limit = GENERATE_MAX_SENDS if call.op == GENERATE_CARD else MAX_SENDS
        sends = lost = 0  # lost: generate answers lost, each maybe a spare card
        try:
            while sends < limit:
                sends += 1
                await self._intent(call, sends)
                try:
                    result = await self._send(call)
                except OutcomeUnknownError as exc:
                    message = self._scrub(exc.api_message, call)
                    await self._outcome(call, sends, "unknown", status=exc.status, message=message)
                    await self.settle.pause(sends)
                    match await self._resolve(call, sends):
                        case Verdict.UNKNOWN if call.op == GENERATE_CARD:  # its number was in the lost answer
                            lost += 1
                            continue
                        case Verdict.NOT_DONE:
                            continue
                        case Verdict.UNKNOWN:
                            return self._failed(call, _UNKNOWN, sends, TRANSIENT)
                        case verdict:
                            merged = verdict == Verdict.MERGED
                            return self._applied(call, sends, ChangeResult(None), merged=merged)
                except ApiError as exc:
                    message = self._scrub(exc.api_message, call)
                    await self._outcome(
                        call, sends, "failed", status=exc.status, code=exc.code, message=message
                    )
                    detail = self._scrub(str(exc), call)
                    if exc.code in MERGED_IN_ERRORS and call.id in self.allowed_merges:
                        # the org answers its merge notice as an error (a documented variant): the merge
                        # the plan allowed is done; verify re-reads both customers
                        done = ChangeResult(None, warnings=((exc.code, message),))
                        return self._applied(call, sends, done, merged=True)
                    if exc.code in ChangeResult.MERGE_WARNINGS and call.id not in self.allowed_merges:
                        self._merge_incident(call, f"code {exc.code} in errors")  # it merged all the same
                    return self._failed(call, detail, sends, failure_class(exc))
                codes = [code for code, _ in result.warnings]
                await self._outcome(call, sends, "ok", created_id=result.created_id, warnings=codes)
                applied = self._applied(call, sends, result, merged=result.merged)
                return replace(applied, answered=sends == 1 and not applied.merged)
        finally:
            if lost:
                self._note_lost_generations(call, lost)
        return self._failed(call, _gave_up(call, sends), sends, TRANSIENT)

    @staticmethod
    def _failed(call: Call, detail: str, sends: int, failure: str) -> CallOutcome:
        return CallOutcome(call.id, call.customer_id, call.op, FAILED, detail, sends, failure=failure)

    def _note_lost_generations(self, call: Call, lost: int) -> None:
        """One note per generate call whose answers were lost: how many spare cards may exist."""
        series = call.card.series_id if call.card else None
        self.notes.append(
            f"customer {call.customer_id}: {lost} card generation {'answer' if lost == 1 else 'answers'} "
            f"lost; up to {lost} spare NOT_ISSUED {'card' if lost == 1 else 'cards'} may exist unlinked "
            f"in series {series}"
        )

    def _scrub(self, text: str, call: Call) -> str:
        return scrub(text, call, self.generated)

    async def _resolve(self, call: Call, sends: int) -> Verdict:
        verdict = await took_effect(call, self.writer, self.generated)
        how = "re-read" if call.op != GENERATE_CARD else "cannot be re-read (its number was lost)"
        await self.journal.record("resolved", call=call.id, attempt=sends, applied=verdict.applied, how=how)
        return verdict

    def _applied(self, call: Call, sends: int, result: ChangeResult, *, merged: bool) -> CallOutcome:
        codes = tuple(code for code, _ in result.warnings)
        detail = "" if sends == 1 else f"applied after {sends} sends (unknown outcomes settled by re-reading)"
        if merged and call.id in self.allowed_merges:
            self.notes.append(f"customer {call.customer_id}: merged as the plan allowed ({call.id})")
        elif merged:
            signs = [f"warnings {', '.join(map(str, codes))}"] if codes else []
            if result.created_id not in (None, call.customer_id):
                signs.append(f"createdId {result.created_id}")
            self._merge_incident(call, "; ".join(signs) or "seen on re-read")
        return CallOutcome(call.id, call.customer_id, call.op, APPLIED, detail, sends, codes, merged)

    def _merge_incident(self, call: Call, how: str) -> None:
        self.incidents.append(
            f"customer {call.customer_id}: call {call.id} ({call.op}) MERGED accounts ({how}); "
            "the plan did not allow it"
        )

    async def _send(self, call: Call) -> ChangeResult:
        result = await self.writer.send(call, self.generated)
        if call.op == GENERATE_CARD:
            self.generated[call.id] = result.cards[0]
        return result

    async def _intent(self, call: Call, attempt: int) -> None:
        if self.stopper.stopped:
            raise NotStarted(f"not started: {self.stopper.reason}")
        data = call.to_dict()
        try:
            await self._record_intent(call, attempt, data)
        except JournalError as exc:  # never send a write the journal did not announce
            self.stopper.stop(str(exc), journal=True)
            raise NotStarted(f"not started: {exc}") from None
        self.sent[call.id] = attempt
        self.inflight.add(call.id)

    async def _record_intent(self, call: Call, attempt: int, data: dict[str, object]) -> None:
        await self.journal.record(
            "intent",
            call=call.id,
            attempt=attempt,
            customer_id=call.customer_id,
            op=call.op,
            method=call.method,
            path=call.path,
            query=data["query"],
            body=data["body"],
            generated={k: mask_value("cardnumber", v) for k, v in self.generated.items() if k in call.after},
        )

    async def _outcome(self, call: Call, attempt: int, result: str, **fields: object) -> None:
        self.inflight.discard(call.id)
        if result == "ok" and call.id in self.generated:
            fields["card"] = mask_value("cardnumber", self.generated[call.id])
            fields["customer_id"] = call.customer_id
            fields["series"] = call.card.series_id if call.card else None
        await self.journal.record(
            "outcome",
            call=call.id,
            attempt=attempt,
            method=call.method,
            path=call.path,
            result=result,
            **fields,
        )


def _generated_cards(plan: Plan, generated: Mapping[str, str]) -> tuple[GeneratedCard, ...]:
    """The cards generated by the run, masked, in plan order."""
    return tuple(
        GeneratedCard(
            c.customer_id, c.card.series_id if c.card else None, mask_value("cardnumber", generated[c.id])
        )
        for c in plan.calls
        if c.id in generated
    )


_HALTED = "interrupted while in flight: its outcome is unknown (see the journal)"
_UNKNOWN = "the write's outcome is unknown and a re-read could not settle it; not resent"


def _gave_up(call: Call, sends: int) -> str:
    if call.op == GENERATE_CARD:
        return f"generated {sends} times; every answer was lost, so no number is known to link"
    return f"sent {sends} times; each time the outcome was unknown and a re-read showed no effect"


async def apply_plan(
    plan: Plan,
    writer: CapillaryWriter,
    desired: Mapping[int, DesiredCustomer],
    config: Config,
    journal: Journal,
    progress: Progress = no_progress,
    *,
    settle: Backoff = SETTLE,
    stopper: Stopper | None = None,
    cleared: asyncio.Event | None = None,
) -> ApplyResult:
    """Execute ``plan``'s calls through ``writer``, journaling every write; never raises for an API error.

    ``progress`` hears ``("writes", settled calls, all calls)``, then ``"verifying"`` (re-reads done,
    re-reads): the re-reads start during the writes, so the first report may count some done already;
    ``stopper`` stops the run early (a signal, or a journal that cannot be written; see ``stop.py``).
    ``cleared``: the precondition reads run at once, every customer's first holder check and write waits
    until it is set (the command runs the simulated apply meanwhile, and stops ``stopper`` first when it
    diverged); a stop sets it too.
    """
    started = time.monotonic()
    merge_actions = {a.id for a in plan.actions if a.risk == MERGE and not a.blocked}
    merges = frozenset(c.id for c in plan.calls if merge_actions.intersection(c.actions))
    stopper = stopper or Stopper(config.api.concurrency)
    holders = HolderGuard(plan, writer)
    reads = BatchedReads(writer, config.api.bulk_batch_size if config.api.bulk_read else 1)
    run = _Run(
        plan,
        writer,
        desired,
        config,
        journal,
        holders,
        reads,
        allowed_merges=merges,
        settle=settle,
        stopper=stopper,
        progress=progress,
        cleared=cleared,
    )
    journal.on_full = lambda why: stopper.stop(why, journal=True)

    def on_stop(why: str) -> None:
        journal.write_now("stop", reason=why)
        if cleared is not None:
            cleared.set()  # the customers waiting to start see the stop

    stopper.on_stop = on_stop
    progress("writes", 0, len(plan.calls))
    run.done = {c.id: asyncio.Event() for c in plan.calls}
    by_customer: dict[int, list[Call]] = {}
    for call in plan.calls:
        by_customer.setdefault(call.customer_id, []).append(call)
    journal.write_now(
        "run",
        format_version=FORMAT_VERSION,
        checksum=plan.checksum,
        target=plan.target,
        calls=len(plan.calls),
        customers=len(by_customer),
    )
    # With bulk reads a re-read of every written customer costs a request per batch: all are re-read.
    # Without, one request each: only those whose writes' answers leave the outcome open (verify.py).
    bulk = config.api.bulk_read
    verifier = Verifier(
        plan,
        writer,
        run.generated,
        reread_all=rereads_all(config),
        batch=config.api.bulk_batch_size if bulk else 1,
    )

    async def customer(cid: int, calls: list[Call]) -> CustomerResult:
        result = await run.customer(cid, calls)
        if not stopper.stopped:
            verifier.finished(result)  # re-read now if nothing left can change it
        return result

    try:
        results = await stopper.run(customer(cid, calls) for cid, calls in by_customer.items())
    except BaseException:  # cancelled from outside: no re-read outlives the apply
        await verifier.cancel()
        raise
    finally:
        await reads.close()
    if results is None:  # halted: the customers' tasks were cancelled; rebuild from what settled
        results = halted_results(by_customer, run.outcomes, stopper.reason or "interrupted")
    customers = tuple(sorted(results, key=lambda r: r.id))
    checked = Verification()
    if stopper.stopped:  # a stopped run is re-planned, not verified: its summary says what was written
        await verifier.cancel()
    else:
        checked = await verifier.results(progress)
        await journal.record(
            "verified", verified=checked.verified, written=checked.written, reread=checked.reread
        )
    result = ApplyResult(
        plan.target,
        plan.checksum,
        customers,
        tuple(run.incidents),
        tuple(run.notes),
        str(journal.path),
        time.monotonic() - started,
        checked,
        _generated_cards(plan, run.generated),
    )
    journal.write_now(
        "end",
        counts=result.counts,
        writes=write_counts(result),
        incidents=len(result.incidents),
        exit_code=stopper.exit_code or result.exit_code,
        **({"stopped": stopper.reason, "dropped": journal.dropped} if stopper.stopped else {}),
    )
    return result


def rereads_all(config: Config) -> bool:
    """Whether apply re-reads every customer it wrote (``safety.verify``), not only those whose writes'
    answers leave the outcome open."""
    return config.safety.verify == "reread" or (config.safety.verify == "auto" and config.api.bulk_read)


def scrub(text: str, call: Call, generated: Mapping[str, str] | None = None) -> str:
    """An API message with the call's own identifier values (generated card numbers too) masked.

    It goes to the journal and PR comments.
    """
    for item in call.items:
        value = item.raw(generated or {})
        if value and value in text:
            text = text.replace(value, mask_value(item.type, value))
    return text
