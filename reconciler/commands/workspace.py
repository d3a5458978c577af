"""What plan, apply and import share: reading reconciler.yaml and state/, the scope options, the target."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import warnings
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.commands.outputs import echo
from reconciler.config import CONFIG_FILE, Config, load_config
from reconciler.desired import load_state
from reconciler.errors import ReconcilerError, StateError, UsageError
from reconciler.model import DesiredState
from reconciler.plan.scope import Scope, parse_shard, select_scope
from reconciler.render.escape import visible

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Workspace:
    config: Config
    state: DesiredState


def _existing_if_named(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """A ``--config`` the user named must exist; only the default ./reconciler.yaml may be missing."""
    if value is None:
        return Path(CONFIG_FILE)
    if ctx.resilient_parsing:  # shell completion
        return value
    if value.is_dir() and not (value / CONFIG_FILE).is_file():
        raise UsageError(f"--config {value}: a directory without {CONFIG_FILE}")
    if not value.exists():
        raise UsageError(f"--config {value}: no such file")
    return value


class _VisibleFormatter(logging.Formatter):
    """Log lines with control characters shown escaped: a logged API message cannot drive the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record), keep="\n")


def configure_logging(verbose: int) -> None:
    """WARNING by default; -v info, -vv debug."""
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_VisibleFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # httpx/httpcore log full URLs, and a holder lookup's URL carries an identifier value: keep them quiet
    # at every verbosity. Our own client logs method, path template and status instead.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _count_verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    # ctx.meta is shared by the group and its subcommand: `reconciler -v plan -v` is -vv
    ctx.meta["reconciler.verbose"] = ctx.meta.get("reconciler.verbose", 0) + value
    configure_logging(ctx.meta["reconciler.verbose"])


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta["reconciler.quiet"] = True


def verbosity_options() -> list[click.Option]:
    """``-v/--verbose`` and ``-q/--quiet``, for the group and (so they may follow it) every subcommand."""
    return [
        click.Option(
            ["-v", "--verbose"],
            count=True,
            expose_value=False,
            callback=_count_verbose,
            help="More logging on stderr (-v info, -vv debug).",
        ),
        click.Option(
            ["-q", "--quiet"],
            is_flag=True,
            expose_value=False,
            callback=_set_quiet,
            help="No progress lines on stderr.",
        ),
    ]


def config_option(f: F) -> F:
    """``--config PATH`` (default ./reconciler.yaml)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        default=None,
        show_default=False,
        callback=_existing_if_named,
        metavar="FILE",
        help="Read the configuration from FILE [default: ./reconciler.yaml].",
    )(f)


def scope_options(f: F) -> F:
    """``--all | --changed-since REF``, ``--shard K/N`` and ``--customer ID`` (repeatable)."""
    f = click.option(
        "--customer",
        "customer_ids",
        type=int,
        multiple=True,
        metavar="ID",
        help="Only customer ID (repeatable); composes with the options above.",
    )(f)
    f = click.option(
        "--full-rate",
        is_flag=True,
        help="With --shard K/N: use all of api.requests_per_minute, not 1/N of it.",
    )(f)
    f = click.option(
        "--shard",
        metavar="K/N",
        help="Only the K-th of N deterministic shards of customers, at requests_per_minute / N.",
    )(f)
    f = click.option(
        "--changed-since",
        metavar="REF",
        help="Only customers whose declarations differ between git REF and the working tree.",
    )(f)
    return click.option("--all", "all_", is_flag=True, help="Every declared customer (the default).")(f)


def load_repository(config_path: Path) -> Config:
    """reconciler.yaml, which must exist: a command that writes (import) never falls back to the default
    target, the demo sandbox; outside a repository it says so (exit 2)."""
    if not config_path.is_file():
        raise UsageError(f"no {config_path} here: run in a reconciler repository or pass --config")
    return load_config(config_path)


def find_state_dir(config: Config, config_path: Path) -> Path:
    """The state directory; a UsageError saying what is missing (validate, plan, apply share it)."""
    state_dir = config.root / config.state_dir
    if not state_dir.exists() and not config_path.is_file():
        raise UsageError(
            f"no {config_path} and no {config.state_dir}/ here: "
            "run in a reconciler repository or pass --config"
        )
    if not state_dir.exists():
        raise UsageError(f"{config.state_dir}/: no such directory (set state_dir in {config_path})")
    return state_dir


def load_workspace(config_path: Path) -> Workspace:
    """reconciler.yaml and every state file; a StateError lists every problem."""
    config = load_config(config_path)
    return Workspace(config, load_state([find_state_dir(config, config_path)], root=config.root))


def resolve_scope(
    ws: Workspace,
    all_: bool,
    changed_since: str | None,
    shard: str | None,
    customer_ids: tuple[int, ...] = (),
) -> Scope:
    """The scope the options name; ``--all`` and ``--changed-since`` exclude each other."""
    if all_ and changed_since:
        raise UsageError("--all and --changed-since exclude each other")
    return select_scope(
        ws.state,
        ws.config,
        changed_since=changed_since,
        shard=parse_shard(shard) if shard else None,
        selected=customer_ids,
    )


def shard_rate(ws: Workspace, shard: str | None, full_rate: bool) -> Workspace:
    """With ``--shard K/N``, the client runs at ``requests_per_minute / N``: N shards run at once (drift.yml),
    and together they must stay within the org's limit. ``--full-rate`` keeps the whole limit."""
    if shard is None or full_rate:
        return ws
    _, n = parse_shard(shard)
    api = replace(ws.config.api, requests_per_minute=max(1, ws.config.api.requests_per_minute // n))
    return Workspace(replace(ws.config, api=api), ws.state)


def report_state_error(exc: StateError) -> None:
    """Every problem of an invalid state, one per line, on stderr."""
    for problem in exc.problems:
        echo(visible(str(problem)), err=True)


def use_color(stream: Any = None) -> bool:
    """Colour only on a TTY, and never when NO_COLOR is set."""
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


SIGNALS = (signal.SIGINT, signal.SIGTERM)
_handler: ContextVar[Callable[[int], None] | None] = ContextVar("signal_handler", default=None)
log = logging.getLogger(__name__)


class Interrupted(ReconcilerError):
    """SIGINT or SIGTERM ended a command before it had written anything: exit 128 + the signal."""

    def __init__(self, signum: int) -> None:
        self.exit_code = 128 + signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


def run_async(coro: Coroutine[Any, Any, T], on_signal: Callable[[int], bool] | None = None) -> T:
    """Run a command's coroutine, on uvloop where it is installed (a third less CPU per API call).

    SIGINT/SIGTERM go to ``on_signal`` first (apply's write gate: True when it took the signal);
    otherwise they cancel the command, which then raises ``Interrupted`` (one line, exit 130/143).
    """
    guarded = _guarded(coro, on_signal)
    try:
        import uvloop
    except ImportError:  # e.g. on Windows, where uvloop does not exist
        return asyncio.run(guarded)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(guarded)


async def _guarded(coro: Coroutine[Any, Any, T], on_signal: Callable[[int], bool] | None) -> T:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    received: list[int] = []

    def handle(signum: int) -> None:
        if on_signal is not None and on_signal(signum):
            return
        if not received:  # the cancelled reads may end in errors nobody awaits: not the user's concern
            loop.set_exception_handler(_after_interrupt)
            # nor a connect httpx's transport had begun (anyio's happy eyeballs), warned of at exit
            warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
        received.append(signum)
        if task is not None:
            task.cancel()

    _install(loop, handle)
    try:
        result = await coro
    except asyncio.CancelledError:
        if not received:
            raise
        raise Interrupted(received[0]) from None
    finally:
        _uninstall(loop)
    if received:  # the coroutine swallowed the cancellation: still an interrupted command
        raise Interrupted(received[0])
    return result


def _install(loop: asyncio.AbstractEventLoop, handle: Callable[[int], None]) -> None:
    with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):  # not the main thread
        for sig in SIGNALS:
            loop.add_signal_handler(sig, handle, sig)
        _handler.set(handle)


def _uninstall(loop: asyncio.AbstractEventLoop) -> None:
    if _handler.get() is not None:
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)


def _after_interrupt(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    log.debug("after an interrupt: %s", context.get("message"))


@contextlib.contextmanager
def plain_signals() -> Iterator[None]:
    """Around a blocking prompt: Ctrl-C raises KeyboardInterrupt there (the loop cannot run meanwhile)."""
    handle = _handler.get()
    if handle is None:
        yield
        return
    loop = asyncio.get_running_loop()
    _uninstall(loop)
    try:
        yield
    finally:
        for sig in SIGNALS:
            loop.add_signal_handler(sig, handle, sig)
