"""The JSON Schemas of reconciler.yaml, state files and every JSON output (the plan, the apply result, the
journal's lines, validate's problems), and the modelines that point at them.

Every schema's ``$id`` is a URL under one base, where the file is served (the repository's raw tree),
so an editor or check-jsonschema can fetch it from anywhere. A modeline written into a
file prefers a path relative to that file, computed per file, when the repository has the schemas in
``schemas/`` (this repository's symlink, or the copy ``reconciler init`` writes): it then resolves
offline, at any depth, e.g. ``state/customers/customer-1.yaml`` gets ``../../schemas/...``.
"""

from __future__ import annotations

import os
from pathlib import Path

SCHEMA_DIR = Path(__file__).parent
SCHEMA_NAMES = (
    "config.schema.json",
    "state.schema.json",
    "plan.schema.json",
    "apply-result.schema.json",
    "journal.schema.json",
    "validate.schema.json",
)
SCHEMA_BASE = "https://raw.githubusercontent.com/capillary-reconciler/reconciler/main/reconciler/schemas/"


def schema_id(name: str) -> str:
    """The ``$id`` (and fetchable URL) of one of the schemas."""
    return SCHEMA_BASE + name


def schema_ref(name: str, file: Path, root: Path, *, local_copy: bool = False) -> str:
    """What ``file``'s modeline should name: a relative path to root's schemas/ (when it is there, or
    ``local_copy`` says it is about to be), else the URL."""
    local = root / "schemas" / name
    if local_copy or local.exists():
        return Path(os.path.relpath(local.absolute(), file.absolute().parent)).as_posix()
    return schema_id(name)


def modeline(name: str, file: Path, root: Path, *, local_copy: bool = False) -> str:
    """The yaml-language-server modeline line (with its newline) for ``file``."""
    return f"# yaml-language-server: $schema={schema_ref(name, file, root, local_copy=local_copy)}\n"
