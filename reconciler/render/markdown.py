"""Markdown rendering of a Plan for the pull-request comment (docs/architecture.md 4.8).

Summary first (target, verdict, counts per action and risk, budgets, blocked items), then one
``<details>`` per customer with the ``file:line`` of each change, then the checksum and a hidden marker
``<!-- reconciler-plan checksum=SHA -->`` by which CI finds and updates its comment. The whole stays under
``limit`` characters: details are truncated (with a note), never the summary, which is itself bounded
(at most ``MAX_LISTED`` blocked items and unmanaged ids are listed; the counts are always complete).
Values are always masked, and every string from outside (series codes, labels, file names, the target,
reasons) is rendered inertly (``inert``): in a code span or block, or as escaped text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from reconciler.plan.document import Action, Plan
from reconciler.render.inert import code, code_block, html_text, text
from reconciler.render.lines import cost_lines, describe, summary_line, symbol

MAX_LISTED = 40
MARKER = "<!-- reconciler-plan checksum={checksum} -->"


def _counts_table(plan: Plan) -> list[str]:
    rows = ["| | count |", "|---|---:|"]
    rows += [f"| {kind} | {n} |" for kind, n in plan.kind_counts.items()]
    rows += [f"| risk: {risk} | {n} |" for risk, n in plan.risk_counts.items()]
    return rows if len(rows) > 2 else []


def _action_text(action: Action) -> str:
    loc = f"  {action.loc.file}:{action.loc.line}" if action.loc else ""
    return f"{symbol(action)} {describe(action, action.masked)}{loc}"


def _summary(plan: Plan, simulation: Sequence[str] = ()) -> list[str]:
    out = [f"### Reconciler plan for **{text(plan.target)}**", "", f"**{summary_line(plan)}**", ""]
    if simulation:
        out += [text(simulation[0])]
        out += [f"- {code(line.strip())}" for line in simulation[1 : MAX_LISTED + 1]]
        if len(simulation) > MAX_LISTED + 1:
            out.append(f"- … and {len(simulation) - MAX_LISTED - 1} more (see the JSON plan)")
        out.append("")
    out += _counts_table(plan)
    out += [""] + [text(line) for line in cost_lines(plan)]
    out += ["", "Safety budgets:"] + [f"- {b.describe()}" for b in plan.budgets]
    blocked = plan.blocked_actions
    if blocked:
        out += ["", f"**Blocked ({len(blocked)}):**"]
        out += [f"- customer {a.customer_id}: {code(_action_text(a))}" for a in blocked[:MAX_LISTED]]
        if len(blocked) > MAX_LISTED:
            out.append(f"- … and {len(blocked) - MAX_LISTED} more blocked actions (see the JSON plan)")
    if plan.unmanaged:
        ids = ", ".join(map(str, plan.unmanaged[:MAX_LISTED]))
        more = f" and {len(plan.unmanaged) - MAX_LISTED} more" if len(plan.unmanaged) > MAX_LISTED else ""
        out += ["", f"No longer managed (removed from the YAML; nothing will be changed): {ids}{more}"]
    return [*out, ""]


def _details(plan: Plan) -> list[str]:
    by_customer: dict[int, list[Action]] = defaultdict(list)
    for a in plan.actions:
        by_customer[a.customer_id].append(a)
    locs = {c.id: c.loc for c in plan.customers}
    blocks = []
    for cid, actions in by_customer.items():
        where = f" — {html_text(str(locs[cid]))}" if locs.get(cid) else ""
        lines = code_block([_action_text(a) for a in actions], "diff")
        blocks.append(
            f"<details><summary>customer {cid}: {len(actions)} change{'s' if len(actions) > 1 else ''}{where}"
            f"</summary>\n\n{lines}\n</details>\n"
        )
    return blocks


def render_markdown(plan: Plan, *, limit: int = 60_000, simulation: Sequence[str] = ()) -> str:
    """The PR comment: never over ``limit`` characters, details truncated first, summary kept whole;
    ``simulation`` (the simulated apply's line, then its divergences) right after the verdict."""
    head = "\n".join(_summary(plan, simulation)) + "\n"
    tail = f"\nChecksum: `{plan.checksum}`\n{MARKER.format(checksum=plan.checksum)}\n"
    room = limit - len(head) - len(tail) - 200  # 200: the truncation note
    body: list[str] = []
    blocks = _details(plan)
    for n, block in enumerate(blocks):
        if room - len(block) < 0:
            body.append(
                f"\n_… details of {len(blocks) - n} more customers omitted to stay under {limit:,} "
                "characters; the JSON plan has every action._\n"
            )
            break
        room -= len(block)
        body.append(block)
    return head + "".join(body) + tail
