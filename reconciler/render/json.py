"""JSON rendering of a Plan: ``to_dict()`` plus its checksum, documented by ``schemas/plan.schema.json``."""

from __future__ import annotations

import json

from reconciler.plan.model import Plan


def render_json(plan: Plan) -> str:
    """The masked, versioned JSON plan (``format_version`` 1) with its ``checksum``."""
    return json.dumps({**plan.to_dict(), "checksum": plan.checksum}, indent=2, ensure_ascii=False) + "\n"
