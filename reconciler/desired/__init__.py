"""The desired state: ``state/*.yaml`` read with positions, checked, and built into model types.

The file format (see ``schemas/state.schema.json`` for the same rules as JSON Schema)::

    customers:
      - id: 564854782                # Capillary customer id (positive integer), the key
        note: Tom Sawyer             # optional, for humans, never synced (and not in the fingerprint)
        identifiers:                 # optional; profile keys: SOURCE, or SOURCE:accountId (multi-account)
          INSTORE:
            mobile: "919876543210"   # one string per type (quote numbers); digits with country code, 8-15
            email: tom@example.com
          WECHAT:wechat-con1:
            wechat: oXyz123
        cards:                       # absent: cards unmanaged; [] delinks every card
          - number: "GOLD0000001"    # optional; without it one card of the series is generated
            series: 121212           # series id (integer) or code (string)
            status: ACTIVE           # a card status label, ACTIVE by default
        allow:
          merge_with: [564854783]    # customers this one may merge with (both must list each other)

Identifier types per source: ``reconciler.desired.rules``. An empty profile (``INSTORE:``) or ``cards:``
with no value is an error: write ``{}`` / ``[]`` to mean "none", so a half-deleted block cannot silently
remove everything. YAML aliases, merge keys, custom tags and duplicate keys are rejected.
"""

from __future__ import annotations

from reconciler.desired.cache import StateCache, state_cache
from reconciler.desired.decode import fingerprint
from reconciler.desired.loader import (
    CheckResult,
    LoadResult,
    check,
    collect,
    collect_problems,
    load_state,
    state_files,
)

__all__ = [
    "CheckResult",
    "LoadResult",
    "StateCache",
    "check",
    "collect",
    "collect_problems",
    "fingerprint",
    "load_state",
    "state_cache",
    "state_files",
]
