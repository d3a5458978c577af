"""Renderers of an ApplyResult: text, Markdown (the PR/commit comment) and JSON. Incidents come first.

No identifier value appears in a result: only customer ids, call ids, operations and API codes. Reasons,
notes and incidents may quote API messages: the text shows their control characters escaped, the Markdown
renders them as inert text.
"""

from __future__ import annotations

import json

from reconciler.apply.result import APPLIED, FAILED, STALE, ApplyResult, CustomerResult, GeneratedCard
from reconciler.errors import EXIT_OK, EXIT_PARTIAL, EXIT_STALE, PERMANENT, TRANSIENT
from reconciler.render.escape import visible
from reconciler.render.inert import text as inert
from reconciler.render.words import counted

MARKDOWN_LIMIT = 60_000
_MAX_DIVERGENCES = 50  # keeps the comment under MARKDOWN_LIMIT; the JSON result lists them all
_VERDICT = {
    EXIT_OK: "Applied.",
    EXIT_STALE: "Stale: some customers changed since the plan and were skipped.",
    EXIT_PARTIAL: "PARTIAL",
}


def verdict(result: ApplyResult) -> str:
    """One line: what the exit code means for this run."""
    if result.incidents:
        return f"INCIDENT: {counted(len(result.incidents), 'unexpected merge')}; see above."
    if result.verification.divergences and not result.counts[FAILED]:
        differences = counted(len(result.verification.divergences), "difference")
        return f"DIVERGED: {differences} from the plan after writing."
    failed = counted(result.counts[FAILED], "customer")
    if result.exit_code == EXIT_PARTIAL and result.rerun_helps:
        return f"PARTIAL: {failed} failed; run apply again to finish."
    if result.exit_code == EXIT_PARTIAL:
        permanent = sum(1 for c in result.customers if c.failure == PERMANENT)
        return (
            f"PARTIAL: {failed} failed; {permanent} will fail again if re-run "
            "(re-running will not help): fix the state or the org first."
        )
    return _VERDICT[result.exit_code]


def _counts(result: ApplyResult) -> str:
    c = result.counts
    return (
        f"{c[APPLIED]} applied, {c[STALE]} skipped (stale), {c[FAILED]} failed "
        f"of {counted(len(result.customers), 'customer')}; {counted(result.writes_sent, 'write')} sent "
        f"in {result.seconds:.1f} s"
    )


def _generated_line(g: GeneratedCard) -> str:
    return f"generated card {g.masked} in series {g.series} for customer {g.customer_id}"


def _customer_line(c: CustomerResult) -> str:
    calls = f"{c.applied_calls}/{counted(len(c.calls), 'call')}"
    reason = f": {c.reason}" if c.reason else ""
    again = {PERMANENT: " [permanent: re-running will not help]", TRANSIENT: " [transient: re-run]"}
    return f"customer {c.id}: {c.status} ({calls}){reason}{again[c.failure] if c.failure else ''}"


def render_result_text(result: ApplyResult) -> str:
    """The result for a terminal or CI log."""
    out = [f"Target: {result.target}"]
    out += [f"INCIDENT: {i}" for i in result.incidents]
    out.append("")
    out += [_customer_line(c) for c in result.customers if c.status != APPLIED]
    if any(c.status != APPLIED for c in result.customers):
        out.append("")
    out += [f"note: {n}" for n in result.notes]
    out += [f"DIVERGED: {d}" for d in result.verification.divergences]
    out += [_generated_line(g) for g in result.generated]
    out += [_counts(result), verdict(result), f"Checksum: {result.checksum}", f"Journal: {result.journal}"]
    if result.verification.how():
        out.append(f"Verification: {result.verification.how()}")
    out.append(result.verification.summary())
    return "\n".join(map(visible, out)) + "\n"


def render_result_markdown(result: ApplyResult) -> str:
    """Summary first (incidents, counts, verdict), then per-customer details; under 60,000 characters."""
    head = [f"## reconciler apply: {verdict(result)}", "", f"Target: **{inert(result.target)}**", ""]
    head += [f"> :rotating_light: **INCIDENT**: {inert(i)}" for i in result.incidents]
    head += ["", _counts(result), "", f"Checksum `{result.checksum}`", ""]
    head += [f"- note: {inert(n)}" for n in result.notes]
    diverged = result.verification.divergences
    head += [f"- **DIVERGED**: {inert(d)}" for d in diverged[:_MAX_DIVERGENCES]]
    if len(diverged) > _MAX_DIVERGENCES:
        head.append(f"- ... and {len(diverged) - _MAX_DIVERGENCES} more (see the JSON result)")
    head += [f"- {_generated_line(g)}" for g in result.generated]
    how = [f"Verification: {result.verification.how()}", ""] if result.verification.how() else []
    head += ["", *how, result.verification.summary(), ""]
    body = ["<details><summary>Customers not applied</summary>", ""]
    rows = [f"- {inert(_customer_line(c))}" for c in result.customers if c.status != APPLIED]
    tail = ["", "</details>", ""]
    text = "\n".join(head) + "\n"
    budget = MARKDOWN_LIMIT - len(text) - 200
    kept: list[str] = []
    for row in rows:
        budget -= len(row) + 1
        if budget < 0:
            kept.append(f"- ... and {len(rows) - len(kept)} more (see the JSON result or the journal)")
            break
        kept.append(row)
    if rows:
        text += "\n".join(body + kept + tail)
    return text


def render_result_json(result: ApplyResult) -> str:
    """The versioned JSON result."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _stopped_line(c: CustomerResult) -> str:
    """A customer some of whose writes were sent: partly applied, or a write that failed."""
    failed = next((o for o in c.calls if o.status != APPLIED and o.sends), None)
    if failed is None:
        return f"customer {c.id}: partly applied ({c.applied_calls}/{len(c.calls)} calls)"
    return f"customer {c.id}: failed ({c.applied_calls}/{len(c.calls)} calls): {failed.detail}"


def render_stopped(result: ApplyResult, reason: str, writes: dict[str, int], resume: list[str]) -> str:
    """The summary of an apply that stopped early (a signal, or a journal it could not write).

    ``writes`` counts the planned calls (``stop.write_counts``); ``resume`` is the commands that finish
    the work: a fresh plan of the same scope, then applying it.
    """
    out = [f"Target: {result.target}", f"STOPPED: {reason}; no write was started after that.", ""]
    out += [
        _stopped_line(c) for c in result.customers if c.status == FAILED and any(o.sends for o in c.calls)
    ]
    out += [f"note: {n}" for n in result.notes]
    out.append(
        f"Writes: {writes['applied']} applied, {writes['failed']} failed or unknown, "
        f"{writes['not_started']} not started, of {sum(writes.values())} planned."
    )
    out += [f"Journal: {result.journal}", "To finish, plan the same scope again, review it, and apply it:"]
    out += [f"  {line}" for line in resume]
    return "\n".join(out) + "\n"
