"""The command line: click commands, the one error handler, and exit codes (docs/architecture.md 11).

Each subcommand lives in ``reconciler/commands/<name>.py`` and returns an exit code; this module maps
``ReconcilerError`` to its one-line message and exit code. Together they are the only code that prints.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from typing import Any

import click

from reconciler import __version__
from reconciler.commands.outputs import say_error
from reconciler.errors import EXIT_INTERRUPTED, ReconcilerError
from reconciler.render.escape import visible

# Subcommand modules, each exposing `command` (a click.Command).
COMMAND_MODULES = ("init", "validate", "plan", "apply", "import_", "sandbox", "github", "doctor")


class _Group(click.Group):
    """Maps expected failures to their one-line message and exit code; never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReconcilerError as exc:
            say_error(str(exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:  # outside the event loop (run_async maps signals itself)
            say_error("interrupted")
            ctx.exit(EXIT_INTERRUPTED)


class _VisibleFormatter(logging.Formatter):
    """Log lines with control characters shown escaped: a logged API message cannot drive the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record), keep="\n")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-v info, -vv debug).")
@click.version_option(version=__version__, prog_name="reconciler")
def main(verbose: int) -> None:
    """Reconcile Capillary loyalty identifiers and cards with the YAML under state/."""
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_VisibleFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    # httpx/httpcore log full URLs, and a holder lookup's URL carries an identifier value: keep them quiet
    # at every verbosity. Our own client logs method, path template and status instead.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _register() -> None:
    for name in COMMAND_MODULES:
        module_name = f"reconciler.commands.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue  # not built yet
        main.add_command(importlib.import_module(module_name).command)


_register()
