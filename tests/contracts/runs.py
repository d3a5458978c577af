"""Real applies for the contracts tests: the command in-process (``apply_cli``) or ``apply_plan`` on a plan
made just before (``plan_then_apply``: the sandbox can be changed between the two, and the run stopped
while a write is in flight). Each returns the result as the command renders it and the journal's lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from click.testing import CliRunner

from reconciler.apply import ApplyResult
from reconciler.apply.executor import SETTLE
from reconciler.apply.journal import read_journal
from reconciler.apply.stop import Stopper
from reconciler.backoff import Backoff
from reconciler.cli import main
from reconciler.render.report import render_result_json
from reconciler.sandbox.server import SandboxServer
from tests.testing import Workspace, applying
from tests.testing.applying import JOURNAL


async def _no_pause(seconds: float) -> None:
    """Settling pauses asked for and not waited out: the sandbox answers the re-read at once."""


NO_PAUSE = Backoff(SETTLE.base, SETTLE.cap, sleep=_no_pause)


@dataclass(frozen=True)
class Run:
    """What an apply wrote: its JSON result (parsed) and every line of its journal."""

    result: dict[str, Any]
    journal: list[dict[str, Any]]

    def events(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.journal if line["event"] == event]


def apply_cli(ws: Workspace, *args: str) -> Run:
    """``reconciler apply --auto-approve --format json --journal j.jsonl ARGS`` in-process."""
    argv = ["apply", "--config", str(ws.config_path), "--auto-approve", "--format", "json"]
    done = CliRunner().invoke(main, [*argv, "--journal", str(ws.root / JOURNAL), *args])
    assert done.exit_code in (0, 5, 6), done.output
    result = json.loads(done.stdout)
    assert result["exit_code"] == done.exit_code
    return Run(result, read_journal(ws.root / JOURNAL))


def plan_then_apply(
    ws: Workspace,
    between: Callable[[], None] | None = None,
    *,
    stop_in_flight: bool = False,
) -> tuple[ApplyResult, Run]:
    """Plan, run ``between`` (a change to the org), apply that plan; with ``stop_in_flight``, stop and halt
    the run as soon as a write has reached the sandbox, unanswered (as a second SIGINT would)."""

    def halt(stopper: Stopper) -> Coroutine[Any, Any, None]:
        return _halt_in_flight(ws.server, stopper, ws.server.dump())  # the org as the apply starts

    beside = halt if stop_in_flight else None
    _, result = asyncio.run(applying.plan_then_apply(ws, between, settle=NO_PAUSE, beside=beside))
    return result, Run(json.loads(render_result_json(result)), read_journal(ws.root / JOURNAL))


async def _halt_in_flight(server: SandboxServer, stopper: Stopper, before: dict[str, Any]) -> None:
    """Once a write has reached the sandbox (its card writes commit on arrival, their answers held back by
    the test's latency), halt the run: that write is in flight, unanswered."""
    while await asyncio.to_thread(server.dump) == before:
        await asyncio.sleep(0.01)
    stopper.stop("stopped by the test")
    stopper.halt()
