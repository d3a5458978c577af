"""Hidden HTML markers that make a comment or issue findable again, and bodies that fit GitHub's limit.

The tool writes exactly one marker per body, on its LAST line, and only that line is ever read back:
a marker anywhere else (a quoted plan, a value in a customer's declaration, a human's copy) is content,
and content markers are defused before posting. The markers:

- plan comment: ``<!-- reconciler-plan checksum=<64 hex> head=<40 hex> -->``, bound to the pull
  request's head commit the plan was computed for;
- result comment: ``<!-- reconciler-result sha=<merge commit> status=<applied|pending> -->``;
- drift issue: ``<!-- reconciler-drift -->``.

``reconciler plan --format markdown`` itself ends its output with ``<!-- reconciler-plan checksum=... -->``:
that file is the runner's own output, and ``extract_checksum`` reads it from there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLAN_MARKER = "<!-- reconciler-plan "
RESULT_MARKER = "<!-- reconciler-result"
DRIFT_MARKER = "<!-- reconciler-drift -->"
APPLIED, PENDING = "applied", "pending"

# GitHub refuses comment and issue bodies over 65,536 characters; keep a margin for the markers.
MAX_BODY = 65_000

_CHECKSUM = re.compile(r"<!--\s*reconciler-plan\s+checksum=([0-9a-f]{64})\s*-->")
_TRUSTED_PLAN = re.compile(r"<!-- reconciler-plan checksum=([0-9a-f]{64}) head=([0-9a-f]{40}) -->")
_TRUSTED_RESULT = re.compile(r"<!-- reconciler-result sha=([0-9a-f]{40}) status=(applied|pending) -->")
_MARKER_LINE = re.compile(r"^\s*<!--\s*reconciler-[a-z-]+\b[^>]*-->\s*$", re.MULTILINE)
_ANY_MARKER = re.compile(r"<!--(\s*)reconciler-", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PlanMarker:
    """What a plan comment's own marker says: the reviewed checksum, for which head commit."""

    checksum: str
    head: str


def extract_checksum(body: str) -> str | None:
    """The checksum in a rendered plan's marker, or None; several different checksums count as none."""
    found = set(_CHECKSUM.findall(body))
    return found.pop() if len(found) == 1 else None


def plan_marker(checksum: str, head: str) -> str:
    """The marker line of a plan comment: the checksum reviewed for pull request head ``head``."""
    return f"{PLAN_MARKER}checksum={checksum} head={head} -->"


def result_marker(sha: str, status: str) -> str:
    """The marker line of the result comment of one merge commit."""
    return f"{RESULT_MARKER} sha={sha} status={status} -->"


def last_line(body: str) -> str:
    """The body's last non-blank line: where the tool writes its marker."""
    lines = [line for line in body.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def read_plan_marker(body: str) -> PlanMarker | None:
    """The plan marker on the body's last line, or None."""
    m = _TRUSTED_PLAN.fullmatch(last_line(body))
    return PlanMarker(m.group(1), m.group(2)) if m else None


def read_result_marker(body: str) -> tuple[str, str] | None:
    """(merge sha, status) from the result marker on the body's last line, or None."""
    m = _TRUSTED_RESULT.fullmatch(last_line(body))
    return (m.group(1), m.group(2)) if m else None


def defuse_markers(body: str) -> str:
    """Content with every marker line dropped and any other marker renamed: never read back as ours."""
    return _ANY_MARKER.sub(r"<!--\1quoted-reconciler-", _MARKER_LINE.sub("", body)).rstrip() + "\n"


def with_marker(content: str, marker: str) -> str:
    """Content (its own markers defused) with the tool's marker as its last line."""
    return f"{defuse_markers(content)}\n{marker}\n"


def fit_body(body: str, note: str, limit: int = MAX_BODY) -> str:
    """Cut a body to GitHub's size limit, keeping its marker as the last line and saying where it was cut."""
    if len(body) <= limit:
        return body
    marker = last_line(body)
    tail = f"\n\n---\n_{note}_\n{marker}\n"
    cut = body[: max(limit - len(tail), 0)]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut  # never split a line mid-way
    return cut + tail
