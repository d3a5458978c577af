"""A pull request's desired state, staged as data over the base branch's checkout.

plan.yml runs on ``pull_request_target``: the workflow, the tool and the checkout are the base branch's,
and the pull request's commits are only read as git objects. Its changed files under the base's
``state_dir`` are written over the base checkout (as the merge ref would hold them), and its
``reconciler.yaml`` is taken with the base's ``api`` and ``state_dir``: the target is always the base's,
so a pull request cannot send the read credentials to a host it names. Nothing of the pull request is
installed, imported or executed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from reconciler.config import CONFIG_FILE
from reconciler.errors import UsageError
from reconciler.github._queue import git

PINNED_KEYS = ("api", "state_dir")  # always the base branch's


def _blob(repo: Path, rev: str, name: str) -> bytes | None:
    done = subprocess.run(["git", "-C", str(repo), "show", f"{rev}:{name}"], capture_output=True, check=False)
    return done.stdout if done.returncode == 0 else None


def _mapping(text: bytes | None, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text or b"") or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{what} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{what} must be a mapping")
    return data


def _safe_target(root: Path, state_dir: str, name: str) -> Path:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not name.startswith(f"{state_dir.rstrip('/')}/"):
        raise UsageError(f"refusing to stage {name!r}: not under {state_dir}/")
    return root / path


def stage_pull_request(root: Path, pr_repo: Path, base: str, head: str) -> str:
    """Write the pull request's state changes over ``root``; a note when it changes a pinned setting."""
    base_config = _mapping((root / CONFIG_FILE).read_bytes() if (root / CONFIG_FILE).exists() else None, "")
    state_dir = str(base_config.get("state_dir", "state"))
    fork = git(pr_repo, "merge-base", base, head)
    names = git(pr_repo, "diff", "--name-only", "--no-renames", fork, head, "--", state_dir, CONFIG_FILE)
    note = ""
    for name in names.splitlines():
        if name == CONFIG_FILE:
            note = _stage_config(root, base_config, _blob(pr_repo, head, name))
            continue
        target = _safe_target(root, state_dir, name)
        blob = _blob(pr_repo, head, name)
        if blob is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)  # never write through a symlink the base may hold
            target.write_bytes(blob)
    return note


def _stage_config(root: Path, base_config: dict[str, Any], blob: bytes | None) -> str:
    proposed = _mapping(blob, f"the pull request's {CONFIG_FILE}")
    merged = {k: v for k, v in proposed.items() if k not in PINNED_KEYS}
    merged |= {k: base_config[k] for k in PINNED_KEYS if k in base_config}
    if merged != base_config:  # unchanged in effect: the base's file stays, byte for byte
        (root / CONFIG_FILE).write_text(yaml.safe_dump(merged, sort_keys=False), encoding="utf-8")
    changed = [k for k in PINNED_KEYS if proposed.get(k) != base_config.get(k)]
    if not changed:
        return ""
    keys = " and ".join(f"`{k}`" for k in changed)
    return (
        f"> **Note:** this pull request changes {keys} in `{CONFIG_FILE}`. This plan was computed "
        "against the base branch's target and state directory; the change takes effect after merge "
        "(the apply that follows the merge plans against the new target).\n\n"
    )
