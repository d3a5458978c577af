"""The click options the commands share, and their callbacks: ``--config``, the scope, ``-v``/``-q``.

Options turn the command line into plain values; loading them is ``reconciler/workspace.py`` (click-free).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.commands.outputs import configure_logging
from reconciler.config import CONFIG_FILE
from reconciler.errors import UsageError
from reconciler.workspace import ScopeOptions

F = TypeVar("F", bound=Callable[..., Any])


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
    """``--all | --changed-since REF``, ``--shard K/N``, ``--customer ID`` (repeatable) and ``--full-rate``,
    given to the command as one ``scope: ScopeOptions``."""

    @functools.wraps(f)
    def with_scope(
        *args: Any,
        all_: bool,
        changed_since: str | None,
        shard: str | None,
        customer_ids: tuple[int, ...],
        full_rate: bool,
        **kwargs: Any,
    ) -> Any:
        options = ScopeOptions(all_, changed_since, shard, customer_ids, full_rate)
        return f(*args, scope=options, **kwargs)

    return _scope_click_options(with_scope)  # type: ignore[return-value]


def _scope_click_options(f: F) -> F:
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
