"""``reconciler validate``: check the state files offline and report every problem."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.commands.options import config_option
from reconciler.commands.outputs import echo
from reconciler.config import CONFIG_FILE
from reconciler.desired import check, state_cache
from reconciler.errors import EXIT_ERROR, EXIT_OK, Problem
from reconciler.render.escape import visible, workflow_data, workflow_property
from reconciler.render.words import counted
from reconciler.workspace import find_state_dir, load_config_checked


def format_problems(problems: list[Problem], fmt: str) -> str:
    """Render problems as text (file:line:col: message), GitHub annotations or a JSON list; one line
    per problem in text and github, whatever a file name or message holds."""
    if fmt == "json":
        rows = [{"file": p.file, "line": p.line, "col": p.col, "message": p.message} for p in problems]
        return json.dumps(rows, indent=2)
    if fmt == "github":
        return "\n".join(map(annotation, problems))
    return "\n".join(visible(str(p)) for p in problems)


def annotation(problem: Problem) -> str:
    """A GitHub ``::error`` workflow command, escaped as the Actions toolkit escapes (so a newline,
    ``,`` or ``::`` in a file name can neither start another command nor split the properties)."""
    props = f"file={workflow_property(problem.file)},line={problem.line},col={problem.col}"
    return f"::error {props}::{workflow_data(problem.message)}"


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "github", "json"]), default="text", show_default=True
)
@config_option
def command(paths: tuple[Path, ...], fmt: str, config_path: Path) -> int:
    """Check state files (default: the config's state_dir) without calling the API."""
    config, config_problems = load_config_checked(config_path)
    state_dir = config.root / config.state_dir
    if config_problems and not paths and not state_dir.is_dir():
        targets = []  # the config's own problems are what there is to say
    else:
        targets = list(paths) or [find_state_dir(config, config_path)]
    # the cache lives in a repository's .reconciler/: never made beside files checked outside one
    in_repository = (config_path / CONFIG_FILE if config_path.is_dir() else config_path).is_file()
    result = check(targets, root=config.root, cache=state_cache(config.root) if in_repository else None)
    problems = sorted(config_problems + result.problems, key=lambda p: (p.file, p.line, p.col, p.message))
    if problems:
        echo(format_problems(problems, fmt))
        if fmt == "text":
            files = len({p.file for p in problems})
            echo(f"{counted(len(problems), 'problem')} in {counted(files, 'file')}", err=True)
        return EXIT_ERROR
    customers, files = result.customers, result.files
    if fmt == "json":
        echo("[]")
    else:
        echo(f"{counted(customers, 'customer')} in {counted(files, 'file')}: ok")
    return EXIT_OK
