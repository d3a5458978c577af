"""``build_plan``: the second phase of planning, after ``compute_changes`` and the holder lookups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from reconciler.config import Config
from reconciler.model import DesiredCustomer, Observed
from reconciler.plan.budget import calls_budget, count_removals, evaluate_budgets
from reconciler.plan.calls import build_calls
from reconciler.plan.cost import apply_cost
from reconciler.plan.diff import Changes
from reconciler.plan.document import Action, CustomerPlan, Plan
from reconciler.plan.risk import assess

SANDBOX_TARGET = "embedded sandbox (demo data)"


def build_plan(
    changes: Changes,
    observed: Observed,
    config: Config,
    all_declared: Mapping[int, DesiredCustomer],
    *,
    target: str,
    force: bool = False,
) -> Plan:
    """The Plan: actions with risks, budgets, the ordered API calls and the per-customer live facts.

    ``observed.holders``/``observed.cards`` must hold an entry (``None`` = nobody / no such card) for
    everything ``holders_needed(changes)`` returned; a missing entry blocks that action rather than
    guessing. ``observed.sources`` (None: unknown) blocks actions in a source or account the org does not
    have. The plan keeps ``observed`` (never in its checksum) for the simulated apply.
    """
    actions = tuple(assess(changes, observed, all_declared))
    removals = count_removals(actions)
    live_managed = sum(cc.managed_live for cc in changes.customers)
    budgets = evaluate_budgets(removals, live_managed, config.safety, force=force)
    calls = build_calls(actions)
    cost = apply_cost(calls, actions, observed, config)
    if config.safety.max_calls is not None:
        budgets += (calls_budget(cost.calls, config.safety.max_calls, force=force),)
    return Plan(
        target=target,
        actions=actions,
        calls=calls,
        customers=_customers(changes, actions),
        budgets=budgets,
        unmanaged=changes.unmanaged,
        customers_in_scope=len(changes.customers),
        force=force,
        target_key=target_key(config),
        observed=observed,
        cost=cost,
    )


def _customers(changes: Changes, actions: Sequence[Action]) -> tuple[CustomerPlan, ...]:
    with_actions = {a.customer_id for a in actions}
    return tuple(
        CustomerPlan(cc.id, cc.facts, cc.error, cc.desired.loc)
        for cc in changes.customers
        if cc.id in with_actions or cc.error
    )


def target_key(config: Config) -> str:
    """The target's identity, as the checksum binds it and the apply lock names it: ``sandbox``, or the API
    URL without credentials (scheme, lower-case host, port, path)."""
    if config.api.is_sandbox:
        return "sandbox"
    parts = urlsplit(config.api.url)
    port: int | str = parts.port or {"https": 443, "http": 80}.get(parts.scheme) or ""
    return f"{parts.scheme}://{parts.hostname or ''}:{port}{parts.path.rstrip('/')}"


def describe_target(config: Config, org: str = "") -> str:
    """The target line every output starts with: the API host and org, or the embedded sandbox."""
    if config.api.is_sandbox:
        return SANDBOX_TARGET
    host = config.api.url.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[2]
    return f"{host} (org {org})" if org else host
