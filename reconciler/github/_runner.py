"""Apply a queue's merges in order (no GitHub token needed), then post the results and move the tag.

Running and posting are two steps of the workflow on purpose: the step that holds the Capillary write
credentials has no GitHub token, and the step that holds the token has no Capillary credentials.

A merge that cannot be applied (stale, blocked, failed, nothing reviewed) stays pending, and so does
every later merge that changes one of the same files: applying it at its own tree now and the earlier
one later would undo it. Later merges on other files are applied.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from reconciler.github._client import GitHubClient
from reconciler.github._flows import DEFAULT_AUTHOR, post_result
from reconciler.github._headline import RESULT_HEADING, with_headline
from reconciler.github._markers import APPLIED, PENDING, extract_checksum
from reconciler.github._queue import APPLIED_TAG, Merge, Queue, git

ALREADY = f"{RESULT_HEADING} Applied (already: the re-plan has no changes left to make)."
STALE = 5


@dataclass
class Outcome:
    """What the run did with one merge."""

    sha: str
    pr: int | None
    status: str  # applied | pending
    exit_code: int | None
    body: str


def _reconciler(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The installed tool, as the workflow's own steps run it (stderr goes to the job log).
    command = [sys.executable, "-m", "reconciler", *args]
    return subprocess.run(command, cwd=root, stdout=subprocess.PIPE, text=True, check=False)


def _scope(merge: Merge) -> list[str]:
    return ["--all"] if merge.parent is None else ["--changed-since", merge.parent]


def apply_merge(root: Path, merge: Merge, journal_dir: Path) -> Outcome:
    """Apply one merge at its own tree under its checksum; stale with nothing left means applied."""
    git(root, "checkout", "--quiet", "--detach", merge.sha)
    journal = journal_dir / f"journal-{merge.sha[:12]}.jsonl"
    args = ["apply", *_scope(merge), "--checksum", str(merge.checksum), "--journal", str(journal)]
    done = _reconciler(root, *args, "--format", "markdown")
    if done.returncode == STALE:
        # A re-run after a successful apply: the re-plan is empty, so its checksum is not the reviewed
        # one. Nothing left to do is not stale.
        left = _reconciler(root, "plan", *_scope(merge), "--detailed-exitcode", "--format", "markdown")
        if left.returncode == 0:
            return Outcome(merge.sha, merge.pr, APPLIED, 0, ALREADY + "\n")
    status = APPLIED if done.returncode == 0 else PENDING
    return Outcome(merge.sha, merge.pr, status, done.returncode, done.stdout)


def run_queue(root: Path, queue: Queue, out: Path) -> int:
    """Apply every pending merge in order; write ``out/results.json``; 0 when all of them applied."""
    out.mkdir(parents=True, exist_ok=True)
    original = git(root, "rev-parse", "HEAD")
    blocked: dict[str, str] = {}  # file -> the pending merge that holds it
    outcomes: list[Outcome] = []
    try:
        for merge in (m for m in queue.merges if not m.done):
            held = sorted({blocked[f] for f in merge.files if f in blocked})
            if merge.problem or held:
                why = merge.problem or f"waits for {', '.join(held)}: it changes the same files."
                outcomes.append(
                    Outcome(merge.sha, merge.pr, PENDING, None, f"{RESULT_HEADING} PENDING. {why}\n")
                )
            else:
                outcomes.append(apply_merge(root, merge, out))
            if outcomes[-1].status == PENDING:
                blocked |= dict.fromkeys(merge.files, f"#{merge.pr}" if merge.pr else merge.sha[:12])
    finally:
        git(root, "checkout", "--quiet", "--detach", original)
    (out / "results.json").write_text(json.dumps([asdict(o) for o in outcomes], indent=2), encoding="utf-8")
    failed = [o for o in outcomes if o.status == PENDING]
    return 0 if not failed else next((o.exit_code for o in failed if o.exit_code), 1)


def load_outcomes(out: Path) -> list[Outcome]:
    """The outcomes ``run_queue`` wrote (none when it never ran)."""
    path = out / "results.json"
    if not path.exists():
        return []
    return [Outcome(**o) for o in json.loads(path.read_text(encoding="utf-8"))]


def comment_body(outcome: Outcome, footer: str = "") -> str:
    """The result comment: its verdict first; for a stale plan, how to approve the new one."""
    body = with_headline(outcome.body, outcome.exit_code)
    new = extract_checksum(outcome.body) if outcome.exit_code == STALE else None
    if new:
        body += (
            f"\n**To approve this new plan**, run the `apply` workflow by hand (Actions, apply, Run "
            f"workflow) with merge `{outcome.sha}` and checksum `{new}`.\n"
        )
    return body + footer


def publish(
    client: GitHubClient,
    queue: Queue,
    outcomes: list[Outcome],
    footer: str = "",
    author: str = DEFAULT_AUTHOR,
) -> list[str]:
    """Post each outcome to its pull request and move the tag past every merge applied in order."""
    lines = []
    for o in outcomes:
        where = f"#{o.pr}" if o.pr else o.sha[:12]
        lines.append(f"- {where} ({o.sha[:12]}): {o.status}")
        if o.pr is not None:
            post_result(client, o.sha, comment_body(o, footer), o.status, author)
    status = {o.sha: o.status for o in outcomes}
    marker = queue.marker or queue.start  # the first run starts the tag where its range began
    for merge in queue.merges:
        if not (merge.done or status.get(merge.sha) == APPLIED):
            break
        marker = merge.sha
    else:
        marker = queue.upto
    if marker and marker != queue.marker:
        client.set_tag(APPLIED_TAG, marker)
        lines.append(f"- {APPLIED_TAG} moved to {marker[:12]}")
    return lines
