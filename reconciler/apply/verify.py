"""Verify after write: every customer apply wrote is read again and compared with what its plan promised.

The promise is per action of every call that was applied: an added identifier is in its profile, a removed
one is not; a linked card (a generated one by the number its generate returned) is this customer's, a
delinked one is not; a status change shows its label. A customer whose allowed merge ran is a merge victim
by design and is verified by being one. Anything else is a divergence: the write was answered as applied
and live state says otherwise (another writer, a lost write, an API that dropped part of a call).
Each re-read is reported to ``progress`` as phase ``verifying``: a long verification draws its own line.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.apply.result import APPLIED, CustomerResult, Verification
from reconciler.capillary import CapillaryReader
from reconciler.errors import ApiError, MergedCustomerError
from reconciler.mask import mask_value
from reconciler.model import LiveCustomer, Progress, gather_counted, no_progress
from reconciler.plan import MERGE, Action, Plan
from reconciler.plan.diff import ADD, DELINK, LINK, REMOVE, STATUS


async def verify(
    plan: Plan,
    reader: CapillaryReader,
    customers: tuple[CustomerResult, ...],
    generated: Mapping[str, str],
    progress: Progress = no_progress,
) -> Verification:
    """Re-read each customer with an applied call; compare with the actions of its applied calls.
    ``progress`` hears ``("verifying", customers re-read, customers to re-read)``."""
    calls = {c.id: c for c in plan.calls}
    actions = {a.id: a for a in plan.actions}
    promised: dict[int, list[tuple[Action, str | None]]] = {}
    for customer in customers:
        for outcome in (o for o in customer.calls if o.status == APPLIED):
            call = calls[outcome.call_id]
            items = (*call.add, *call.remove, *((call.card,) if call.card else ()))
            gen = next((i.generated_by for i in items if i.generated_by), None)
            number = generated.get(gen) if gen else None
            promised.setdefault(customer.id, []).extend((actions[a], number) for a in call.actions)
    checks = [_check(reader, cid, done) for cid, done in promised.items()]
    found = await gather_counted("verifying", checks, progress)
    divergences = tuple(line for lines in found for line in lines)
    bad = sum(1 for lines in found if lines)
    return Verification(len(promised) - bad, len(promised), divergences)


async def _check(reader: CapillaryReader, cid: int, done: list[tuple[Action, str | None]]) -> list[str]:
    merged = any(a.risk == MERGE for a, _ in done)
    try:
        live = await reader.get_customer(cid)
    except MergedCustomerError:
        return [] if merged else [f"customer {cid}: now a merge victim, which the plan did not promise"]
    except ApiError as exc:
        return [f"customer {cid}: could not be re-read to verify it: {exc}"]
    if merged:
        return [f"customer {cid}: the allowed merge ran but the customer is not a merge victim"]
    return [f"customer {cid}: {line}" for a, number in done if (line := _diverges(live, a, number))]


def _diverges(live: LiveCustomer, action: Action, generated: str | None) -> str:
    """Why ``live`` does not show ``action`` done, or ""."""
    value = action.value if action.value is not None else generated
    if value is None:
        return ""  # a create/generate: its link's check covers it
    shown = mask_value(action.type, value)
    if action.kind in (ADD, REMOVE):
        profile = live.profile(action.profile)
        present = profile is not None and any(
            i.type.lower() == action.type.lower() and i.value == value for i in profile.identifiers
        )
        if present != (action.kind == ADD):
            where = "missing from" if action.kind == ADD else "still in"
            return f"{action.kind} {shown}: {where} {action.profile}"
        return ""
    card = next((c for c in live.cards if c.number == value), None)
    if action.kind == LINK and card is None:
        return f"link {shown}: the card is not linked to the customer"
    if action.kind == DELINK and card is not None:
        return f"delink {shown}: the card is still linked to the customer"
    if action.kind == STATUS and (card is None or card.status_label != action.label):
        label = card.status_label if card is not None else "not linked"
        return f"status {shown}: {label}, not {action.label}"
    return ""
