"""An apply in-process on a plan made just before: the org can be changed between the two (``between``),
and a task can run beside the apply (``beside``, given the run's stopper: to stop it mid-way). The tests
that need the executor itself, not the command around it, run it through here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from reconciler.apply import ApplyResult, apply_plan
from reconciler.apply.executor import SETTLE
from reconciler.apply.journal import Journal
from reconciler.apply.stop import Stopper
from reconciler.backoff import Backoff
from reconciler.capillary import CapillaryWriter
from reconciler.commands.target import open_target
from reconciler.plan import Plan
from reconciler.plan.live import make_plan
from reconciler.workspace import load_workspace
from tests.testing.workspace import Workspace

JOURNAL = "j.jsonl"  # in the workspace's root

Beside = Callable[[Stopper], Coroutine[Any, Any, None]]


async def plan_then_apply(
    ws: Workspace,
    between: Callable[[], None] | None = None,
    *,
    settle: Backoff = SETTLE,
    beside: Beside | None = None,
) -> tuple[Plan, ApplyResult]:
    """Plan the workspace's whole state (target "t"), run ``between``, then apply that plan with its
    journal at ``JOURNAL``; ``beside`` is called as the apply starts and its task cancelled when it ends."""
    space = load_workspace(ws.config_path)
    async with open_target(space.config, write=True) as writer:
        assert isinstance(writer, CapillaryWriter)
        plan = await make_plan(writer, space.state.customers, space.state.by_id(), space.config, target="t")
        if between is not None:
            between()
        stopper = Stopper(space.config.api.concurrency)
        task = asyncio.ensure_future(beside(stopper)) if beside is not None else None
        journal = Journal(ws.root / JOURNAL)
        try:
            args = (plan, writer, space.state.by_id(), space.config, journal)
            result = await apply_plan(*args, settle=settle, stopper=stopper)
        finally:
            journal.close()
            if task is not None:
                task.cancel()
    return plan, result
