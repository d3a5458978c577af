"""GitHub glue for the workflows: a small REST client and the comment, checksum and issue flows."""

from __future__ import annotations

from reconciler.errors import GitHubError, GitHubNotFound
from reconciler.github._client import DEFAULT_API_URL, GitHubClient
from reconciler.github._flows import (
    DEFAULT_AUTHOR,
    DRIFT_LABEL,
    Posted,
    ReviewedPlan,
    comment_plan,
    find_marked_comment,
    post_result,
    pull_request_for_commit,
    result_status,
    reviewed_checksum,
    reviewed_plan_of,
    sync_drift_issue,
    upsert_comment,
)
from reconciler.github._headline import RESULT_HEADING, with_headline
from reconciler.github._markers import (
    APPLIED,
    DRIFT_MARKER,
    PENDING,
    PLAN_MARKER,
    extract_checksum,
    fit_body,
    plan_marker,
    read_plan_marker,
    result_marker,
)

__all__ = [
    "APPLIED",
    "DEFAULT_API_URL",
    "DEFAULT_AUTHOR",
    "DRIFT_LABEL",
    "DRIFT_MARKER",
    "PENDING",
    "PLAN_MARKER",
    "RESULT_HEADING",
    "GitHubClient",
    "GitHubError",
    "GitHubNotFound",
    "Posted",
    "ReviewedPlan",
    "comment_plan",
    "extract_checksum",
    "find_marked_comment",
    "fit_body",
    "plan_marker",
    "post_result",
    "pull_request_for_commit",
    "read_plan_marker",
    "result_marker",
    "result_status",
    "reviewed_checksum",
    "reviewed_plan_of",
    "sync_drift_issue",
    "upsert_comment",
    "with_headline",
]
