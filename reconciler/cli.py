"""The command line: click commands, the one error handler, and exit codes (docs/architecture.md 11).

Each subcommand lives in ``reconciler/commands/<name>.py`` and returns an exit code; this module maps
``ReconcilerError`` to its one-line message and exit code. Together they are the only code that prints.
"""

from __future__ import annotations

import importlib
import signal
from typing import Any

import click

from reconciler import __version__
from reconciler.commands.options import verbosity_options
from reconciler.commands.outputs import report_state_error, say_error
from reconciler.errors import EXIT_OK, ReconcilerError, StateError, exit_for_signal

# Each subcommand and the module exposing it as `command` (a click.Command), in the order help lists them.
COMMAND_MODULES = {
    "init": "init",
    "validate": "validate",
    "plan": "plan",
    "apply": "apply",
    "import": "import_",
    "sandbox": "sandbox",
    "github": "github",
    "doctor": "doctor",
}


class _Group(click.Group):
    """Maps expected failures to their one-line message and exit code; never a traceback.

    Subcommands load when named: ``reconciler validate`` (a pre-commit hook, run on every commit) does
    not import the API client, the sandbox or the simulation.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            command = importlib.import_module(f"reconciler.commands.{COMMAND_MODULES[cmd_name]}").command
            _with_verbosity(command)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            code = super().invoke(ctx)
        except StateError as exc:  # every problem, one per line, not only the first
            report_state_error(exc)
            ctx.exit(exc.exit_code)
        except ReconcilerError as exc:
            say_error(str(exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt as exc:  # outside the event loop (run_async maps signals itself)
            signum = getattr(exc, "signum", signal.SIGINT)  # __main__.SignalInterrupt names its signal
            say_error(f"interrupted by {signal.Signals(signum).name}")
            ctx.exit(exit_for_signal(signum))
        ctx.exit(code if isinstance(code, int) else EXIT_OK)  # a command returns its exit code


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="reconciler")
def main() -> None:
    """Reconcile Capillary loyalty identifiers and cards with the YAML under state/."""


def _with_verbosity(command: click.Command) -> None:
    """-v/--quiet on ``command`` and, for a group, on each of its subcommands (so they may come last)."""
    command.params.extend(verbosity_options())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_verbosity(sub)


main.params.extend(verbosity_options())
