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
from dataclasses import dataclass
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


def config_option(f: F) -> F:
    """``--config PATH`` (default ./reconciler.yaml)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        default=None,
        show_default=False,
        callback=_existing_if_named,
        help="The reconciler.yaml to read [default: ./reconciler.yaml; missing, it means defaults].",
    )(f)


def scope_options(f: F) -> F:
    """``--all | --changed-since REF`` and ``--shard K/N``."""
    f = click.option("--shard", metavar="K/N", help="Only the K-th of N deterministic shards of customers.")(
        f
    )
    f = click.option(
        "--changed-since",
        metavar="REF",
        help="Only customers whose declarations differ between git REF and the working tree.",
    )(f)
    return click.option("--all", "all_", is_flag=True, help="Every declared customer (the default).")(f)


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


def resolve_scope(ws: Workspace, all_: bool, changed_since: str | None, shard: str | None) -> Scope:
    """The scope the options name; ``--all`` and ``--changed-since`` exclude each other."""
    if all_ and changed_since:
        raise UsageError("--all and --changed-since exclude each other")
    return select_scope(
        ws.state, ws.config, changed_since=changed_since, shard=parse_shard(shard) if shard else None
    )


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
