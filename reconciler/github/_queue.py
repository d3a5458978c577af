"""The apply queue: every merge since the last completely applied commit, in merge order.

GitHub keeps one pending run per concurrency group, and a run can fail: so no apply run covers only
its own push. The lightweight tag ``reconciler-applied`` marks the last commit up to which every merge
was applied; each run lists the first-parent commits after it that change the desired state, skips
those whose result comment already says applied, and applies the rest one by one, each at its own
tree, with its own reviewed checksum and its own diff range (``--changed-since <first parent>``).
The tag only moves past a merge once it is applied, so a stale or failed one stays pending.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reconciler.config import CONFIG_FILE, load_config
from reconciler.errors import GitHubError, UsageError
from reconciler.github._client import GitHubClient
from reconciler.github._flows import DEFAULT_AUTHOR, pull_request_for_commit, result_status, reviewed_plan_of
from reconciler.github._markers import APPLIED

APPLIED_TAG = "reconciler-applied"
ZEROS = "0" * 40


@dataclass
class Merge:
    """One commit of the queue: what to apply, under which checksum, or why it cannot be."""

    sha: str
    parent: str | None  # None: a root commit, applied with --all
    files: list[str]
    pr: int | None = None
    checksum: str | None = None
    problem: str = ""  # why it cannot be applied (nothing reviewed, pushed without review, ...)
    done: bool = False  # already applied by an earlier run


@dataclass
class Queue:
    """The merges after ``marker`` up to ``upto``, oldest first."""

    upto: str
    marker: str | None
    merges: list[Merge] = field(default_factory=list)
    start: str | None = None  # the commit the range starts after: the tag, or where the first run began

    def dump(self, path: Path) -> None:
        """Write the queue as JSON (the next step's input)."""
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Queue:
        """Read a queue written by ``dump``."""
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["upto"], data["marker"], [Merge(**m) for m in data["merges"]], data.get("start"))


def git(root: Path, *args: str) -> str:
    """git's stdout in ``root``; a failure is a UsageError with git's first line."""
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["failed"]
        raise UsageError(f"git {args[0]}: {lines[0]}")
    return done.stdout.strip()


def _parent(root: Path, sha: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{sha}^1"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


def _known(root: Path, sha: str | None) -> bool:
    if not sha or sha == ZEROS:
        return False
    probe = ["git", "-C", str(root), "cat-file", "-e", f"{sha}^{{commit}}"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def changed_files(root: Path, parent: str | None, sha: str, paths: list[str]) -> list[str]:
    """The desired-state files a commit changes (all of them for a root commit)."""
    if parent is None:
        return git(root, "ls-tree", "-r", "--name-only", sha, "--", *paths).splitlines()
    return git(root, "diff", "--name-only", "--no-renames", parent, sha, "--", *paths).splitlines()


def build_queue(
    client: GitHubClient,
    root: Path,
    upto: str,
    since: str | None = None,
    author: str = DEFAULT_AUTHOR,
) -> Queue:
    """The merges to apply: after the tag (or ``since`` the first time) up to ``upto``."""
    marker = client.tag_sha(APPLIED_TAG)
    start = marker if _known(root, marker) else (since if _known(root, since) else None)
    if start is None:
        shas, start = [upto], _parent(root, upto)
    else:
        shas = git(root, "rev-list", "--first-parent", "--reverse", f"{start}..{upto}").split()
    paths = [load_config(root / CONFIG_FILE).state_dir, CONFIG_FILE]
    queue = Queue(upto, marker, start=start)
    for sha in shas:
        parent = _parent(root, sha)
        files = changed_files(root, parent, sha, paths)
        if files:
            queue.merges.append(_describe(client, Merge(sha, parent, files), author))
    return queue


def _describe(client: GitHubClient, merge: Merge, author: str) -> Merge:
    try:
        pull = pull_request_for_commit(client, merge.sha)
        merge.pr = int(pull["number"])
        merge.done = result_status(client, merge.pr, merge.sha, author) == APPLIED
        if not merge.done:
            merge.checksum = reviewed_plan_of(client, pull, author).checksum
    except GitHubError as exc:
        merge.problem = str(exc)
    return merge


def approve(queue: Queue, sha: str, checksum: str) -> Merge:
    """An operator's approval of a pending merge's new plan: that checksum replaces the reviewed one."""
    pending = [m for m in queue.merges if not m.done]
    found = [m for m in pending if m.sha.startswith(sha)]
    if len(found) != 1:
        listed = ", ".join(m.sha[:12] for m in pending) or "none"
        raise UsageError(f"merge {sha} is not pending (pending merges: {listed})")
    found[0].checksum, found[0].problem = checksum, ""
    return found[0]
