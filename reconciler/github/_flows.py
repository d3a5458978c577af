"""What the workflows do with GitHub: the pull request of a merge commit, the one marked comment,
the reviewed checksum, the result comment and the drift issue.

Marked comments are trusted only from one author (the workflow's identity, ``github-actions[bot]`` by
default): anyone can write a marker into a comment, and apply must bind to the plan CI posted.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.github._client import JSON, GitHubClient, GitHubError
from reconciler.github._markers import (
    DRIFT_MARKER,
    PLAN_MARKER,
    defuse_plan_markers,
    extract_checksum,
    fit_body,
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


def find_marked_comment(
    client: GitHubClient, number: int, marker: str, author: str = DEFAULT_AUTHOR
) -> JSON | None:
    """The most recently updated comment by ``author`` on an issue/PR whose body carries ``marker``."""
    marked = [c for c in client.issue_comments(number) if _is_marked(c, marker, author)]
    return max(marked, key=lambda c: (str(c.get("updated_at", "")), int(c["id"])), default=None)


def upsert_comment(
    client: GitHubClient, number: int, body: str, marker: str, author: str = DEFAULT_AUTHOR
) -> Posted:
    """Create the one marked comment on an issue/PR, or update it in place: never a second one."""
    body = fit_body(with_marker(body, marker), TRUNCATED)
    existing = find_marked_comment(client, number, marker, author)
    if existing is None:
        created = client.create_comment(number, body)
        return Posted("created", int(created["id"]), str(created.get("html_url", "")))
    if existing.get("body") == body:
        return Posted("unchanged", int(existing["id"]), str(existing.get("html_url", "")))
    updated = client.update_comment(int(existing["id"]), body)
    return Posted("updated", int(updated["id"]), str(updated.get("html_url", "")))


def comment_plan(client: GitHubClient, number: int, body: str, author: str = DEFAULT_AUTHOR) -> Posted:
    """Create or update the plan comment; the body must carry the plan's checksum marker."""
    if extract_checksum(body) is None:
        raise GitHubError("the plan has no '<!-- reconciler-plan checksum=... -->' marker line")
    return upsert_comment(client, number, body, PLAN_MARKER, author)


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
    """The checksum of the plan comment on the pull request merged as ``sha``."""
    number = int(pull_request_for_commit(client, sha)["number"])
    comment = find_marked_comment(client, number, PLAN_MARKER, author)
    if comment is None:
        raise GitHubError(f"pull request #{number} has no plan comment by {author}: nothing was reviewed")
    checksum = extract_checksum(str(comment.get("body", "")))
    if checksum is None:
        raise GitHubError(f"the plan comment on pull request #{number} carries no single valid checksum")
    return ReviewedPlan(number, checksum, str(comment.get("html_url", "")))


def post_result(client: GitHubClient, sha: str, body: str, author: str = DEFAULT_AUTHOR) -> Posted:
    """Create or update the result comment of merge ``sha`` on its pull request."""
    number = int(pull_request_for_commit(client, sha)["number"])
    return upsert_comment(client, number, defuse_plan_markers(body), result_marker(sha), author)


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
    issues = [i for i in client.issues_with_label(DRIFT_LABEL) if _is_marked(i, DRIFT_MARKER, author)]
    return min(issues, key=lambda i: int(i["number"]), default=None)


def _is_marked(item: JSON, marker: str, author: str) -> bool:
    login = (item.get("user") or {}).get("login")
    return login == author and marker in str(item.get("body") or "")
