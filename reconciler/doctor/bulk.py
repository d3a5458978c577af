"""The bulk-read row of ``reconciler doctor`` (docs/capillary-api.md 4.4): does the org answer
``POST /v2/bulk/getCustomers``, and as its single reads do? Its verdict names the ``api.bulk_read`` line.
"""

from __future__ import annotations

import asyncio

from reconciler.capillary import CapillaryReader
from reconciler.doctor import FAIL, PASS, UNKNOWN, Check
from reconciler.doctor.seen import SAMPLE, Seen
from reconciler.errors import ApiError, AuthError, TransientError
from reconciler.model import LiveCustomer

BULK_READ = "variant: bulk read"
COMPARED = ("id", "profiles", "cards", "campaign", "status")  # a customer's state; warnings are the answer's


async def variant_bulk_read(seen: Seen) -> Check:
    """docs/capillary-api.md 4.4: does the org answer ``POST /v2/bulk/getCustomers``, as its single reads do?
    One batch of up to ``api.bulk_batch_size`` declared ids, as a plan sends it; the first ``SAMPLE`` of them
    also read singly (those the customers row read singly, with ``api.bulk_read`` off, are not read again)."""
    ids = sorted(c.id for c in seen.state.customers)[: max(1, seen.config.api.bulk_batch_size)]
    if not ids:
        return Check(BULK_READ, UNKNOWN, "the state declares no customer")
    known: dict[int, LiveCustomer | ApiError] = {
        i: r for i, r in seen.singles.items() if isinstance(r, LiveCustomer)
    }
    rest = [i for i in ids[:SAMPLE] if i not in known]
    known |= dict(zip(rest, await asyncio.gather(*(_single(seen.reader, i) for i in rest)), strict=True))
    singles = {i: known[i] for i in ids[:SAMPLE]}
    probed = [i for i, r in singles.items() if isinstance(r, LiveCustomer)]
    if not probed:
        return Check(
            BULK_READ, UNKNOWN, f"none of the {len(singles)} declared customers sampled reads singly"
        )
    try:
        bulk = await seen.reader.get_customers_bulk(ids)
    except (AuthError, TransientError):
        raise
    except ApiError as exc:
        hint = "; a smaller api.bulk_batch_size may be answered" if exc.code == 1060 else ""
        return _bulk_verdict(seen, False, f"refused a batch of {len(ids)} ids ({_said(exc)}{hint})")
    differ = [f"customer {i}: {why}" for i, one in singles.items() if (why := _differs(one, bulk[i]))]
    if differ:
        shown = "; ".join(differ[:3]) + ("; ..." if len(differ) > 3 else "")
        said = f"answered differently from single reads for {len(differ)} of {len(singles)} customers probed"
        return _bulk_verdict(seen, False, f"{said} ({shown})")
    same = f"answered for {len(probed)} of {len(probed)} customers probed, same as single reads"
    return _bulk_verdict(seen, True, f"{same} ({len(ids)} ids in one request)")


async def _single(reader: CapillaryReader, customer_id: int) -> LiveCustomer | ApiError:
    try:
        return await reader.get_customer(customer_id)
    except (AuthError, TransientError):
        raise
    except ApiError as exc:
        return exc


def _said(error: ApiError) -> str:
    return f"{error.code or error.status or 'error'} {error.api_message}".strip()


def _differs(single: LiveCustomer | ApiError, bulk: LiveCustomer | ApiError) -> str:
    """Why the bulk answer does not stand for the single read of one customer; empty when it does."""
    if isinstance(single, ApiError) and isinstance(bulk, ApiError):
        return "" if type(single) is type(bulk) else f"read singly {_said(single)}, in bulk {_said(bulk)}"
    if isinstance(bulk, ApiError):
        return f"the bulk item is an error ({_said(bulk)})"
    if isinstance(single, ApiError):
        return f"read singly {_said(single)}, in bulk a customer"
    fields = [f for f in COMPARED if getattr(single, f) != getattr(bulk, f)]
    return f"the bulk answer's {' and '.join(fields)} differ" if fields else ""


def _bulk_verdict(seen: Seen, usable: bool, detail: str) -> Check:
    """The row and the exact reconciler.yaml line: bulk reads on only where the org answers them alike."""
    on = seen.config.api.bulk_read
    if usable:
        todo = "keep `bulk_read: true` under `api:`" if on else "add `bulk_read: true` under `api:`"
        return Check(BULK_READ, PASS, f"{detail}: {todo} in reconciler.yaml", "api.bulk_read: true")
    if on:
        todo = "remove `bulk_read: true` from `api:` in reconciler.yaml (plans then read each customer)"
        return Check(BULK_READ, FAIL, f"{detail}: {todo}", "api.bulk_read: false")
    todo = "leave `bulk_read` out of `api:` in reconciler.yaml (the default, false)"
    return Check(BULK_READ, PASS, f"{detail}: {todo}", "api.bulk_read: false")
