"""JSON rendering of a Plan: ``to_dict()`` plus its checksum, documented by ``schemas/plan.schema.json``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.plan.document import Plan


def render_json(plan: Plan, simulation: Mapping[str, Any] | None = None) -> str:
    """The masked, versioned JSON plan (``format_version`` 1) with its ``checksum`` and, when it ran, the
    simulated apply's verdict (``simulation``, outside what the checksum covers)."""
    data = {**plan.to_dict(), "checksum": plan.checksum}
    if simulation is not None:
        data["simulation"] = dict(simulation)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
