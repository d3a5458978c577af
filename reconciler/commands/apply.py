"""``reconciler apply``: re-plan against live state, prove it is the reviewed plan, run it, journal it."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import click

from reconciler.apply import ApplyResult, apply_plan
from reconciler.apply.journal import Journal, default_journal_path
from reconciler.capillary import CapillaryWriter
from reconciler.commands.plan import plan_through
from reconciler.commands.plan import render as render_plan
from reconciler.commands.progress import reporter
from reconciler.commands.target import open_target
from reconciler.commands.workspace import (
    Workspace,
    config_option,
    load_workspace,
    report_state_error,
    resolve_scope,
    run_async,
    scope_options,
    shard_rate,
    write_output,
)
from reconciler.errors import EXIT_BLOCKED, EXIT_ERROR, EXIT_OK, EXIT_STALE, StateError, UsageError
from reconciler.plan import Plan
from reconciler.plan.scope import Scope
from reconciler.render.result import render_result_json, render_result_markdown, render_result_text
from reconciler.render.words import counted

FORMATS = ("text", "markdown", "json")


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    checksum: str | None
    auto_approve: bool
    journal: Path | None
    force: bool
    fmt: str


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
        click.echo("error: the plan is blocked; apply refuses it (see the reasons above)", err=True)
        return EXIT_BLOCKED
    if opts.checksum is not None and plan.checksum != opts.checksum:
        write_output(render_plan(plan, opts.fmt), None)
        click.echo(
            f"error: stale: the plan now has checksum {plan.checksum}, not the reviewed {opts.checksum}; "
            "nothing was written",
            err=True,
        )
        return EXIT_STALE
    if not plan.calls:
        click.echo(f"Target: {plan.target}\nNo changes. Nothing to apply.")
        return EXIT_OK
    if opts.checksum is None and not opts.auto_approve:
        write_output(render_plan(plan, "text", to_tty=True), None)
        if not click.confirm(
            f"Apply {counted(len(plan.calls), 'API call')} to {plan.target}?", default=False
        ):
            click.echo("Apply cancelled; nothing was written.", err=True)
            return EXIT_ERROR
    return None


async def run_apply(ws: Workspace, scope: Scope, opts: ApplyOptions) -> int:
    """Re-plan through the writer, gate it, execute it; returns the exit code."""
    async with open_target(ws.config, write=True) as writer:
        assert isinstance(writer, CapillaryWriter)
        plan = await plan_through(writer, ws, scope, force=opts.force)
        code = _gate(plan, opts)
        if code is not None:
            return code
        journal = Journal(opts.journal or default_journal_path(ws.config.root))
        shown, close = reporter()
        try:
            result = await apply_plan(plan, writer, ws.state.by_id(), ws.config, journal, shown)
        finally:
            close()
            journal.close()
    write_output(render_result(result, opts.fmt), None)
    return result.exit_code


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
    all_: bool,
    changed_since: str | None,
    shard: str | None,
    customer_ids: tuple[int, ...],
    full_rate: bool,
    checksum: str | None,
    auto_approve: bool,
    journal: Path | None,
    force: bool,
    fmt: str,
) -> None:
    """Apply the plan to the live API: the reviewed one (--checksum) or after approval."""
    if checksum is not None and auto_approve:
        raise UsageError("--checksum and --auto-approve exclude each other")
    if checksum is None and not auto_approve and not sys.stdin.isatty():
        raise UsageError("not a terminal: pass --checksum SHA (the reviewed plan) or --auto-approve")
    checksum = checksum.strip().lower() if checksum is not None else None
    if checksum is not None and (len(checksum) != 64 or any(c not in "0123456789abcdef" for c in checksum)):
        raise UsageError(f"--checksum {checksum!r}: expected the 64 hex digits a plan prints")
    try:
        ws = load_workspace(config_path)
    except StateError as exc:
        report_state_error(exc)
        ctx.exit(EXIT_ERROR)
    scope = resolve_scope(ws, all_, changed_since, shard, customer_ids)
    ws = shard_rate(ws, shard, full_rate)
    opts = ApplyOptions(checksum, auto_approve, journal, force, fmt)
    ctx.exit(run_async(run_apply(ws, scope, opts)))
