"""Hidden HTML markers that make a comment or issue findable again, and bodies that fit GitHub's limit.

The plan's markdown carries ``<!-- reconciler-plan checksum=<64 hex> -->``; the result comment carries
``<!-- reconciler-result sha=<commit> -->``; the drift issue carries ``<!-- reconciler-drift -->``.
"""

from __future__ import annotations

import re

PLAN_MARKER = "<!-- reconciler-plan "
RESULT_MARKER = "<!-- reconciler-result"
DRIFT_MARKER = "<!-- reconciler-drift -->"

# GitHub refuses comment and issue bodies over 65,536 characters; keep a margin for the markers.
MAX_BODY = 65_000

_CHECKSUM = re.compile(r"<!--\s*reconciler-plan\s+checksum=([0-9a-f]{64})\s*-->")
_MARKER_LINE = re.compile(r"^\s*<!--\s*reconciler-[a-z]+\b[^>]*-->\s*$", re.MULTILINE)


def extract_checksum(body: str) -> str | None:
    """The plan checksum in a body's marker, or None; several different checksums count as none."""
    found = set(_CHECKSUM.findall(body))
    return found.pop() if len(found) == 1 else None


def result_marker(sha: str) -> str:
    """The marker that identifies the result comment of one merge commit."""
    return f"{RESULT_MARKER} sha={sha} -->"


def defuse_plan_markers(body: str) -> str:
    """The body with plan markers renamed: a plan quoted in a result is never taken for a reviewed one."""
    return body.replace(PLAN_MARKER, "<!-- reconciler-new-plan ")


def with_marker(body: str, marker: str) -> str:
    """The body with the marker on its first line (unless it already carries it)."""
    return body if marker in body else f"{marker}\n{body}"


def fit_body(body: str, note: str, limit: int = MAX_BODY) -> str:
    """Cut a body to GitHub's size limit, keeping every marker line and saying where it was cut."""
    if len(body) <= limit:
        return body
    markers = "\n".join(m.group(0).strip() for m in _MARKER_LINE.finditer(body))
    tail = f"\n\n---\n_{note}_\n{markers}\n"
    cut = _MARKER_LINE.sub("", body)[: max(limit - len(tail), 0)]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut  # never split a line mid-way
    return cut + tail
