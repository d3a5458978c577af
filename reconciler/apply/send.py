"""One call's writes: announce, send, settle an unknown outcome by re-reading, resend only on proof.

- Every send is announced by an ``intent`` line before it goes out, and answered by an ``outcome`` line.
  A journal that cannot take the intent stops the run, and the write is not sent.
- A write with an unknown outcome (timeout, dropped connection, 5xx) is settled by re-reading
  (``resolve.took_effect``) after a jittered, growing pause (``SETTLE``: a write still running on the
  server lands before the re-read, not after it). It is sent again only when that re-read proves it did not
  take effect, each resend backed by its own proof, at most ``MAX_SENDS`` sends in all. A ``generateCard``
  cannot be proven either way (its number was in the lost answer); it is generated again, at most
  ``GENERATE_MAX_SENDS`` sends. Each lost answer may leave one spare NOT_ISSUED, unlinked card in the series
  (harmless, but a number used up); the result says how many may exist.
- Merge warnings on a call the plan did not mark as an allowed merge are incidents.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace

from reconciler.apply.journal import Event
from reconciler.apply.resolve import took_effect
from reconciler.apply.result import APPLIED, FAILED, SKIPPED, CallOutcome, Verdict
from reconciler.apply.run import Run
from reconciler.apply.stop import NotStarted
from reconciler.backoff import Backoff
from reconciler.errors import TRANSIENT, ApiError, Failure, JournalError, OutcomeUnknownError, failure_class
from reconciler.mask import mask_value
from reconciler.model import ChangeResult
from reconciler.plan import CARD_NUMBER, GENERATE_CARD, Call

MAX_SENDS = 5
GENERATE_MAX_SENDS = 3  # resent unproven: each lost answer may leave a spare card; fewer sends, more reruns
# Merge notices that say the merge was done (8050/8051 merging, 8067 already merged): in the errors of an
# org answering them as errors (docs/capillary-api.md 10), an allowed merge's call applied all the same.
MERGED_IN_ERRORS = frozenset({8050, 8051, 8067})
# The pause after an unknown outcome, before re-reading: 0.25 s after the first, doubling, at most 4 s.
SETTLE = Backoff(0.25, 4.0)

_HALTED = "interrupted while in flight: its outcome is unknown (see the journal)"
_UNKNOWN = "the write's outcome is unknown and a re-read could not settle it; not resent"


async def send_call(run: Run, call: Call) -> CallOutcome:
    """Send ``call`` through a slot of the stopper until its outcome is settled."""
    try:
        async with run.stopper.slot():
            return await _sends(run, call)
    except NotStarted as exc:
        return CallOutcome(call.id, call.customer_id, call.op, SKIPPED, str(exc))
    except asyncio.CancelledError:
        _halted(run, call)
        raise
    finally:
        run.sent.pop(call.id, None)


def _halted(run: Run, call: Call) -> None:
    """The stopper cancelled this call: a write with no answer yet may have committed; say so."""
    sends = run.sent.get(call.id)
    if call.id in run.inflight:
        fields = {"method": call.method, "path": call.path, "result": "unknown", "message": "interrupted"}
        run.journal.write_now(Event.OUTCOME, call=call.id, attempt=sends, **fields)
    if sends is not None:
        run.settled(CallOutcome(call.id, call.customer_id, call.op, FAILED, _HALTED, sends))


async def _sends(run: Run, call: Call) -> CallOutcome:
    limit = GENERATE_MAX_SENDS if call.op == GENERATE_CARD else MAX_SENDS
    lost = 0  # generate answers lost, each maybe a spare card
    try:
        for sends in range(1, limit + 1):
            step = await _attempt(run, call, sends)
            if isinstance(step, CallOutcome):
                return step
            lost += step == Verdict.UNKNOWN
    finally:
        if lost:
            _note_lost_generations(run, call, lost)
    return _failed(call, _gave_up(call, limit), limit, TRANSIENT)


async def _attempt(run: Run, call: Call, sends: int) -> CallOutcome | Verdict:
    """One send: the call's outcome, or the verdict that lets it be sent again (``NOT_DONE``, or
    ``UNKNOWN`` for a generate whose answer was lost)."""
    await _intent(run, call, sends)
    try:
        result = await _send(run, call)
    except OutcomeUnknownError as exc:
        return await _unknown(run, call, sends, exc)
    except ApiError as exc:
        return await _refused(run, call, sends, exc)
    codes = [code for code, _ in result.warnings]
    await _outcome(run, call, sends, "ok", created_id=result.created_id, warnings=codes)
    applied = _applied(run, call, sends, result, merged=result.merged)
    return replace(applied, answered=sends == 1 and not applied.merged)


async def _unknown(run: Run, call: Call, sends: int, exc: OutcomeUnknownError) -> CallOutcome | Verdict:
    """No answer: pause, re-read, and settle it (applied, merged, give up) or let it be sent again."""
    message = scrub(exc.api_message, call, run.generated)
    await _outcome(run, call, sends, "unknown", status=exc.status, message=message)
    await run.settle.pause(sends)
    match await _resolve(run, call, sends):
        case Verdict.UNKNOWN if call.op == GENERATE_CARD:  # its number was in the lost answer
            return Verdict.UNKNOWN
        case Verdict.NOT_DONE:
            return Verdict.NOT_DONE
        case Verdict.UNKNOWN:
            return _failed(call, _UNKNOWN, sends, TRANSIENT)
        case verdict:
            return _applied(run, call, sends, ChangeResult(None), merged=verdict == Verdict.MERGED)


async def _refused(run: Run, call: Call, sends: int, exc: ApiError) -> CallOutcome:
    """The API refused the write: it failed, unless the refusal is the notice of a merge the plan allowed."""
    message = scrub(exc.api_message, call, run.generated)
    await _outcome(run, call, sends, "failed", status=exc.status, code=exc.code, message=message)
    detail = scrub(str(exc), call, run.generated)
    if exc.code in MERGED_IN_ERRORS and call.id in run.allowed_merges:
        # the org answers its merge notice as an error (a documented variant): the merge the plan
        # allowed is done; verify re-reads both customers
        done = ChangeResult(None, warnings=((exc.code, message),))
        return _applied(run, call, sends, done, merged=True)
    if exc.code in ChangeResult.MERGE_WARNINGS and call.id not in run.allowed_merges:
        _merge_incident(run, call, f"code {exc.code} in errors")  # it merged all the same
    return _failed(call, detail, sends, failure_class(exc))


def _failed(call: Call, detail: str, sends: int, failure: Failure) -> CallOutcome:
    return CallOutcome(call.id, call.customer_id, call.op, FAILED, detail, sends, failure=failure)


def _gave_up(call: Call, sends: int) -> str:
    if call.op == GENERATE_CARD:
        return f"generated {sends} times; every answer was lost, so no number is known to link"
    return f"sent {sends} times; each time the outcome was unknown and a re-read showed no effect"


def _note_lost_generations(run: Run, call: Call, lost: int) -> None:
    """One note per generate call whose answers were lost: how many spare cards may exist."""
    series = call.card.series_id if call.card else None
    run.notes.append(
        f"customer {call.customer_id}: {lost} card generation {'answer' if lost == 1 else 'answers'} "
        f"lost; up to {lost} spare NOT_ISSUED {'card' if lost == 1 else 'cards'} may exist unlinked "
        f"in series {series}"
    )


async def _resolve(run: Run, call: Call, sends: int) -> Verdict:
    verdict = await took_effect(call, run.writer, run.generated)
    how = "re-read" if call.op != GENERATE_CARD else "cannot be re-read (its number was lost)"
    await run.journal.record(Event.RESOLVED, call=call.id, attempt=sends, applied=verdict.applied, how=how)
    return verdict


def _applied(run: Run, call: Call, sends: int, result: ChangeResult, *, merged: bool) -> CallOutcome:
    codes = tuple(code for code, _ in result.warnings)
    detail = "" if sends == 1 else f"applied after {sends} sends (unknown outcomes settled by re-reading)"
    if merged and call.id in run.allowed_merges:
        run.notes.append(f"customer {call.customer_id}: merged as the plan allowed ({call.id})")
    elif merged:
        signs = [f"warnings {', '.join(map(str, codes))}"] if codes else []
        if result.created_id not in (None, call.customer_id):
            signs.append(f"createdId {result.created_id}")
        _merge_incident(run, call, "; ".join(signs) or "seen on re-read")
    return CallOutcome(call.id, call.customer_id, call.op, APPLIED, detail, sends, codes, merged)


def _merge_incident(run: Run, call: Call, how: str) -> None:
    run.incidents.append(
        f"customer {call.customer_id}: call {call.id} ({call.op}) MERGED accounts ({how}); "
        "the plan did not allow it"
    )


async def _send(run: Run, call: Call) -> ChangeResult:
    result = await run.writer.send(call, run.generated)
    if call.op == GENERATE_CARD:
        run.generated[call.id] = result.cards[0]
    return result


async def _intent(run: Run, call: Call, attempt: int) -> None:
    """The ``intent`` line, on disk before the write is sent; raises ``NotStarted`` if it may not be."""
    if run.stopper.stopped:
        raise NotStarted(f"not started: {run.stopper.reason}")
    try:
        await _record_intent(run, call, attempt)
    except JournalError as exc:  # never send a write the journal did not announce
        run.stopper.stop(str(exc), journal=True)
        raise NotStarted(f"not started: {exc}") from None
    run.sent[call.id] = attempt
    run.inflight.add(call.id)


async def _record_intent(run: Run, call: Call, attempt: int) -> None:
    data = call.to_dict()
    await run.journal.record(
        Event.INTENT,
        call=call.id,
        attempt=attempt,
        customer_id=call.customer_id,
        op=call.op,
        method=call.method,
        path=call.path,
        query=data["query"],
        body=data["body"],
        generated={k: mask_value(CARD_NUMBER, v) for k, v in run.generated.items() if k in call.after},
    )


async def _outcome(run: Run, call: Call, attempt: int, result: str, **fields: object) -> None:
    run.inflight.discard(call.id)
    if result == "ok" and call.id in run.generated:
        fields["card"] = mask_value(CARD_NUMBER, run.generated[call.id])
        fields["customer_id"] = call.customer_id
        fields["series"] = call.card.series_id if call.card else None
    await run.journal.record(
        Event.OUTCOME,
        call=call.id,
        attempt=attempt,
        method=call.method,
        path=call.path,
        result=result,
        **fields,
    )


def scrub(text: str, call: Call, generated: Mapping[str, str] | None = None) -> str:
    """An API message with the call's own identifier values (generated card numbers too) masked.

    It goes to the journal and PR comments.
    """
    for item in call.items:
        value = item.raw(generated or {})
        if value and value in text:
            text = text.replace(value, mask_value(item.type, value))
    return text
