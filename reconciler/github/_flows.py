"""What the workflows do with GitHub: the pull request of a merge commit, the one marked comment,
the reviewed checksum, the result comment and the drift issue.

Marked comments are trusted only from one author (the workflow's identity, ``github-actions[bot]`` by
default), and only by the marker on their last line, which the tool wrote: anyone can write a marker into
a comment, and apply must bind to the plan CI posted for the head commit that was merged. No pull
request code ever runs with that identity's token (plan.yml runs the base branch's tool only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reconciler.errors import GitHubError
from reconciler.github._client import JSON, GitHubClient
from reconciler.github._markers import (
    APPLIED,
    DRIFT_MARKER,
    extract_checksum,
    fit_body,
    last_line,
    plan_marker,
    read_plan_marker,
    read_result_marker,
    result_marker,
    with_marker,
)

DEFAULT_AUTHOR = "github-actions[bot]"
DRIFT_LABEL = "reconciler-drift"
DRIFT_TITLE = "Drift: live Capillary state differs from state/"
TRUNCATED = "Cut to fit GitHub's size limit; the full text is in the workflow run's summary and artifacts."


@dataclass(frozen=True, slots=True)
class Posted:
    """What a create-or-update did: action is created, updated, unchanged, closed or none."""

    action: str
    number: int | None = None  # the comment id, or the issue number
    url: str = ""


@dataclass(frozen=True, slots=True)
class ReviewedPlan:
    """The checksum of the plan reviewed on the pull request merged as a commit."""

    pull_request: int
    checksum: str
    comment_url: str
    head: str = ""


def find_marked_comment(
    client: GitHubClient, number: int, is_ours: Callable[[str], bool], author: str = DEFAULT_AUTHOR
) -> JSON | None:
    """The most recently updated comment by ``author`` whose last line is a marker ``is_ours`` accepts."""
    marked = [c for c in client.issue_comments(number) if _is_marked(c, is_ours, author)]
    return max(marked, key=lambda c: (str(c.get("updated_at", "")), int(c["id"])), default=None)


def upsert_comment(
    client: GitHubClient,
    number: int,
    content: str,
    marker: str,
    is_ours: Callable[[str], bool],
    author: str = DEFAULT_AUTHOR,
) -> Posted:
    """Create the one marked comment on an issue/PR, or update it in place: never a second one."""
    body = fit_body(with_marker(content, marker), TRUNCATED)
    existing = find_marked_comment(client, number, is_ours, author)
    if existing is None:
        created = client.create_comment(number, body)
        return Posted("created", int(created["id"]), str(created.get("html_url", "")))
    if existing.get("body") == body:
        return Posted("unchanged", int(existing["id"]), str(existing.get("html_url", "")))
    updated = client.update_comment(int(existing["id"]), body)
    return Posted("updated", int(updated["id"]), str(updated.get("html_url", "")))


def comment_plan(
    client: GitHubClient, number: int, body: str, head: str, author: str = DEFAULT_AUTHOR
) -> Posted:
    """Create or update the plan comment, its marker binding the plan's checksum to head commit ``head``."""
    checksum = extract_checksum(body)
    if checksum is None:
        raise GitHubError("the plan has no '<!-- reconciler-plan checksum=... -->' marker line")
    marker = plan_marker(checksum, head)
    return upsert_comment(client, number, body, marker, _is_plan, author)


def pull_request_for_commit(client: GitHubClient, sha: str) -> JSON:
    """The merged pull request whose merge produced commit ``sha``."""
    merged = [p for p in client.pulls_for_commit(sha) if p.get("merged_at")]
    exact = [p for p in merged if p.get("merge_commit_sha") == sha]
    candidates = exact or merged
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise GitHubError(f"no merged pull request found for commit {sha}: was it pushed without review?")
    numbers = ", ".join(f"#{p.get('number')}" for p in candidates)
    raise GitHubError(f"commit {sha} belongs to several merged pull requests ({numbers})")


def reviewed_checksum(client: GitHubClient, sha: str, author: str = DEFAULT_AUTHOR) -> ReviewedPlan:
    """The checksum the plan workflow posted for the merged head of the pull request merged as ``sha``."""
    return reviewed_plan_of(client, pull_request_for_commit(client, sha), author)


def reviewed_plan_of(client: GitHubClient, pull: JSON, author: str = DEFAULT_AUTHOR) -> ReviewedPlan:
    """The plan the plan workflow posted for ``pull``'s head commit; an error if there is none."""
    number, head = int(pull["number"]), str((pull.get("head") or {}).get("sha", ""))
    comment = find_marked_comment(client, number, _is_plan, author)
    if comment is None:
        raise GitHubError(f"pull request #{number} has no plan comment by {author}: nothing was reviewed")
    marker = read_plan_marker(str(comment.get("body", "")))
    if marker is None or marker.head != head:
        planned = marker.head[:12] if marker else "?"
        raise GitHubError(
            f"the plan comment on pull request #{number} is for head {planned}, but {head[:12]} was merged:"
            " its last push was never planned"
        )
    return ReviewedPlan(number, marker.checksum, str(comment.get("html_url", "")), head)


def result_status(client: GitHubClient, number: int, sha: str, author: str = DEFAULT_AUTHOR) -> str | None:
    """The status (applied, pending) of merge ``sha``'s result comment on pull request ``number``."""
    comment = find_marked_comment(client, number, _is_result_of(sha), author)
    marker = read_result_marker(str(comment.get("body", ""))) if comment else None
    return marker[1] if marker else None


def post_result(
    client: GitHubClient, sha: str, body: str, status: str, author: str = DEFAULT_AUTHOR
) -> Posted:
    """Create or update the result comment of merge ``sha``; an Applied one is never replaced by worse."""
    number = int(pull_request_for_commit(client, sha)["number"])
    if status != APPLIED and result_status(client, number, sha, author) == APPLIED:
        return Posted("kept")
    return upsert_comment(client, number, body, result_marker(sha, status), _is_result_of(sha), author)


def sync_drift_issue(client: GitHubClient, body: str | None, author: str = DEFAULT_AUTHOR) -> Posted:
    """Keep one open drift issue: create or update it with ``body``, or close it when ``body`` is None."""
    issue = _open_drift_issue(client, author)
    if body is None:
        if issue is None:
            return Posted("none")
        client.create_comment(int(issue["number"]), "No drift found any more: closing.")
        closed = client.update_issue(int(issue["number"]), state="closed", state_reason="completed")
        return Posted("closed", int(closed["number"]), str(closed.get("html_url", "")))
    body = fit_body(with_marker(body, DRIFT_MARKER), TRUNCATED)
    if issue is None:
        created = client.create_issue(DRIFT_TITLE, body, [DRIFT_LABEL])
        return Posted("created", int(created["number"]), str(created.get("html_url", "")))
    if issue.get("body") == body:
        return Posted("unchanged", int(issue["number"]), str(issue.get("html_url", "")))
    updated = client.update_issue(int(issue["number"]), body=body)
    return Posted("updated", int(updated["number"]), str(updated.get("html_url", "")))


def _open_drift_issue(client: GitHubClient, author: str) -> JSON | None:
    issues = [i for i in client.issues_with_label(DRIFT_LABEL) if _is_marked(i, _is_drift, author)]
    return min(issues, key=lambda i: int(i["number"]), default=None)


def _is_marked(item: JSON, is_ours: Callable[[str], bool], author: str) -> bool:
    login = (item.get("user") or {}).get("login")
    return login == author and is_ours(str(item.get("body") or ""))


def _is_plan(body: str) -> bool:
    return read_plan_marker(body) is not None


def _is_drift(body: str) -> bool:
    return last_line(body) == DRIFT_MARKER


def _is_result_of(sha: str) -> Callable[[str], bool]:
    def check(body: str) -> bool:
        marker = read_result_marker(body)
        return marker is not None and marker[0] == sha

    return check
