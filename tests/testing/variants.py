"""The sandbox's documented-API-variant settings (``reconciler.sandbox.settings.VARIANTS``) as test
parameters: every combination for the small safety tests, a few for the slow ones."""

from __future__ import annotations

import itertools
from typing import Any

from reconciler.sandbox.settings import VARIANTS

ALL: list[dict[str, str]] = [
    dict(zip(VARIANTS, values, strict=True)) for values in itertools.product(*VARIANTS.values())
]
# The documented defaults, every alternative at once, and a mix of the two.
FEW: list[dict[str, str]] = [ALL[0], ALL[-1], ALL[len(ALL) // 2 + 5]]


SHORT = {
    "holder_codes_on_lookup": "lookup",
    "holder_codes_on_write": "write",
    "merge_codes": "merge",
    "lookup_account_id": "account",
    "merge_created_id": "created",
}


def label(combo: Any) -> str:
    """A short test id, e.g. ``lookup:w-write:e-merge:w-account:r-created:p``."""
    return "-".join(f"{SHORT[name]}:{str(value)[0]}" for name, value in combo.items())
