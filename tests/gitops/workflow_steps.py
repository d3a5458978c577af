"""Read the workflows as data: their steps, and the ``reconciler`` command lines their shell runs."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .harness import REPO_ROOT

WORKFLOW_DIR = REPO_ROOT / ".github" / "workflows"
_INVOCATION = re.compile(r"\breconciler\s+[^|;>)&\n]*")
_EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


@dataclass(frozen=True)
class Step:
    """One step of a job: its name, shell script (or action) and env."""

    workflow: str
    job: str
    name: str
    run: str | None
    uses: str | None
    env: dict[str, str]
    raw: dict[str, Any]


def load(name: str) -> dict[str, Any]:
    """A workflow file as a dict (``on`` kept as the string key, not YAML 1.1's True)."""
    data = yaml.safe_load((WORKFLOW_DIR / name).read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return dict(data)


def steps(name: str, job: str | None = None) -> list[Step]:
    """Every step of a workflow (or of one of its jobs), in order."""
    found = []
    for job_id, spec in load(name)["jobs"].items():
        if job is not None and job_id != job:
            continue
        for raw in spec.get("steps", []):
            label = raw.get("name") or raw.get("uses") or raw.get("run", "")[:40]
            env = {k: str(v) for k, v in (raw.get("env") or {}).items()}
            found.append(Step(name, job_id, label, raw.get("run"), raw.get("uses"), env, raw))
    return found


def step(name: str, label: str) -> Step:
    """The step called ``label`` in a workflow."""
    [only] = [s for s in steps(name) if s.name == label]
    return only


def invocations(script: str) -> list[list[str]]:
    """The argument lists of every ``reconciler ...`` command in a shell script."""
    return [shlex.split(m.group(0).replace('"', ""))[1:] for m in _INVOCATION.finditer(script)]


def resolve_env(env: dict[str, str], context: dict[str, str]) -> dict[str, str]:
    """A step's env with each ``${{ expression }}`` replaced from ``context`` (KeyError if unknown)."""
    return {k: _EXPR.sub(lambda m: context[m.group(1)], v) for k, v in env.items()}


def all_invocations() -> list[tuple[str, list[str]]]:
    """(workflow/step label, argv) for every reconciler command in every workflow."""
    found = []
    for path in sorted(Path(WORKFLOW_DIR).glob("*.yml")):
        for s in steps(path.name):
            for argv in invocations(s.run or ""):
                found.append((f"{path.stem}:{s.name}", argv))
    return found
