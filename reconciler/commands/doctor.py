"""``reconciler doctor``: read-only checks of the configured target before trusting it with a plan.

Exit 0 when no check failed (unknown rows, where nothing could be observed, do not fail), 1 otherwise.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands.options import config_option
from reconciler.commands.runner import run_async
from reconciler.commands.target import open_target
from reconciler.doctor import Check, doctor_exit_code
from reconciler.doctor.checks import run_checks
from reconciler.doctor.seen import Seen
from reconciler.plan import describe_target
from reconciler.workspace import load_workspace


async def _diagnose(config_path: Path, merged: int | None) -> list[Check]:
    ws = load_workspace(config_path)
    async with open_target(ws.config) as reader:  # the read-only client: doctor cannot write
        return await run_checks(Seen(reader, ws.config, ws.state, merged))


def render_checks(checks: list[Check]) -> str:
    """The table of checks, then the reconciler.yaml settings that match what was seen."""
    width = max(len(c.name) for c in checks)
    rows = [f"{c.status.upper():<8} {c.name:<{width}}  {c.detail}" for c in checks]
    settings = [c.setting for c in checks if c.setting]
    tail = ["", "reconciler.yaml settings that match what doctor saw:", *(f"  {s}" for s in settings)]
    return "\n".join(rows + (tail if settings else [])) + "\n"


@click.command("doctor")
@config_option
@click.option("--merged", type=int, default=None, metavar="ID", help="A customer id known to be merged away.")
def command(config_path: Path, merged: int | None) -> int:
    """Check the target read-only: credentials, limits, vocabulary, customers and API variants."""
    ws = load_workspace(config_path)
    checks = run_async(_diagnose(config_path, merged))
    click.echo(f"Target: {describe_target(ws.config)}")
    click.echo(render_checks(checks), nl=False)
    failed = sum(1 for c in checks if c.status == "fail")
    click.echo(
        f"{failed} failed, {len(checks)} checks" if failed else f"all {len(checks)} checks passed or unknown"
    )
    return doctor_exit_code(checks)
