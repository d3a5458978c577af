"""The doctor's checks: each reads through the read-only client and returns its rows; none writes or prints.

Order matters only for the first: when the credentials are refused, every other row is unknown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from reconciler.capillary import SCOPES_UNKNOWN, CapillaryReader
from reconciler.config import Config
from reconciler.doctor import FAIL, PASS, UNKNOWN, Check
from reconciler.errors import ApiError, AuthError, MergedCustomerError, TransientError
from reconciler.model import (
    MULTI_ACCOUNT_SOURCES,
    CardLabel,
    DesiredState,
    Identifier,
    LiveCustomer,
    ProfileKey,
    Series,
)
from reconciler.plan.catalog import Catalog

SAMPLE = 5  # declared customers read
SHORT_TOKEN = 30.0  # seconds: a token that expires within a request's retries


@dataclass
class Seen:
    """What the checks share: the reader, the declared state, and what earlier checks read."""

    reader: CapillaryReader
    config: Config
    state: DesiredState
    merged: int | None = None  # a customer id the operator knows is merged away
    series: list[Series] = field(default_factory=list)
    sample: list[LiveCustomer] = field(default_factory=list)
    singles: dict[int, LiveCustomer | ApiError] = field(default_factory=dict)  # the sample, read one by one


Probe = Callable[[Seen], Awaitable[Check]]


async def credentials(seen: Seen) -> Check:
    seen.series = await seen.reader.list_series()
    kind = seen.reader.auth_kind
    return Check("credentials", PASS, f"{kind} credentials accepted", f"api.auth: {kind}")


async def token_lifetime(seen: Seen) -> Check:
    ttl = seen.reader.token_ttl
    if ttl is None:
        return Check("token lifetime", PASS, "basic auth: no token to renew")
    status = FAIL if ttl < SHORT_TOKEN else PASS
    return Check("token lifetime", status, f"{ttl:.0f} s; the client renews it at 80% of that")


async def rate_limit_headers(seen: Seen) -> Check:
    sent = seen.reader.limit_headers
    rpm = seen.config.api.requests_per_minute
    if not sent:
        return Check("rate-limit headers", PASS, f"none sent; the client paces itself at {rpm}/min")
    limit = next((v for k, v in sent.items() if k.endswith("ratelimit-limit")), "")
    shown = ", ".join(f"{k}: {v}" for k, v in sorted(sent.items()))
    setting = f"api.requests_per_minute: {limit}" if limit.isdigit() else ""
    return Check("rate-limit headers", PASS, shown, setting)


async def sources(seen: Seen) -> Check:
    found = await seen.reader.list_sources()
    if found is None:
        return Check("sources and accounts", FAIL, SCOPES_UNKNOWN + " (every add is blocked until then)")
    catalog = Catalog((), (), found)
    declared = {p.key for c in seen.state.customers for p in c.profiles}
    problems = sorted({catalog.profile_problem(k) for k in declared} - {""})
    listed = sorted(str(ProfileKey(s, a)) for s, accounts in found.items() for a in accounts)
    setting = f"sources: [{', '.join(listed)}]"
    scopes = await seen.reader.multi_account_scopes() or ()
    seen_in = ", ".join(["source ALL", *map(str, scopes)])
    where = f"from {seen.reader.sources_origin}; holder lookups search {seen_in}"
    if problems:
        return Check("sources and accounts", FAIL, "; ".join(problems) + f" ({where})", setting)
    detail = f"every declared profile exists ({len(declared)}); {where}"
    return Check("sources and accounts", PASS, detail, setting)


async def series_and_labels(seen: Seen) -> Check:
    labels: list[CardLabel] = await seen.reader.list_labels()
    catalog = Catalog(seen.series, labels)
    problems: set[str] = set()
    for spec in (s for c in seen.state.customers for s in c.cards or ()):
        found, problem = catalog.find_series(spec.series)
        if found is not None and spec.number is None and not found.generation_enabled:
            problem = f"card series {found.code} does not generate cards"
        problems |= {problem, catalog.label_problem(spec.status)}
    problems.discard("")
    detail = f"{len(seen.series)} series, {len(labels)} labels"
    if problems:
        return Check("series and labels", FAIL, f"{detail}; " + "; ".join(sorted(problems)))
    return Check("series and labels", PASS, f"{detail}; every one the state uses exists and can be used")


async def customers(seen: Seen) -> Check:
    ids = sorted(c.id for c in seen.state.customers)[:SAMPLE]
    if not ids:
        return Check("declared customers", UNKNOWN, "the state declares no customer")
    read = await seen.reader.get_customers(ids)
    seen.sample = [r for r in read.values() if isinstance(r, LiveCustomer)]
    seen.singles = {} if seen.config.api.bulk_read else read  # the bulk-read row compares with these
    failed = [f"customer {i}: {r}" for i, r in read.items() if isinstance(r, ApiError)]
    if failed:
        return Check("declared customers", FAIL, "; ".join(failed))
    return Check("declared customers", PASS, f"{len(ids)} of {len(seen.state.customers)} read and parsed")


def _identifier(seen: Seen, multi: bool) -> tuple[LiveCustomer, ProfileKey, Identifier] | None:
    for c in seen.sample:
        for p in c.profiles:
            if (p.key.source.upper() in MULTI_ACCOUNT_SOURCES) == multi and p.identifiers:
                return c, p.key, p.identifiers[0]
    return None


async def lookup_shape(seen: Seen) -> Check:
    found = _identifier(seen, multi=False) or _identifier(seen, multi=True)
    if found is None:
        return Check("answer shape: lookup", UNKNOWN, "no identifier among the sampled customers")
    customer, _, identifier = found
    holder = await seen.reader.find_identifier_holder(identifier)
    ok = holder is not None and holder.customer_id == customer.id
    return Check(
        "answer shape: lookup", PASS if ok else FAIL, f"lookup of customer {customer.id}'s {identifier.type}"
    )


async def card_shape(seen: Seen) -> Check:
    card = next((k for c in seen.sample for k in c.cards), None)
    if card is None:
        return Check("answer shape: card read", UNKNOWN, "no card among the sampled customers")
    live = await seen.reader.get_card(card.number)
    ok = live is not None and live.number == card.number and live.customer_id == card.customer_id
    return Check("answer shape: card read", PASS if ok else FAIL, f"card of customer {card.customer_id}")


LOOKUP_ACCOUNT = "variant: lookup without accountId"


async def variant_lookup_account(seen: Seen) -> Check:
    """docs/capillary-api.md 10: does a lookup in a multi-account source need ``accountId``? One direct lookup
    without it (the client's own lookups send it for every account, so they cannot tell the two apart)."""
    found = _identifier(seen, multi=True)
    if found is None:
        return Check(LOOKUP_ACCOUNT, UNKNOWN, "no multi-account identifier among the sampled customers")
    customer, key, identifier = found
    answer = await seen.reader.lookup_without_account(identifier, key.source)
    asked = f"{key.source} lookup of customer {customer.id}'s {identifier.type}"
    if isinstance(answer, ApiError):
        said = f"{answer.code or answer.status} {answer.api_message.replace(identifier.value, '<the value>')}"
        if seen.reader.asks_for_account(answer):
            return Check(LOOKUP_ACCOUNT, PASS, _lookup_detail(asked, f"refused ({said})", "required"))
        return Check(LOOKUP_ACCOUNT, FAIL, f"{asked} with no accountId answered {said}: neither variant")
    if answer.id == customer.id:
        return Check(LOOKUP_ACCOUNT, PASS, _lookup_detail(asked, "answered the holder", "optional"))
    return Check(LOOKUP_ACCOUNT, FAIL, f"{asked}: answered customer {answer.id}, not the holder")


def _lookup_detail(asked: str, how: str, variant: str) -> str:
    needs = "requires accountId" if variant == "required" else "answers without accountId"
    return (
        f"{asked} with no accountId {how}: the org {needs} (the sandbox's lookup_account_id: {variant}); "
        "the client sends each account's accountId either way"
    )


async def variant_merged_read(seen: Seen) -> Check:
    """docs/capillary-api.md 4.1 and 10: a merged-away customer's read: 8069, or its survivor (91009)."""
    name = "variant: reading a merged-away customer"
    if seen.merged is None:
        return Check(name, UNKNOWN, "no merged-away customer known (pass --merged ID)")
    try:
        await seen.reader.get_customer(seen.merged)
    except MergedCustomerError as exc:
        how = "its survivor (91009)" if "answered the survivor" in str(exc) else "8069"
        return Check(name, PASS, f"answers {how}: the client reports the customer as merged")
    return Check(name, UNKNOWN, f"customer {seen.merged} is not merged away")


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


CHECKS: tuple[Probe, ...] = (
    token_lifetime,
    sources,
    series_and_labels,
    customers,
    lookup_shape,
    card_shape,
    variant_lookup_account,
    variant_merged_read,
    variant_bulk_read,
    rate_limit_headers,  # last: it reports the headers every earlier answer carried
)


async def run_checks(seen: Seen) -> list[Check]:
    """Every check, in order; an API error fails its own row only, refused credentials fail them all."""
    try:
        rows = [await credentials(seen)]
    except AuthError as exc:
        rest = [
            Check(c.__name__.replace("_", " "), UNKNOWN, "not checked: credentials refused") for c in CHECKS
        ]
        return [Check("credentials", FAIL, str(exc)), *rest]
    for probe in CHECKS:
        try:
            rows.append(await probe(seen))
        except ApiError as exc:
            rows.append(Check(probe.__name__.replace("_", " "), FAIL, str(exc)))
    return rows
