"""Apply: execute a reviewed Plan against the live API, journaling every write (docs/architecture.md 5).

``apply_plan(plan, writer, desired, config, journal)`` returns an ``ApplyResult`` whose ``exit_code``
follows docs/architecture.md 11 (see ``result.py`` for the incident rule). The run's steps are in
``executor.py``, one customer's chain of calls in ``customer.py``, one call's sends in ``send.py``, and how
an unknown outcome is settled in ``resolve.py``.
"""

from __future__ import annotations

from reconciler.apply.executor import MAX_SENDS, apply_plan
from reconciler.apply.result import (
    APPLIED,
    FAILED,
    SKIPPED,
    STALE,
    ApplyResult,
    CallOutcome,
    CustomerResult,
)

__all__ = [
    "APPLIED",
    "FAILED",
    "MAX_SENDS",
    "SKIPPED",
    "STALE",
    "ApplyResult",
    "CallOutcome",
    "CustomerResult",
    "apply_plan",
]
