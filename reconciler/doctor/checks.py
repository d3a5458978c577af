"""The doctor's checks: each reads through the read-only client and returns its rows; none writes or prints.

Order matters only for the first: when the credentials are refused, every other row is unknown.
"""

from __future__ import annotations

from reconciler.capillary import SCOPES_UNKNOWN
from reconciler.doctor import FAIL, PASS, UNKNOWN, Check
from reconciler.doctor.bulk import variant_bulk_read
from reconciler.doctor.seen import SAMPLE, Probe, Seen
from reconciler.errors import ApiError, AuthError, MergedCustomerError
from reconciler.model import (
    MULTI_ACCOUNT_SOURCES,
    CardLabel,
    Identifier,
    LiveCustomer,
    ProfileKey,
)
from reconciler.plan.catalog import Catalog

SHORT_TOKEN = 30.0  # seconds: a token that expires within a request's retries


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
    failed: dict[
        str, list[str]
    ] = {}  # one line per error: a refused bulk batch fails all its customers alike
    for i, r in read.items():
        if isinstance(r, ApiError):
            failed.setdefault(str(r), []).append(str(i))
    if failed:
        said = [f"customer{'s' * (len(ids) > 1)} {', '.join(ids)}: {e}" for e, ids in failed.items()]
        return Check("declared customers", FAIL, "; ".join(said))
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
