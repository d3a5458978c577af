"""The run: the plan's calls through the real apply path on its twin, then the twin read back and judged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.apply import apply_plan
from reconciler.apply.journal import MemoryJournal
from reconciler.config import Config
from reconciler.model import DesiredCustomer
from reconciler.plan import Plan
from reconciler.sandbox import Settings, Store
from reconciler.simulate._twin import judged_customers, open_twin, seed, twin_config, with_actions
from reconciler.simulate._verdict import NOT_SIMULATED, PASSED, Simulation, TwinRun, blocked_actions, judge


async def simulate(
    plan: Plan,
    desired: Mapping[int, DesiredCustomer],
    config: Config,
    *,
    settings: Settings | None = None,
) -> Simulation:
    """Run ``plan`` on a twin seeded from ``plan.observed`` and judge where it ends."""
    observed = plan.observed
    if observed is None:
        return Simulation(NOT_SIMULATED, not_simulated=("the plan kept no live read to seed a twin from",))
    if not plan.calls:
        n = len(with_actions(plan))
        return Simulation(PASSED, customers=n, reached=n, blocked=blocked_actions(plan))
    judged = judged_customers(plan, desired)
    seeded = seed(observed, judged)
    store = Store()
    try:
        store.seed(seeded.fixture)
    except ValueError as exc:
        return Simulation(NOT_SIMULATED, not_simulated=(f"the twin could not be seeded: {exc}",))
    run = await run_on_twin(plan, desired, config, store, settings or Settings(), judged)
    return judge(plan, desired, config, run, judged=judged, unseeded=seeded.unseeded)


async def run_on_twin(
    plan: Plan,
    desired: Mapping[int, DesiredCustomer],
    config: Config,
    store: Store,
    rules: Settings,
    judged: Sequence[int],
) -> TwinRun:
    """``apply_plan`` on the twin ``store`` under ``rules``, with an in-memory journal; then the
    ``judged`` customers as the twin has them."""
    twin = twin_config(config)
    async with open_twin(store, rules, twin) as writer:
        journal = MemoryJournal()
        try:
            result = await apply_plan(plan, writer, desired, twin, journal)
        finally:
            journal.close()
        after = await writer.get_customers(judged)
    return TwinRun(result, after)
