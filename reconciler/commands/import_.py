"""``reconciler import``: write state YAML for existing customers, then prove it by an empty plan."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.capillary import CapillaryReader
from reconciler.commands.options import config_option
from reconciler.commands.outputs import echo, report_state_error
from reconciler.commands.plan import render as render_plan
from reconciler.commands.progress import reporter
from reconciler.commands.runner import run_async
from reconciler.commands.target import open_target
from reconciler.config import Config
from reconciler.desired import load_state
from reconciler.desired.importer import (
    Imported,
    parse_lookup,
    parse_request_file,
    read_for_import,
    write_state,
)
from reconciler.errors import EXIT_ERROR, EXIT_OK, ImportRejected, ReconcilerError, StateError, UsageError
from reconciler.model import Identifier, Progress
from reconciler.plan import Plan, describe_target
from reconciler.plan.live import make_plan
from reconciler.render.words import counted
from reconciler.workspace import load_repository
from reconciler.yaml import display_name


def _where(paths: list[Path], out: Path) -> str:
    """The written file, or the count in ``out``, as the loader names files."""
    return display_name(paths[0]) if len(paths) == 1 else f"{len(paths)} files in {display_name(out)}"


def _state_paths(config: Config, written: list[Path]) -> list[Path]:
    state_dir = (config.root / config.state_dir).resolve()
    outside = [p for p in written if not p.resolve().is_relative_to(state_dir)]
    return [state_dir, *outside] if state_dir.exists() else outside


async def _plan_written(
    reader: CapillaryReader, config: Config, imported: Imported, written: list[Path], progress: Progress
) -> Plan:
    try:
        state = load_state(_state_paths(config, written), root=config.root)
    except StateError as exc:
        raise ImportRejected(exc, written) from None
    ids = {c.id for c in imported.customers}
    scope = [c for c in state.customers if c.id in ids]
    return await make_plan(
        reader,
        scope,
        state.by_id(),
        config,
        target=describe_target(config),
        progress=lambda phase, done, total: progress(f"verifying {phase}", done, total),
    )


def _already_declared(config: Config, imported: Imported) -> None:
    """Refuse, before writing anything, customers the state already declares (they would be twice)."""
    state_dir = config.root / config.state_dir
    if not state_dir.exists():
        return
    declared = load_state(
        [state_dir], root=config.root
    ).by_id()  # a StateError: invalid already, nothing written
    twice = [declared[c.id] for c in imported.customers if c.id in declared]
    if twice:
        where = "; ".join(f"{c.id} at {c.loc}" for c in twice[:5])
        more = f" and {len(twice) - 5} more" if len(twice) > 5 else ""
        raise ReconcilerError(
            f"already declared in {config.state_dir}/: {where}{more}; import writes only customers the state "
            "does not declare yet (nothing was written)"
        )


def _set_aside(written: list[Path]) -> list[Path]:
    """Rename rejected files to ``*.rejected``: kept for inspection, no longer read as state."""
    aside = []
    for path in written:
        target, n = path.with_name(path.name + ".rejected"), 0
        while target.exists():  # never over an earlier rejected import
            n += 1
            target = path.with_name(f"{path.name}.rejected.{n}")
        path.rename(target)
        aside.append(target)
    return aside


async def run_import(
    config: Config, ids: list[int], lookups: list[Identifier], out: Path, per_customer: bool
) -> tuple[Imported, list[Path], Plan]:
    """Read, write and plan; the plan must be empty for the import to count."""
    target = describe_target(config)
    shown, close = reporter()
    async with open_target(config) as reader:
        try:
            imported = await read_for_import(reader, ids, lookups, config, shown)
        finally:
            close()
        for warning in imported.warnings:
            echo(f"warning: {warning}", err=True)
        if not imported.customers:
            raise ReconcilerError("nothing to import: no usable customer among those requested")
        _already_declared(config, imported)
        written = write_state(imported, out, per_customer=per_customer, config=config, target=target)
        try:
            return imported, written, await _plan_written(reader, config, imported, written, shown)
        except ImportRejected:
            raise  # the command reports the problems, then sets the files aside
        except BaseException:  # the proof could not be made (API error, interrupt): not left as state
            aside = _set_aside(written)
            echo(f"note: the proving plan did not finish; set aside as {_where(aside, out)}", err=True)
            raise
        finally:
            close()


def _rejected(exc: StateError, out: Path) -> int:
    """Every problem; then what became of the written YAML (set aside), or that the state was invalid."""
    report_state_error(exc)
    if isinstance(exc, ImportRejected):
        aside = _set_aside(exc.written)
        echo(
            f"error: the imported YAML does not validate; set aside as {_where(aside, out)} to inspect",
            err=True,
        )
    else:
        echo("error: the state is invalid already (see above); nothing was written", err=True)
    return EXIT_ERROR


@click.command("import")
@config_option
@click.option(
    "--customer",
    "--id",
    "ids",
    type=click.IntRange(1, 2**63 - 1),
    multiple=True,
    metavar="ID",
    help="Customer ID (repeatable).",
)
@click.option("--lookup", "lookups", multiple=True, metavar="TYPE=VALUE", help="A customer by identifier.")
@click.option(
    "--from-file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Read customer ids and TYPE=VALUE lines from FILE.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="Write to PATH: a file (a directory with --file-per-customer).",
)
@click.option(
    "--one-file/--file-per-customer", "one_file", default=True, help="One file (default) or one each."
)
def command(
    config_path: Path,
    ids: tuple[int, ...],
    lookups: tuple[str, ...],
    from_file: Path | None,
    out: Path | None,
    one_file: bool,
) -> int:
    """Write state YAML for live customers; fails unless a plan on it shows no changes."""
    if sum(bool(x) for x in (ids, lookups, from_file)) != 1:
        raise UsageError("give exactly one of --customer (--id), --lookup or --from-file")
    config = load_repository(config_path)
    wanted, idents = list(ids), [parse_lookup(t) for t in lookups]
    if from_file is not None:
        wanted, idents = parse_request_file(from_file)
    state_dir = config.root / config.state_dir
    out = out or (state_dir / "imported.yaml" if one_file else state_dir)
    try:
        imported, written, plan = run_async(run_import(config, wanted, idents, out, not one_file))
    except StateError as exc:
        return _rejected(exc, out)
    if plan.has_changes or plan.blocked:
        echo(render_plan(plan, "text"), err=True)
        aside = _set_aside(written)
        echo(
            f"error: a plan on the imported YAML is not empty (see above); set aside as {_where(aside, out)}",
            err=True,
        )
        return EXIT_ERROR
    count = counted(len(imported.customers), "customer")
    echo(f"Imported {count} into {_where(written, out)}; plan: no changes.")
    return EXIT_OK
