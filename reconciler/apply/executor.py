"""Runs a Plan's calls: in dependency order, customers in parallel, each customer's calls in sequence.

``apply_plan`` is four steps: set the run up (``_set_up``: the context every step shares, ``run.py``), run
every customer's chain (``_run_customers``; one customer's calls are ``customer.py``, one call's sends and
their settling are ``send.py``), verify (``_verify``), close (``_close``: the result and the journal's
``end`` line).

- Every customer written is re-read and compared with the plan (``verify.py``) as soon as no call of the
  plan can still change it: its own calls and those of the customers entangled with it (moves, merges)
  have settled. The re-reads run beside the remaining writes; the result waits for the last of them.
- A stopped run is not verified: it is re-planned, and its summary says what was written.
Concurrency and the rate limit are the client's (``api.concurrency``, ``api.requests_per_minute``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from reconciler.apply.batch import BatchedReads
from reconciler.apply.customer import run_customer
from reconciler.apply.guard import HolderGuard
from reconciler.apply.journal import FORMAT_VERSION, Event, Journal
from reconciler.apply.result import ApplyResult, CustomerResult, GeneratedCard, Verification
from reconciler.apply.run import Run
from reconciler.apply.send import GENERATE_MAX_SENDS, MAX_SENDS, MERGED_IN_ERRORS, SETTLE, scrub
from reconciler.apply.stop import Stopper, halted_results, write_counts
from reconciler.apply.verify import Verifier
from reconciler.backoff import Backoff
from reconciler.capillary import CapillaryWriter
from reconciler.config import Config
from reconciler.mask import mask_value
from reconciler.model import DesiredCustomer, Progress, no_progress
from reconciler.plan import CARD_NUMBER, MERGE, Call, Plan

__all__ = [
    "GENERATE_MAX_SENDS",
    "MAX_SENDS",
    "MERGED_IN_ERRORS",
    "SETTLE",
    "apply_plan",
    "scrub",
]


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
    stopper = stopper or Stopper(config.api.concurrency)
    run = _set_up(plan, writer, desired, config, journal, progress, settle, stopper, cleared)
    verifier = _verifier(run)
    customers = await _run_customers(run, verifier)
    checked = await _verify(run, verifier)
    return _close(run, customers, checked, time.monotonic() - started)


def _set_up(
    plan: Plan,
    writer: CapillaryWriter,
    desired: Mapping[int, DesiredCustomer],
    config: Config,
    journal: Journal,
    progress: Progress,
    settle: Backoff,
    stopper: Stopper,
    cleared: asyncio.Event | None,
) -> Run:
    """The run's context, the stop hooked to the journal, and the journal's ``run`` header."""
    merge_actions = {a.id for a in plan.actions if a.risk == MERGE and not a.blocked}
    run = Run(
        plan,
        writer,
        desired,
        config,
        journal,
        HolderGuard(plan, writer),
        BatchedReads(writer, config.api.bulk_batch_size if config.api.bulk_read else 1),
        allowed_merges=frozenset(c.id for c in plan.calls if merge_actions.intersection(c.actions)),
        progress=progress,
        settle=settle,
        stopper=stopper,
        cleared=cleared,
    )
    journal.on_full = lambda why: stopper.stop(why, journal=True)
    stopper.on_stop = lambda why: _on_stop(run, why)
    progress("writes", 0, len(plan.calls))
    _write_header(run)
    return run


def _write_header(run: Run) -> None:
    """The journal's ``run`` line: the plan that runs, before any write."""
    run.journal.write_now(
        Event.RUN,
        format_version=FORMAT_VERSION,
        checksum=run.plan.checksum,
        target=run.plan.target,
        calls=len(run.plan.calls),
        customers=len(run.by_customer()),
    )


def _on_stop(run: Run, why: str) -> None:
    run.journal.write_now(Event.STOP, reason=why)
    if run.cleared is not None:
        run.cleared.set()  # the customers waiting to start see the stop


def _verifier(run: Run) -> Verifier:
    # With bulk reads a re-read of every written customer costs a request per batch: all are re-read.
    # Without, one request each: only those whose writes' answers leave the outcome open (verify.py).
    api = run.config.api
    return Verifier(
        run.plan,
        run.writer,
        run.generated,
        reread_all=run.config.rereads_written,
        batch=api.bulk_batch_size if api.bulk_read else 1,
    )


async def _run_customers(run: Run, verifier: Verifier) -> tuple[CustomerResult, ...]:
    """Every customer's chain, each handed to the verifier as soon as nothing can change it."""
    by_customer = run.by_customer()

    async def customer(cid: int, calls: list[Call]) -> CustomerResult:
        result = await run_customer(run, cid, calls)
        if not run.stopper.stopped:
            verifier.finished(result)  # re-read now if nothing left can change it
        return result

    try:
        results = await run.stopper.run(customer(cid, calls) for cid, calls in by_customer.items())
    except BaseException:  # cancelled from outside: no re-read outlives the apply
        await verifier.cancel()
        raise
    finally:
        await run.reads.close()
    if results is None:  # halted: the customers' tasks were cancelled; rebuild from what settled
        results = halted_results(by_customer, run.outcomes, run.stopper.reason or "interrupted")
    return tuple(sorted(results, key=lambda r: r.id))


async def _verify(run: Run, verifier: Verifier) -> Verification:
    """The re-reads' verdict; none for a stopped run (it is re-planned, not verified)."""
    if run.stopper.stopped:
        await verifier.cancel()
        return Verification()
    checked = await verifier.results(run.progress)
    await run.journal.record(
        Event.VERIFIED, verified=checked.verified, written=checked.written, reread=checked.reread
    )
    return checked


def _close(
    run: Run, customers: tuple[CustomerResult, ...], checked: Verification, elapsed: float
) -> ApplyResult:
    """The result, and the journal's ``end`` line."""
    result = ApplyResult(
        run.plan.target,
        run.plan.checksum,
        customers,
        tuple(run.incidents),
        tuple(run.notes),
        str(run.journal.path),
        elapsed,
        checked,
        _generated_cards(run.plan, run.generated),
    )
    stopper, journal = run.stopper, run.journal
    journal.write_now(
        Event.END,
        counts=result.counts,
        writes=write_counts(result),
        incidents=len(result.incidents),
        exit_code=stopper.exit_code or result.exit_code,
        **({"stopped": stopper.reason, "dropped": journal.dropped} if stopper.stopped else {}),
    )
    return result


def _generated_cards(plan: Plan, generated: Mapping[str, str]) -> tuple[GeneratedCard, ...]:
    """The cards generated by the run, masked, in plan order."""
    return tuple(
        GeneratedCard(
            c.customer_id, c.card.series_id if c.card else None, mask_value(CARD_NUMBER, generated[c.id])
        )
        for c in plan.calls
        if c.id in generated
    )
