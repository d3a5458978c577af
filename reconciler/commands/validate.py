"""``reconciler validate``: check the state files offline and report every problem."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.commands.workspace import config_option, load_repository
from reconciler.config import load_config
from reconciler.desired import collect
from reconciler.errors import EXIT_ERROR, EXIT_OK, Problem, UsageError
from reconciler.render.words import counted


def format_problems(problems: list[Problem], fmt: str) -> str:
    """Render problems as text (file:line:col: message), GitHub annotations or a JSON list."""
    if fmt == "json":
        rows = [{"file": p.file, "line": p.line, "col": p.col, "message": p.message} for p in problems]
        return json.dumps(rows, indent=2)
    if fmt == "github":
        return "\n".join(
            f"::error file={p.file},line={p.line},col={p.col}::{_escape(p.message)}" for p in problems
        )
    return "\n".join(str(p) for p in problems)


def _escape(message: str) -> str:
    # workflow-command data escaping (actions/toolkit): % first, then CR and LF
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "github", "json"]), default="text", show_default=True
)
@config_option
def command(paths: tuple[Path, ...], fmt: str, config_path: Path) -> None:
    """Check state files (default: the config's state_dir) without calling the API."""
    if paths:
        config = load_config(config_path)
    else:  # the repository's own state: refuse outside one
        config = load_repository(config_path)
        if not (config.root / config.state_dir).exists():
            raise UsageError(f"{config.state_dir}/: no such directory (set state_dir in {config_path})")
    targets = list(paths) or [config.root / config.state_dir]
    result = collect(targets)
    if result.problems:
        click.echo(format_problems(result.problems, fmt))
        if fmt == "text":
            files = len({p.file for p in result.problems})
            click.echo(f"{counted(len(result.problems), 'problem')} in {counted(files, 'file')}", err=True)
        raise SystemExit(EXIT_ERROR)
    customers, files = len(result.state.customers), len(result.state.files)
    if fmt == "json":
        click.echo("[]")
    else:
        click.echo(f"{counted(customers, 'customer')} in {counted(files, 'file')}: ok")
    raise SystemExit(EXIT_OK)
