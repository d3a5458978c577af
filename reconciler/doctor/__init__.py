"""``reconciler doctor``: read-only checks of a target before the first plan (issue 14).

Each check is one small async function over the read-only reader (``checks.py``; the bulk-read row in
``bulk.py``; what they share in ``seen.py``) returning ``Check`` rows; nothing here prints or writes. A
documented API variant (docs/capillary-api.md 10) is one such function.
"""

from __future__ import annotations

from dataclasses import dataclass

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"


@dataclass(frozen=True, slots=True)
class Check:
    """One row: what was checked, what was seen, and the reconciler.yaml line that matches it."""

    name: str
    status: str  # PASS | FAIL | UNKNOWN
    detail: str
    setting: str = ""


def doctor_exit_code(checks: list[Check]) -> int:
    """0 when nothing failed (unknown rows do not fail: nothing could be observed), else 1."""
    return 1 if any(c.status == FAIL for c in checks) else 0
