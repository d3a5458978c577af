"""The simulated apply: a plan proves itself on a twin of the org before anyone reviews it.

``simulate(plan, desired, config)`` seeds an in-memory sandbox (``reconciler.sandbox``, served in process
through ``httpx.ASGITransport``) from what the plan itself read (``Plan.observed``: the customers with
actions and the holders and cards they touch, the series, labels and sources; no second read of the target),
runs the real apply path on it (``reconciler.apply.apply_plan``: the same executor, order, preconditions,
holder checks and writer that ``apply`` uses), reads the twin back and diffs it against the declared state.

The verdict passes when every planned call succeeds and every customer with actions ends in its declared
state (a blocked action's change is expected to remain). Anything else is a divergence: the customer, the
call and the twin's code and message, or the change that remains. What the twin cannot model is said as
"not simulated: why", never passed silently.

What it proves: these calls, in this order, against the org as the plan read it, under the sandbox's rules
(the documented API, in the target's variant where it is known). What it cannot: another writer changing
the org between plan and apply (the write-time preconditions and holder checks are for that), and rules the
sandbox does not model (docs/architecture.md 4.9).

Behind this face: ``_twin.py`` seeds and serves the twin, ``_run.py`` runs the plan on it and reads it
back, ``_verdict.py`` judges the end (the divergences, and the ``Simulation``).
"""

from __future__ import annotations

from reconciler.apply.journal import MemoryJournal
from reconciler.simulate._run import simulate
from reconciler.simulate._twin import TWIN_RATE, twin_settings
from reconciler.simulate._verdict import (
    DIVERGED,
    NOT_SIMULATED,
    OFF,
    PASSED,
    Divergence,
    Simulation,
    SimulationStatus,
)

__all__ = [
    "DIVERGED",
    "NOT_SIMULATED",
    "OFF",
    "PASSED",
    "TWIN_RATE",
    "Divergence",
    "MemoryJournal",
    "Simulation",
    "SimulationStatus",
    "simulate",
    "twin_settings",
]
