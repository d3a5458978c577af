"""Which declared customers a plan covers: all of them, those changed since a git ref, or one shard.

``--changed-since REF`` makes a PR plan's cost grow with the change, not with the repository: only the
state files git reports as changed are read at REF, and a customer is in scope when its declaration's
fingerprint differs (locations excluded, so moving a block between files is no change). Customers
declared at REF and no longer declared are reported as no longer managed.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.config import CONFIG_FILE, Config
from reconciler.desired import collect, fingerprint
from reconciler.errors import UsageError
from reconciler.model import DesiredCustomer, DesiredState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Scope:
    """The customers a plan reads and diffs, and the ids that are no longer declared."""

    customers: tuple[DesiredCustomer, ...]
    unmanaged: tuple[int, ...] = ()
    selected: tuple[int, ...] = ()  # the --customer ids, sorted; part of the plan's checksum


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` (1 <= K <= N) as a pair; a UsageError otherwise."""
    k, sep, n = text.partition("/")
    if not (sep and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise UsageError(f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. 1/4")
    return int(k), int(n)


def in_shard(customer_id: int, shard: tuple[int, int]) -> bool:
    """Deterministic, balanced assignment of a customer id to one of N shards (same on every machine)."""
    k, n = shard
    digest = hashlib.sha256(str(customer_id).encode()).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1


def select_scope(
    state: DesiredState,
    config: Config,
    *,
    changed_since: str | None = None,
    shard: tuple[int, int] | None = None,
    selected: Sequence[int] = (),
) -> Scope:
    """The customers in scope: all, or those changed since ``changed_since``; then only ``shard``'s;
    then, when ``selected`` names customers (``--customer``), only those."""
    picked = _selected(state, selected)
    customers = state.customers
    unmanaged: tuple[int, ...] = ()
    if changed_since is not None:
        changed, unmanaged = changed_customers(state, config, changed_since)
        if _config_changed(config, changed_since):
            log.warning("%s changed since %s: planning every declared customer", CONFIG_FILE, changed_since)
        else:
            customers = tuple(c for c in customers if c.id in changed)
    if shard is not None:
        customers = tuple(c for c in customers if in_shard(c.id, shard))
        unmanaged = tuple(i for i in unmanaged if in_shard(i, shard))
    if picked:
        customers = tuple(c for c in customers if c.id in picked)
        unmanaged = tuple(i for i in unmanaged if i in picked)
    return Scope(customers, unmanaged, tuple(sorted(picked)))


def _selected(state: DesiredState, ids: Sequence[int]) -> set[int]:
    """The ``--customer`` ids; each must be declared (an undeclared one is a typo, not an empty plan)."""
    declared = {c.id for c in state.customers}
    unknown = [i for i in dict.fromkeys(ids) if i not in declared]
    if unknown:
        names = ", ".join(map(str, unknown))
        raise UsageError(f"--customer {names}: not declared in the state files (import it first)")
    return set(ids)


def changed_customers(state: DesiredState, config: Config, ref: str) -> tuple[set[int], tuple[int, ...]]:
    """Ids whose declaration differs from ``ref`` (new ones included), and ids no longer declared."""
    root = config.root
    files = _changed_files(root, config.state_dir, ref)
    before = _fingerprints_at(root, ref, files)
    paths = {(root / f).resolve() for f in files}
    in_changed = {name for name in {c.loc.file for c in state.customers} if Path(name).resolve() in paths}
    # Only customers declared in a changed file, now or at `ref`, can have changed.
    candidates = [c for c in state.customers if c.id in before or c.loc.file in in_changed]
    changed = {c.id for c in candidates if before.get(c.id) != fingerprint(c)}
    declared = {c.id for c in state.customers}
    gone = tuple(sorted(cid for cid in before if cid not in declared))
    return changed, gone


def _config_changed(config: Config, ref: str) -> bool:
    """Whether reconciler.yaml differs from ``ref``: it may change every customer's plan."""
    return bool(_git(config.root, "diff", "--name-only", "--relative", ref, "--", CONFIG_FILE).strip())


def _git(root: Path, *args: str, silent_failure: str = "git failed") -> str:
    """git's output; a failure is a UsageError with git's first line, or ``silent_failure`` if it has none."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            check=False,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"--changed-since needs git: {exc}") from exc
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise UsageError(f"--changed-since: git {args[0]}: {lines[0]}" if lines else silent_failure)
    return done.stdout


def _changed_files(root: Path, state_dir: str, ref: str) -> list[str]:
    unknown = f"--changed-since {ref}: no such commit, branch or tag in this repository"  # git is --quiet
    _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", silent_failure=unknown)
    diff = _git(root, "diff", "--name-only", "--no-renames", "--relative", ref, "--", state_dir)
    new = _git(root, "ls-files", "--others", "--exclude-standard", "--", state_dir)
    names = {line for line in (diff + new).splitlines() if line.endswith((".yaml", ".yml"))}
    return sorted(names)


def _fingerprints_at(root: Path, ref: str, files: Sequence[str]) -> dict[int, str]:
    """Fingerprints of the customers declared in ``files`` as they were at ``ref`` (missing files skipped)."""
    existing = (
        set(_git(root, "ls-tree", "-r", "--name-only", ref, "--", *files).splitlines()) if files else set()
    )
    with tempfile.TemporaryDirectory(prefix="reconciler-ref-") as tmp:
        written = []
        for name in files:
            if name not in existing:
                continue
            target = Path(tmp, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_git(root, "show", f"{ref}:./{name}"), encoding="utf-8")
            written.append(target)
        if not written:
            return {}
        old = collect(written).state  # an invalid old file simply contributes what it can
    return {c.id: fingerprint(c) for c in old.customers}
