"""GitHub glue for the workflows: a small REST client and the comment, checksum and issue flows."""

from __future__ import annotations

from reconciler.github._client import DEFAULT_API_URL, GitHubClient, GitHubError
from reconciler.github._flows import (
    DEFAULT_AUTHOR,
    DRIFT_LABEL,
    Posted,
    ReviewedPlan,
    comment_plan,
    find_marked_comment,
    post_result,
    pull_request_for_commit,
    reviewed_checksum,
    sync_drift_issue,
    upsert_comment,
)
from reconciler.github._markers import DRIFT_MARKER, PLAN_MARKER, extract_checksum, fit_body, result_marker
from reconciler.github._result import RESULT_HEADING, with_headline

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_AUTHOR",
    "DRIFT_LABEL",
    "DRIFT_MARKER",
    "PLAN_MARKER",
    "RESULT_HEADING",
    "GitHubClient",
    "GitHubError",
    "Posted",
    "ReviewedPlan",
    "comment_plan",
    "extract_checksum",
    "find_marked_comment",
    "fit_body",
    "post_result",
    "pull_request_for_commit",
    "result_marker",
    "reviewed_checksum",
    "sync_drift_issue",
    "upsert_comment",
    "with_headline",
]
