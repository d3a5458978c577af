"""What plan, apply and import share: reading reconciler.yaml and state/, the scope options, the target."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.config import CONFIG_FILE, Config, load_config
from reconciler.desired import load_state
from reconciler.errors import StateError, UsageError
from reconciler.model import DesiredState
from reconciler.plan.scope import Scope, parse_shard, select_scope

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


def configure_logging(verbose: int) -> None:
    """WARNING by default; -v info, -vv debug."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s", force=True
    )
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


def load_repository(config_path: Path, *, need_config: bool = False) -> Config:
    """reconciler.yaml (defaults when missing), refusing to run outside a repository (exit 2): no
    reconciler.yaml and no state/ here. ``need_config``: the file itself must exist (a command that writes
    must never fall back to the default target, the demo sandbox)."""
    config = load_config(config_path)
    state_dir = config.root / config.state_dir
    if not config_path.is_file() and (need_config or not state_dir.exists()):
        also = "" if need_config else f" and no {config.state_dir}/"
        raise UsageError(f"no {config_path}{also} here: run in a reconciler repository or pass --config")
    return config


def load_workspace(config_path: Path) -> Workspace:
    """reconciler.yaml and every state file; a StateError lists every problem."""
    config = load_repository(config_path)
    state_dir = config.root / config.state_dir
    if not state_dir.exists():
        raise UsageError(f"{config.state_dir}/: no such directory (set state_dir in {config_path})")
    return Workspace(config, load_state([state_dir]))


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
        click.echo(str(problem), err=True)


def use_color(stream: Any = None) -> bool:
    """Colour only on a TTY, and never when NO_COLOR is set."""
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine, on uvloop where it is installed (a third less CPU per API call)."""
    try:
        import uvloop
    except ImportError:  # e.g. on Windows, where uvloop does not exist
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def write_output(text: str, out: Path | None) -> None:
    """``text`` to ``out`` (a file) or stdout."""
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
