"""Terraform-like text rendering of a Plan: target first, a block per customer, summary and checksum last.

Every line shows its control characters escaped (``escape.visible``): a value, file name or API message
cannot move the cursor, retitle or recolour the terminal. The only escape sequences are the colours.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan.document import Action, Plan
from reconciler.render.escape import visible
from reconciler.render.lines import cost_lines, counts_line, describe, summary_line, symbol

_COLORS = {"+": "32", "-": "31", "~": "33", "+>": "36", "!": "1;31"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def _action_line(action: Action, *, color: bool, show_values: bool) -> str:
    value = action.value if show_values and action.value is not None else action.masked
    sym = symbol(action)
    loc = f"  ({action.loc.file}:{action.loc.line})" if action.loc else ""
    line = visible(f"{sym:>2} {describe(action, value)}")
    return "  " + _paint(line, _COLORS.get(sym, "0"), color) + visible(loc)


def render_text(
    plan: Plan, *, color: bool = False, show_values: bool = False, simulation: Sequence[str] = ()
) -> str:
    """The plan for a terminal; raw values only with ``show_values=True``; ``simulation``: the simulated
    apply's line and its divergences, shown above the verdict."""
    out = [visible(f"Target: {plan.target}"), ""]
    if plan.selected:
        out[1:1] = [f"Scope: --customer {', '.join(map(str, plan.selected))}"]
    locs = {c.id: c.loc for c in plan.customers}
    errors = {c.id: c.error for c in plan.customers if c.error}
    current = None
    for action in plan.actions:
        if action.customer_id != current:
            current = action.customer_id
            where = f" ({locs[current]})" if locs.get(current) else ""
            error = f": {errors[current]}" if current in errors else ""
            if out[-1]:
                out.append("")
            out.append(visible(f"customer {current}{where}{error}"))
        out.append(_action_line(action, color=color, show_values=show_values))
    if plan.unmanaged:
        ids = ", ".join(map(str, plan.unmanaged))
        out += ["", f"No longer managed (removed from the YAML; nothing will be changed): {ids}"]
    out += ([""] if out[-1] else []) + ["Budgets:"] + [visible(f"  {b.describe()}") for b in plan.budgets]
    out += ["", f"Actions: {counts_line(plan.kind_counts)}", f"Risks: {counts_line(plan.risk_counts)}"]
    out += [visible(line) for line in cost_lines(plan)]
    out += [visible(line) for line in simulation]
    verdict = summary_line(plan)
    out += [_paint(verdict, _COLORS["!"], color) if plan.blocked else verdict, f"Checksum: {plan.checksum}"]
    return "\n".join(out) + "\n"
