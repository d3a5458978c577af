"""The headline of an apply result comment: what the apply step's exit code means, said first.

``reconciler apply --format markdown`` prints a result that opens with its verdict when it ran; when it
refused to run (stale, blocked) it prints the new plan instead, and on an error nothing. The workflow
passes the exit code along so the comment always says, in its first line, what happened.
"""

from __future__ import annotations

from reconciler.errors import (
    EXIT_BLOCKED,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_STALE,
    EXIT_USAGE,
)

RESULT_HEADING = "## reconciler apply:"

_MEANING = {
    EXIT_OK: "nothing to apply. The plan has no changes.",
    EXIT_ERROR: "ERROR (exit 1). Nothing may have been written; the workflow run's log has the message.",
    EXIT_USAGE: "ERROR (exit 2): the apply step was called wrongly; the workflow run's log has the message.",
    EXIT_BLOCKED: (
        "BLOCKED (exit 4). The fresh plan has blocked actions; nothing was written. "
        "The plan follows: fix the state in a new pull request."
    ),
    EXIT_STALE: (
        "STALE (exit 5). The fresh plan's checksum is not the reviewed one: live state or the "
        "declarations changed since the review. Nothing was written; this merge stays pending. The new "
        "plan follows: approve it by its checksum (below), or fix the state in a new pull request."
    ),
    EXIT_PARTIAL: "PARTIAL (exit 6). Some writes failed; run apply again to finish.",
}


def with_headline(body: str, exit_code: int | None) -> str:
    """``body`` under a headline saying what ``exit_code`` means, unless the body opens with a verdict."""
    if exit_code is None or body.lstrip().startswith(RESULT_HEADING):
        return body
    meaning = _MEANING.get(exit_code, f"ERROR (exit {exit_code}); the workflow run's log has the message.")
    return f"{RESULT_HEADING} {meaning}\n\n{body}".rstrip() + "\n"
