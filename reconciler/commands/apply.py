"""``reconciler apply``: re-plan against live state, prove it is the reviewed plan, run it, journal it."""

from __future__ import annotations

import asyncio
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from reconciler.apply import ApplyResult, apply_plan
from reconciler.apply.journal import Journal, default_journal_path
from reconciler.apply.lock import lock_path, target_lock
from reconciler.apply.stop import GRACE_SECONDS, Stopper, write_counts
from reconciler.capillary import CapillaryWriter
from reconciler.commands.options import config_option, scope_options
from reconciler.commands.outputs import check_writable, echo, say_error, write_output
from reconciler.commands.plan import (
    TWIN_PROCESS_FROM,
    TwinWorker,
    plan_through,
    simulate_plan,
    simulation_lines,
)
from reconciler.commands.plan import render as render_plan
from reconciler.commands.progress import reporter
from reconciler.commands.runner import plain_signals, run_async
from reconciler.commands.target import open_target
from reconciler.config import CONFIG_FILE, Config
from reconciler.errors import EXIT_BLOCKED, EXIT_ERROR, EXIT_OK, EXIT_STALE, UsageError
from reconciler.model import Progress
from reconciler.plan import Plan, describe_target, target_key
from reconciler.plan.scope import Scope
from reconciler.render.escape import visible
from reconciler.render.report import (
    render_result_json,
    render_result_markdown,
    render_result_text,
    render_stopped,
)
from reconciler.render.words import counted
from reconciler.simulate import Simulation
from reconciler.workspace import ScopeOptions, Workspace, load_workspace, resolve_scope, shard_rate

FORMATS = ("text", "markdown", "json")


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    checksum: str | None
    auto_approve: bool
    journal: Path | None
    force: bool
    fmt: str
    scope_args: list[str] = field(default_factory=list)  # as given: the resume command repeats them


def render_result(result: ApplyResult, fmt: str) -> str:
    """The result in ``fmt``."""
    if fmt == "json":
        return render_result_json(result)
    if fmt == "markdown":
        return render_result_markdown(result)
    return render_result_text(result)


def _gate(plan: Plan, opts: ApplyOptions) -> int | None:
    """An exit code when the plan must not run (blocked, stale, nothing to do, declined); else None."""
    if plan.blocked:
        write_output(render_plan(plan, opts.fmt), None)
        echo("error: the plan is blocked; apply refuses it (see the reasons above)", err=True)
        return EXIT_BLOCKED
    if opts.checksum is not None and plan.checksum != opts.checksum:
        write_output(render_plan(plan, opts.fmt), None)
        echo(
            f"error: stale: the plan now has checksum {plan.checksum}, not the reviewed {opts.checksum}; "
            "nothing was written",
            err=True,
        )
        return EXIT_STALE
    if not plan.calls:
        if opts.fmt == "json":  # a JSON reader gets JSON: the plan, which says it has no changes
            write_output(render_plan(plan, "json"), None)
        else:
            echo(visible(f"Target: {plan.target}") + "\nNo changes. Nothing to apply.")
        return EXIT_OK
    if opts.checksum is None and not opts.auto_approve:
        write_output(render_plan(plan, "text", to_tty=True), None, styled=True)
        with plain_signals():
            question = visible(f"Apply {counted(len(plan.calls), 'API call')} to {plan.target}?")
            confirmed = click.confirm(question, default=False)
        if not confirmed:
            echo("Apply cancelled; nothing was written.", err=True)
            return EXIT_ERROR
    return None


async def replan(writer: CapillaryWriter, ws: Workspace, scope: Scope, opts: ApplyOptions) -> Plan:
    """The plan under the lock (docs/architecture.md 5.2). Against a reviewed checksum it is made first
    with the holders taken from the customers read, not looked up: a plan that was not blocked names only
    those, and the write-time holder check looks every add up once, in every scope, just before its
    write. When that plan's checksum is not the reviewed one (a holder outside the scope joined the
    reviewed plan, or live state changed), the plan is made again with every lookup, as ``plan`` makes
    it: that is the plan a stale apply shows."""
    if opts.checksum is not None:
        plan = await plan_through(writer, ws, scope, force=opts.force, lookups=False)
        if plan.checksum == opts.checksum:
            return plan
    return await plan_through(writer, ws, scope, force=opts.force)


def lock_key(config: Config) -> str:
    """What the apply lock is taken on: the target (``target_key``), or the embedded sandbox's database (one
    per checkout)."""
    if config.api.is_sandbox:
        return f"sandbox:{(config.root / config.api.sandbox_db).resolve()}"
    return target_key(config)


async def run_apply(
    ws: Workspace,
    scope: Scope,
    opts: ApplyOptions,
    stopper: Stopper | None = None,
    *,
    rate_window: float = 60.0,
) -> int:
    """Under the target's lock: re-plan through the writer, gate it, execute it; returns the exit code.

    ``stopper`` is what SIGINT/SIGTERM stop (``run_async``'s ``on_signal``): the run then ends early with
    a summary and the commands that finish the work. ``rate_window`` is the limiter's window for
    ``api.requests_per_minute`` (only benchmarks shorten it).
    """
    stopper = stopper or Stopper(ws.config.api.concurrency)
    async with open_target(ws.config, write=True, rate_window=rate_window) as writer:
        assert isinstance(writer, CapillaryWriter)
        target = describe_target(ws.config)
        with target_lock(lock_path(lock_key(ws.config)), target) as note:
            if note:
                echo(f"note: {note}", err=True)
            return await _locked_apply(writer, ws, scope, opts, stopper)


async def _locked_apply(
    writer: CapillaryWriter, ws: Workspace, scope: Scope, opts: ApplyOptions, stopper: Stopper
) -> int:
    """The apply proper; the plan is made under the lock, so it sees every earlier apply's writes."""
    big = ws.config.simulate and len(scope.customers) >= TWIN_PROCESS_FROM
    worker = TwinWorker() if big else None  # warmed while the re-plan reads
    try:
        plan = await replan(writer, ws, scope, opts)
        code = _gate(plan, opts)
        if code is not None:
            return code
        journal = Journal(opts.journal or default_journal_path(ws.config.root))
        shown, close = reporter()
        try:
            result, simulation = await _simulated_apply(plan, writer, ws, journal, shown, stopper, worker)
        finally:
            close()
            journal.close()
    finally:
        if worker is not None:
            worker.close()
    if simulation is not None and simulation.blocks:
        if opts.fmt == "json":  # the plan with its diverged simulation, as plan --format json shows it
            write_output(render_plan(plan, "json", simulation=simulation), None)
        for line in simulation_lines(simulation):
            echo(line, err=True)
        say_error("the simulated apply of this plan diverged (above): nothing was written")
        return EXIT_BLOCKED
    if stopper.reason is None:
        write_output(render_result(result, opts.fmt), None)
        return result.exit_code
    return _report_stop(result, stopper, journal, opts)


async def _simulated_apply(
    plan: Plan,
    writer: CapillaryWriter,
    ws: Workspace,
    journal: Journal,
    shown: Progress,
    stopper: Stopper,
    worker: TwinWorker | None = None,
) -> tuple[ApplyResult, Simulation | None]:
    """The apply, and beside it the simulated apply of its plan (docs/architecture.md 4.9): the
    precondition reads go while the twin runs, and no holder check or write starts before its verdict; a
    divergence stops the apply before its first write."""
    if not (ws.config.simulate and plan.calls):
        return await apply_plan(
            plan, writer, ws.state.by_id(), ws.config, journal, shown, stopper=stopper
        ), None
    cleared = asyncio.Event()

    async def verdict() -> Simulation:
        try:
            simulation = await simulate_plan(plan, ws, worker=worker)
        except BaseException:
            stopper.stop("the simulated apply of this plan failed", refused=True)
            raise
        finally:
            cleared.set()
        if simulation.blocks:
            stopper.stop("the simulated apply of this plan diverged", refused=True)
        return simulation

    run = apply_plan(
        plan, writer, ws.state.by_id(), ws.config, journal, shown, stopper=stopper, cleared=cleared
    )
    result, simulation = await asyncio.gather(run, verdict(), return_exceptions=True)
    for outcome in (simulation, result):
        if isinstance(outcome, BaseException):
            raise outcome
    assert isinstance(result, ApplyResult) and isinstance(simulation, Simulation)
    return result, simulation


def _report_stop(result: ApplyResult, stopper: Stopper, journal: Journal, opts: ApplyOptions) -> int:
    """The summary of a stopped run (on stdout for text; after the JSON or Markdown result, on stderr)."""
    force = ["--force"] if opts.force else []
    resume = [
        shlex.join(["reconciler", "plan", *opts.scope_args, *force]),
        shlex.join(["reconciler", "apply", *opts.scope_args, *force])
        + " --checksum <the checksum it prints>",
    ]
    reason = stopper.reason or "stopped"
    if stopper.halted:
        reason += f"; writes still in flight after {GRACE_SECONDS:.0f} s or a second signal were halted"
    text = render_stopped(result, reason, write_counts(result), resume)
    if journal.lost:
        text += f"warning: {journal.lost} journal line(s) could not be written ({journal.full})\n"
    if opts.fmt == "text":
        write_output(text, None)
    else:
        write_output(render_result(result, opts.fmt), None)
        echo(text, err=True, nl=False)
    return stopper.exit_code or result.exit_code


@click.command("apply")
@config_option
@scope_options
@click.option("--checksum", metavar="SHA", help="Run only if the re-plan has this checksum.")
@click.option("--auto-approve", is_flag=True, help="Run without a checksum or a confirmation.")
@click.option(
    "--journal",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Write the journal to FILE (JSON lines).",
)
@click.option("--force", is_flag=True, help="Let safety budgets pass (never merges or conflicts).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.pass_context
def command(
    ctx: click.Context,
    config_path: Path,
    scope: ScopeOptions,
    checksum: str | None,
    auto_approve: bool,
    journal: Path | None,
    force: bool,
    fmt: str,
) -> int:
    """Apply the plan to the live API: the reviewed one (--checksum) or after approval."""
    if checksum is not None and auto_approve:
        raise UsageError("--checksum and --auto-approve exclude each other")
    if checksum is None and not auto_approve and not sys.stdin.isatty():
        raise UsageError("not a terminal: pass --checksum SHA (the reviewed plan) or --auto-approve")
    checksum = checksum.strip().lower() if checksum is not None else None
    if checksum is not None and (len(checksum) != 64 or any(c not in "0123456789abcdef" for c in checksum)):
        raise UsageError(f"--checksum {checksum!r}: expected the 64 hex digits a plan prints")
    ws = load_workspace(config_path)
    covered = resolve_scope(ws, scope)
    ws = shard_rate(ws, scope)
    journal = journal or default_journal_path(ws.config.root)
    check_writable(journal, "--journal")  # before the first API call: a bad journal sends nothing
    opts = ApplyOptions(
        checksum,
        auto_approve,
        journal,
        force,
        fmt,
        _scope_args(ctx, scope),
    )
    stopper = Stopper(ws.config.api.concurrency)
    return run_async(run_apply(ws, covered, opts, stopper), on_signal=stopper.on_signal)


def _scope_args(ctx: click.Context, scope: ScopeOptions) -> list[str]:
    """The options that chose this run's scope (and its config), to repeat in the resume command."""
    config = ctx.params.get("config_path")
    args = [] if config is None or str(config) == CONFIG_FILE else ["--config", str(config)]
    args += ["--changed-since", scope.changed_since] if scope.changed_since else ["--all"]
    args += [a for cid in scope.customers for a in ("--customer", str(cid))]
    shard = ["--shard", scope.shard] if scope.shard else []
    return args + shard + (["--full-rate"] if scope.shard and scope.full_rate else [])
