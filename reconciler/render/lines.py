"""One-line descriptions of actions, budgets and counts, shared by the text and Markdown renderers."""

from __future__ import annotations

from reconciler.plan.cost import describe as describe_cost
from reconciler.plan.diff import ADD, CREATE, DELINK, GENERATE, LINK, REMOVE, STATUS
from reconciler.plan.document import BLOCKED, CARD_NUMBER, MOVE, PLAIN, Action, Plan
from reconciler.render.words import counted

SYMBOLS = {ADD: "+", LINK: "+", CREATE: "+", GENERATE: "+", REMOVE: "-", DELINK: "-", STATUS: "~"}


def symbol(action: Action) -> str:
    """``+`` add, ``-`` remove, ``~`` status, ``+>`` a move's add, ``!`` blocked, conflict or merge."""
    if action.blocked or action.risk not in (PLAIN, MOVE):
        return "!"
    return "+>" if action.risk == MOVE else SYMBOLS.get(action.kind, "?")  # "+": green in a diff block


def describe(action: Action, value: str) -> str:
    """``add mobile 91******10#abc123 to INSTORE`` and the like, with risk and reason."""
    what = "card" if action.type.lower() == CARD_NUMBER else action.type
    series = f" (series {action.series})" if action.series is not None else ""
    where = {
        ADD: f" to {action.profile}",
        REMOVE: f" from {action.profile}",
        LINK: f"{series} via {action.profile}",
        DELINK: f"{series} via {action.profile}",
        CREATE: f" in series {action.series}",
        GENERATE: f" in series {action.series}",
        STATUS: f" to label {action.label}",
    }.get(action.kind, "")
    shown = "" if action.kind == GENERATE else f" {value}"
    text = f"{action.kind} {what}{shown}{where}"
    if action.risk == BLOCKED or (action.blocked and action.risk == PLAIN):
        risk = " [BLOCKED]"
    elif action.risk != PLAIN:
        risk = f" [{action.risk}{', BLOCKED' if action.blocked else ''}]"
    else:
        risk = ""
    return f"{text}{risk}" + (f": {action.reason}" if action.reason else "")


def counts_line(counts: dict[str, int]) -> str:
    """``2 add, 1 remove``, or ``none``."""
    return ", ".join(f"{n} {k}" for k, n in counts.items()) or "none"


def summary_line(plan: Plan) -> str:
    """The verdict: no changes, N changes, or blocked."""
    changed = len({a.customer_id for a in plan.actions})
    if not plan.has_changes:
        head = "No changes."
    else:
        head = f"{counted(len(plan.actions), 'action')} on {changed} of "
        head += f"{counted(plan.customers_in_scope, 'customer')}, {counted(len(plan.calls), 'API call')}."
    if plan.blocked:
        n = len(plan.blocked_actions)
        over = [b.name for b in plan.budgets if b.blocks]
        what = [counted(n, "blocked action")] if n else []
        what += [f"budget exceeded: {', '.join(over)}"] if over else []
        head += f" BLOCKED: {'; '.join(what)}."
    return head


def cost_lines(plan: Plan) -> list[str]:
    """What the plan's apply will spend (plan/cost.py): calls by kind and their time at the rate limit."""
    return [describe_cost(plan.cost)] if plan.cost is not None else []
