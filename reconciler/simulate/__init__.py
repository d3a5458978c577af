"""The simulated apply: a plan proves itself on a twin of the org before anyone reviews it.

``simulate(plan, desired, config)`` seeds an in-memory sandbox (``reconciler.sandbox``, served in process
through ``httpx.ASGITransport``) from what the plan itself read (``Plan.observed``: the customers with
actions and the holders and cards they touch, the series, labels and sources; no second read of the target),
runs the real apply path on it (``reconciler.apply.apply_plan``: the same executor, order, preconditions,
holder checks and writer that ``apply`` uses), reads the twin back and diffs it against the declared state.

The verdict passes when every planned call succeeds and every customer with actions ends in its declared
state (a blocked action's change is expected to remain). Anything else is a divergence: the customer, the
call and the twin's code and message, or the change that remains. What the twin cannot model is said as
"not simulated: why", never passed silently.

What it proves: these calls, in this order, against the org as the plan read it, under the sandbox's rules
(the documented API, in the target's variant where it is known). What it cannot: another writer changing
the org between plan and apply (the write-time preconditions and holder checks are for that), and rules the
sandbox does not model (docs/architecture.md 4.9).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from reconciler.apply import APPLIED, SKIPPED, apply_plan
from reconciler.apply.journal import MemoryJournal
from reconciler.capillary import CapillaryWriter, Credentials, open_client
from reconciler.config import Config
from reconciler.errors import ApiError
from reconciler.mask import mask_value
from reconciler.model import DesiredCustomer, DesiredState, LiveCustomer
from reconciler.plan import MERGE, Plan
from reconciler.plan.diff import compute_changes
from reconciler.sandbox import Settings, Store, create_app
from reconciler.sandbox.from_live import fixture_from_live

PASSED, DIVERGED, NOT_SIMULATED, OFF = "passed", "diverged", "not simulated", "off"
TWIN_RATE = 1_000_000  # requests per minute: the twin has no rate limit worth waiting for


@dataclass(frozen=True, slots=True)
class Divergence:
    """Where the twin parted from the plan: a customer, the call (or "" for its end state), and why."""

    customer_id: int
    call: str
    detail: str

    def __str__(self) -> str:
        where = f" ({self.call})" if self.call else ""
        return f"customer {self.customer_id}{where}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "call": self.call, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Simulation:
    """The verdict of a simulated apply."""

    status: str  # passed | diverged | not simulated | off
    customers: int = 0  # customers with actions
    reached: int = 0  # of them, those that reached their declared state
    calls: int = 0  # calls run on the twin
    divergences: tuple[Divergence, ...] = ()
    not_simulated: tuple[str, ...] = ()
    blocked: int = 0  # blocked actions: never sent, their changes expected to remain
    # The twin's customers as read back after the run (those judged), for tests and adopters to inspect.
    end_state: Mapping[int, LiveCustomer | ApiError] = field(default_factory=dict, compare=False, repr=False)

    @property
    def blocks(self) -> bool:
        """A divergence blocks the plan like any blocked change."""
        return self.status == DIVERGED

    def summary(self) -> str:
        """The one line every output shows."""
        if self.status == OFF:
            return "Simulated apply: off (--no-simulate)"
        if self.status == NOT_SIMULATED:
            return "Simulated apply: not simulated: " + "; ".join(self.not_simulated)
        n = self.blocked
        left = f"; {n} blocked change{'s' if n != 1 else ''} left undone, as planned" if n else ""
        line = (
            f"Simulated apply: {self.reached} of {self.customers} customers reach the declared state "
            f"({self.calls} calls{left})"
        )
        if self.divergences:
            n = len(self.divergences)
            line += f"; {n} divergence{'s' if n != 1 else ''}: the plan is blocked"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "customers": self.customers,
            "reached": self.reached,
            "calls": self.calls,
            "blocked": self.blocked,
            "divergences": [d.to_dict() for d in self.divergences],
            "not_simulated": list(self.not_simulated),
        }


def twin_settings(settings: Mapping[str, Any] | None) -> Settings:
    """The twin's behaviour: the target's settings where they are known (a sandbox target), else the
    documented defaults. Credentials, limits and faults are never copied: the twin has its own."""
    if not settings:
        return Settings()
    skip = {"till", "password", "oauth_key", "oauth_secret", "token_ttl_seconds", "auth_required"}
    skip |= {"rate_limit_per_minute", "retry_after_header", "rate_limit_status"}
    defaults = Settings()
    known = {k: v for k, v in settings.items() if k not in skip and hasattr(defaults, k)}
    return defaults.replace(known)


async def simulate(
    plan: Plan,
    desired: Mapping[int, DesiredCustomer],
    config: Config,
    *,
    settings: Settings | None = None,
) -> Simulation:
    """Run ``plan`` on a twin seeded from ``plan.observed`` and judge where it ends."""
    observed = plan.observed
    if observed is None:
        return Simulation(NOT_SIMULATED, not_simulated=("the plan kept no live read to seed a twin from",))
    with_actions = sorted(
        {c.id for c in plan.customers if not c.error} & {a.customer_id for a in plan.actions}
    )
    blocked = len([a for a in plan.actions if a.blocked])
    if not plan.calls:
        n = len(with_actions)
        return Simulation(PASSED, customers=n, reached=n, blocked=blocked)
    # the survivors of allowed merges end with their victims' profiles: they are judged too
    survivors = {a.holder for a in plan.actions if a.risk == MERGE and not a.blocked and a.holder}
    judged = sorted(set(with_actions) | {c for c in survivors if c in desired})
    wanted = set(judged) | {h.customer_id for h in observed.holders.values() if h is not None}
    wanted |= {c.customer_id for c in observed.cards.values() if c is not None and c.customer_id}
    read = [c for cid, c in observed.customers.items() if cid in wanted and isinstance(c, LiveCustomer)]
    seeded = fixture_from_live(
        read,
        holders=observed.holders,
        cards=observed.cards,
        series=observed.series,
        labels=observed.labels,
        sources=observed.sources,
    )
    rules = settings or Settings()
    store = Store()
    try:
        store.seed(seeded.fixture)
    except ValueError as exc:
        return Simulation(NOT_SIMULATED, not_simulated=(f"the twin could not be seeded: {exc}",))
    app = create_app(store, rules)
    twin_config = replace(config, api=replace(config.api, url="sandbox", requests_per_minute=TWIN_RATE))
    credentials = Credentials.oauth(rules.oauth_key, rules.oauth_secret)
    twin_config = replace(twin_config, api=replace(twin_config.api, auth="oauth"))
    transport = httpx.ASGITransport(app=app)
    async with open_client(twin_config, write=True, transport=transport, credentials=credentials) as client:
        assert isinstance(client, CapillaryWriter)
        journal = MemoryJournal()
        try:
            result = await apply_plan(plan, client, desired, twin_config, journal)
        finally:
            journal.close()
        after = await client.get_customers(judged)
    divergences = _call_divergences(result)
    divergences += _unallowed_merges(plan, desired)
    divergences += _end_divergences(plan, desired, config, after, result)
    diverged = {d.customer_id for d in divergences}
    return Simulation(
        DIVERGED if divergences else PASSED,
        customers=len(judged),
        reached=len([c for c in judged if c not in diverged]),
        calls=len(plan.calls),
        blocked=blocked,
        divergences=tuple(divergences),
        not_simulated=tuple(seeded.unseeded),
        end_state=after,
    )


def _call_divergences(result: Any) -> list[Divergence]:
    """The first call of each customer that did not apply, with the twin's answer; the calls it kept
    from running are counted on the same line."""
    out = []
    for customer in result.customers:
        missed = [c for c in customer.calls if c.status != APPLIED]
        if not missed:
            continue
        first = next((c for c in missed if c.status != SKIPPED), missed[0])
        detail = first.detail or customer.reason or f"the call was {first.status}"
        later = len(missed) - 1
        more = f" ({later} later call{'s' if later != 1 else ''} of the customer not run)" if later else ""
        out.append(Divergence(customer.id, f"{first.call_id} {first.op}", f"{first.status}: {detail}{more}"))
    for incident in result.incidents:
        out.append(Divergence(0, "", incident))
    return out


def _unallowed_merges(plan: Plan, desired: Mapping[int, DesiredCustomer]) -> list[Divergence]:
    """Every merge the plan lets run, checked against the declarations themselves, not the plan's
    verdict on them: both customers must list each other in ``allow.merge_with``."""
    out = []
    for a in plan.actions:
        if a.risk != MERGE or a.blocked or a.holder is None:
            continue
        mine, theirs = desired.get(a.customer_id), desired.get(a.holder)
        if (
            mine is None
            or theirs is None
            or a.holder not in mine.merge_with
            or a.customer_id not in theirs.merge_with
        ):
            why = f"merges into customer {a.holder}, which their declarations do not both allow"
            why += " (allow.merge_with)"
            out.append(Divergence(a.customer_id, a.id, why))
    return out


def _end_divergences(
    plan: Plan,
    desired: Mapping[int, DesiredCustomer],
    config: Config,
    after: Mapping[int, LiveCustomer | ApiError],
    result: Any,
) -> list[Divergence]:
    """Each customer's remaining changes against the declared state, but for those its blocked actions
    leave (they never ran) and those of a customer an allowed merge made a victim (verified as such)."""
    merged = {a.customer_id for a in plan.actions if a.risk == MERGE and not a.blocked}
    ids = [cid for cid in after if cid in desired]
    state = DesiredState(tuple(desired[cid] for cid in ids))
    changes = compute_changes(state, {cid: after[cid] for cid in ids}, config)
    # a numberless card's change is to generate; its blocked actions are a generate and a link
    kinds = {"link": ("link", "generate"), "generate": ("generate",)}
    expected = {
        (a.customer_id, kind, str(a.profile), a.type.lower(), a.value)
        for a in plan.actions
        if a.blocked
        for kind in kinds.get(a.kind, (a.kind,))
    }
    failed = {c.id for c in result.customers if any(x.status != APPLIED for x in c.calls)}
    out = []
    for customer in changes.customers:
        if customer.id in merged:
            continue
        if customer.error:
            out.append(Divergence(customer.id, "", f"ended {customer.error}"))
            continue
        for change in customer.changes:
            key = (customer.id, change.kind, str(change.profile), change.type.lower(), change.value)
            if key in expected or customer.id in failed:
                continue  # a blocked action's change; a failed call is said once, as its call
            shown = "a generated card" if change.value is None else mask_value(change.type, change.value)
            out.append(
                Divergence(customer.id, "", f"still to {change.kind} {shown} in {change.profile} afterwards")
            )
    return out
