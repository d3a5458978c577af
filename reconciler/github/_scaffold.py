"""The calling workflows a state repository needs: a few lines each, the work is in the reusable ones.

This repository's own plan.yml, apply.yml and drift.yml are these same callers with the reusable
workflows referenced locally and the tool installed from the checkout (a test keeps them equal).
"""

from __future__ import annotations

import re

SECRETS = ("CAPILLARY_OAUTH_KEY", "CAPILLARY_OAUTH_SECRET", "RECONCILER_MASK_KEY")

_PLAN = """\
# Plan every pull request that changes the desired state; the reusable workflow reads the pull
# request as data only and runs the tool installed below, never the pull request's code (see its header).
name: plan

on:
  # zizmor: ignore[dangerous-triggers] the called workflow never runs pull request code (see its header)
  pull_request_target:
    paths:
{paths}
permissions: {{}}

jobs:
  plan:
    uses: {uses}reusable-plan.yml{ref}{self_note}
    permissions:
      contents: read        # checkout
      pull-requests: write  # the plan comment
    with:
      install: "{install}"
{secrets}"""

_APPLY = """\
# Apply every merged, reviewed plan in merge order; run by hand with a pending merge and the new
# checksum from its STALE comment to approve a new plan.
name: apply

on:
  push:
    branches: [main]
    paths:
{paths}  workflow_dispatch:
    inputs:
      merge:
        description: The pending merge to approve (its merge commit SHA or pull request number).
        required: true
        type: string
      checksum:
        description: The new plan's checksum, from the merge's STALE result comment.
        required: true
        type: string

permissions: {{}}

jobs:
  apply:
    uses: {uses}reusable-apply.yml{ref}{self_note}
    permissions:
      contents: write       # checkout, and the reconciler-applied tag
      pull-requests: write  # the result comments
    with:
      install: "{install}"
      environment: production
      merge: ${{{{ inputs.merge }}}}
      checksum: ${{{{ inputs.checksum }}}}
      target: "{target}"  # the org: callers naming the same one in this repository queue
{secrets}"""

_DRIFT = """\
# Daily drift report: one issue kept up to date, closed when live state matches the declarations.
name: drift

on:
  schedule:
    - cron: "17 5 * * *"  # daily, 05:17 UTC
  workflow_dispatch:

permissions: {{}}

jobs:
  drift:
    uses: {uses}reusable-drift.yml{ref}{self_note}
    permissions:
      contents: read  # checkout
      issues: write   # the drift issue
    with:
      install: "{install}"
{secrets}"""


def calling_workflows(
    uses: str, ref: str, install: str, state_dir: str = "state", target: str = "sandbox"
) -> dict[str, str]:
    """plan.yml, apply.yml and drift.yml calling the reusable workflows at ``uses`` (+ ``ref``); apply's
    queue is keyed by ``target`` (the API host; only letters, digits, dots and dashes are kept)."""
    paths = f'      - "{state_dir.rstrip("/")}/**"\n      - "reconciler.yaml"\n'
    secrets = "    secrets:\n" + "".join(f"      {s}: ${{{{ secrets.{s} }}}}\n" for s in SECRETS)
    # actionlint does not know GitHub's newer "$/" self-repository syntax that zizmor suggests.
    local = uses.startswith("./")
    self_note = "  # zizmor: ignore[self-repository] actionlint has no '$/' yet" if local else ""
    fields = {"uses": uses, "ref": ref, "install": install, "paths": paths, "secrets": secrets}
    fields["self_note"] = self_note
    fields["target"] = re.sub(r"[^A-Za-z0-9.-]+", "-", target) or "default"
    return {
        "plan.yml": _PLAN.format(**fields),
        "apply.yml": _APPLY.format(**fields),
        "drift.yml": _DRIFT.format(**fields),
    }


def local_workflows() -> dict[str, str]:
    """This repository's own callers: the reusable workflows beside them, the tool from the checkout."""
    return calling_workflows("./.github/workflows/", "", ".")
