"""``reconciler plan``: what would change, what the API would do besides, and the checksum to apply."""

from __future__ import annotations

import asyncio
import concurrent.futures
import concurrent.futures.process
import logging
import multiprocessing
import pickle
import signal
from dataclasses import replace
from pathlib import Path

import click

from reconciler.capillary import CapillaryReader
from reconciler.commands.options import config_option, scope_options
from reconciler.commands.outputs import check_writable, use_color, write_output
from reconciler.commands.progress import quiet, reporter
from reconciler.commands.runner import run_async
from reconciler.commands.target import open_target, sandbox_settings
from reconciler.errors import EXIT_BLOCKED, EXIT_CHANGES, EXIT_OK, UsageError
from reconciler.plan import Plan, describe_target
from reconciler.plan.live import make_plan
from reconciler.plan.scope import Scope
from reconciler.render.json import render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from reconciler.sandbox.settings import Settings
from reconciler.simulate import NOT_SIMULATED, Simulation, simulate, twin_settings
from reconciler.workspace import ScopeOptions, Workspace, load_workspace, resolve_scope, shard_rate

FORMATS = ("text", "markdown", "json")
log = logging.getLogger(__name__)


async def compute_plan(
    ws: Workspace, scope: Scope, *, force: bool = False, progress: bool = True, rate_window: float = 60.0
) -> Plan:
    """Plan ``scope`` against the configured target through the read-only client (``rate_window``: the
    limiter's window for ``api.requests_per_minute``; only benchmarks shorten it)."""
    async with open_target(ws.config, rate_window=rate_window) as reader:
        return await plan_through(reader, ws, scope, force=force, progress=progress)


async def plan_through(
    reader: CapillaryReader,
    ws: Workspace,
    scope: Scope,
    *,
    force: bool = False,
    progress: bool = True,
    lookups: bool = True,
) -> Plan:
    """Plan ``scope`` through ``reader`` (apply passes its writer), with progress on stderr; ``lookups``
    as ``make_plan``'s."""
    shown, close = reporter()
    try:
        plan = await make_plan(
            reader,
            scope.customers,
            ws.state.by_id(),
            ws.config,
            target=describe_target(ws.config),
            unmanaged=scope.unmanaged,
            force=force,
            progress=shown if progress else quiet,
            lookups=lookups,
        )
    finally:
        close()
    return replace(plan, selected=scope.selected) if scope.selected else plan


# A scope this large has a twin whose CPU (about 5 ms a simulated call here) would hold up apply's own
# requests: apply runs it in a worker process, started before its re-plan so that it is ready.
TWIN_PROCESS_FROM = 200


class TwinWorker:
    """One worker process for the simulated apply (spawned: it shares nothing with this process but the
    plan it is sent, pickled), warmed while the re-plan reads."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pool = concurrent.futures.ProcessPoolExecutor(
            1, mp_context=context, initializer=_worker_signals
        )
        self._warm = self._pool.submit(_warm_twin)

    async def simulate(self, plan: Plan, ws: Workspace, settings: Settings) -> Simulation:
        """The verdict from the worker; from this process when the worker cannot give it (it could not
        start, or died): the verdict is never skipped."""
        loop = asyncio.get_running_loop()
        desired = ws.state.by_id()
        try:
            # pickled here, not in the pool's feeder thread: the apply goes on using the plan meanwhile
            sent = pickle.dumps((plan, desired, ws.config, settings), protocol=pickle.HIGHEST_PROTOCOL)
            return await loop.run_in_executor(self._pool, _simulate_now, sent)
        except (concurrent.futures.process.BrokenProcessPool, OSError, pickle.PicklingError) as exc:
            log.warning("the simulated apply's worker process failed (%s); simulating here", exc)
            return await simulate(plan, desired, ws.config, settings=settings)

    def close(self) -> None:
        self._warm.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _worker_signals() -> None:
    """The worker leaves SIGINT to the apply (a terminal sends it to the whole group): the apply stops
    its writes and waits for the verdict it started."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _warm_twin() -> None:
    """Import what the twin needs, in the worker, before the plan is there."""
    import reconciler.simulate  # noqa: F401


def _simulate_now(sent: bytes) -> Simulation:
    """The worker's side: the twin of the plan it was sent (pickled by this package's own process), on the
    worker's own event loop."""
    plan, desired, config, settings = pickle.loads(sent)
    return asyncio.run(simulate(plan, desired, config, settings=settings))


async def simulate_plan(plan: Plan, ws: Workspace, *, worker: TwinWorker | None = None) -> Simulation:
    """The simulated apply of ``plan`` on a twin of the org seeded from its own read (reconciler.simulate),
    under the target's settings where it is a sandbox; in ``worker``'s process when given (apply reads
    its preconditions meanwhile)."""
    settings = twin_settings(await sandbox_settings(ws.config))
    if worker is not None:
        return await worker.simulate(plan, ws, settings)
    return await simulate(plan, ws.state.by_id(), ws.config, settings=settings)


def simulation_lines(simulation: Simulation | None) -> list[str]:
    """The simulated apply's line, then each divergence and what it could not model, indented."""
    if simulation is None:
        return []
    lines = [simulation.summary()]
    lines += [f"  {d}" for d in simulation.divergences]
    if simulation.status != NOT_SIMULATED:
        lines += [f"  not simulated: {why}" for why in simulation.not_simulated]
    return lines


def render(
    plan: Plan,
    fmt: str,
    *,
    show_values: bool = False,
    to_tty: bool = False,
    simulation: Simulation | None = None,
) -> str:
    """The plan in ``fmt``; raw values only in text, and only when asked."""
    if fmt == "json":
        return render_json(plan, simulation.to_dict() if simulation else None)
    lines = simulation_lines(simulation)
    if fmt == "markdown":
        return render_markdown(plan, simulation=lines)
    return render_text(plan, color=to_tty and use_color(), show_values=show_values, simulation=lines)


def exit_code(plan: Plan, detailed: bool, simulation: Simulation | None = None) -> int:
    """4 when blocked or the simulated apply diverged; 3 for changes with --detailed-exitcode; else 0."""
    if plan.blocked or (simulation is not None and simulation.blocks):
        return EXIT_BLOCKED
    return EXIT_CHANGES if detailed and plan.has_changes else EXIT_OK


@click.command("plan")
@config_option
@scope_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--out", type=click.Path(path_type=Path), metavar="FILE", help="Write the plan to FILE instead of stdout."
)
@click.option(
    "--json-out",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Also write this same plan as masked JSON to FILE (one live read for both outputs).",
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 3 when there are changes (0 when none).")
@click.option("--show-values", is_flag=True, help="Show raw identifier values (text format only).")
@click.option("--force", is_flag=True, help="Let safety budgets pass (never merges or conflicts).")
@click.option(
    "--no-simulate",
    "no_simulate",
    is_flag=True,
    help="Do not run the plan's calls on a twin of the org (config: simulate: false).",
)
def command(
    config_path: Path,
    scope: ScopeOptions,
    fmt: str,
    out: Path | None,
    json_out: Path | None,
    detailed_exitcode: bool,
    show_values: bool,
    force: bool,
    no_simulate: bool,
) -> int:
    """Show what apply would change, with the consequences the API hides, and the plan's checksum."""
    if show_values and fmt != "text":
        raise UsageError("--show-values is for the text format only; markdown and json stay masked")
    ws = load_workspace(config_path)
    covered = resolve_scope(ws, scope)
    ws = shard_rate(ws, scope)
    for path, option in ((out, "--out"), (json_out, "--json-out")):
        if path is not None:
            check_writable(path, option)
    plan = run_async(compute_plan(ws, covered, force=force))
    simulation = None if no_simulate or not ws.config.simulate else run_async(simulate_plan(plan, ws))
    text = render(plan, fmt, show_values=show_values, to_tty=out is None, simulation=simulation)
    write_output(text, out, styled=out is None and fmt == "text")
    if json_out is not None:
        write_output(render(plan, "json", simulation=simulation), json_out, "--json-out")
    return exit_code(plan, detailed_exitcode, simulation)
