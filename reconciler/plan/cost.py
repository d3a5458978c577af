"""What the apply of a plan will spend of the org's quota: its API calls by API, and the time they take.

The org's rate limit is per API (docs/capillary-api.md 1.5) and shared with the integrations that run the
business, so a reviewer sees the cost before approving it, and ``safety.max_calls`` blocks a plan that
would spend more (docs/architecture.md 4.5). The figure is the apply of this plan's checksum, as
``reconciler apply --checksum`` runs it (5.2 to 5.10), with every answer a success:

- its re-plan: the org's series, sources and labels; each customer in scope (one bulk request a batch
  with ``api.bulk_read``); each card a link names; no holder lookup (the holders come from the customers
  read) unless the plan pulled a holder into its scope or named one it did not read: then that plan is
  made again with every lookup, as ``plan`` makes it;
- per customer with calls, its precondition read (bulk: the customers that start together share batches;
  one whose first call waits for another's is read when it starts);
- per add, its holder check: a lookup in ``source=ALL`` and in each account of a multi-account source, or
  one card read; none for the link of a card the apply generates. Per generate, one customer read;
- one request per call;
- verification: every written customer re-read (``safety.verify``; in bulk batches), or only those whose
  writes' answers leave the outcome open: an allowed merge's customers.

Retries (429, 5xx), unknown outcomes settled by re-reading and an OAuth token's refresh are not foreseen:
the figure is what a clean run spends (``tests/apply/test_cost.py`` holds it to the sandbox's count).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import ceil
from typing import Any

from reconciler.config import Config
from reconciler.model import MULTI_ACCOUNT_SOURCES, Holder, LiveCustomer, Observed, ProfileKey
from reconciler.plan.document import CARD_NUMBER, CHANGE_IDENTIFIER, GENERATE_CARD, MERGE, Action, Call

CUSTOMER = "GET /v2/customers/{id}"
BULK = "POST /v2/bulk/getCustomers"
LOOKUP = "GET /v2/customers/lookup/customerDetails"
CARD = "GET /v2/card"
TOKEN = "POST /v3/oauth/token/generate"
SOURCES = "GET /v2/org/{org}/sources"
ORG_READS = ("GET /v2/card/series/get/all", SOURCES, "GET /v2/genericStatus/card/labels")
WRITES = {
    "changeIdentifier": "POST /v2/customers/{id}/changeIdentifier",
    "createCard": "POST /v2/card",
    "generateCard": "POST /v2/card/generate",
    "updateCard": "PUT /v2/card",
}


@dataclass(frozen=True, slots=True)
class Cost:
    """The apply's API calls by API (method and route, as the org's limit counts them) and their time."""

    by_api: tuple[tuple[str, int], ...]
    requests_per_minute: int

    @property
    def calls(self) -> int:
        return sum(n for _, n in self.by_api)

    @property
    def busiest(self) -> tuple[str, int]:
        """The API with the most calls: the org's limit is per API, so it sets the time."""
        return max(self.by_api, key=lambda pair: (pair[1], pair[0]), default=("", 0))

    @property
    def seconds(self) -> float:
        """The time the busiest API's calls take of its quota at ``requests_per_minute``."""
        return 60.0 * self.busiest[1] / self.requests_per_minute if self.requests_per_minute else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "calls": self.calls,
            "by_api": dict(self.by_api),
            "requests_per_minute": self.requests_per_minute,
            "busiest_api": self.busiest[0],
            "seconds": round(self.seconds, 1),
        }


def apply_cost(
    calls: Sequence[Call], actions: Sequence[Action], observed: Observed | None, config: Config
) -> Cost:
    """The calls the apply of a plan with ``calls`` and ``actions``, read as ``observed``, will send."""
    spent: Counter[str] = Counter()
    if config.api.auth == "oauth":  # its token, the embedded sandbox's too (asked for once)
        spent[TOKEN] += 1
    scopes = _lookups_per_identifier(observed, config)
    customers = len(observed.customers) if observed else 0
    cards = len(observed.cards) if observed else 0
    if observed is not None and not holders_from_reads_suffice(observed):
        # the first re-plan does not find the holders its lookups would have pulled in; the second one
        # reads the series and labels again (the sources once per apply), and looks every holder up
        spent.update(_replan(customers - len(_pulled_by_lookups(observed)), cards, config))
        spent.update(_replan(customers, cards, config, sources=False))
        spent[LOOKUP] += len(observed.holders) * scopes
    else:
        spent.update(_replan(customers, cards, config))
    spent.update(_execution(calls, scopes, config))
    spent.update(_verification(calls, actions, config))
    return Cost(tuple(sorted((api, n) for api, n in spent.items() if n)), config.api.requests_per_minute)


def holders_from_reads_suffice(observed: Observed) -> bool:
    """Whether apply's re-plan, which takes holders from the customers it reads first, finds the holders
    this plan looked up: every holder is nobody, or a customer the first round read."""
    first = {cid for cid in observed.customers if cid not in observed.joined}
    return all(h is None or _read_holder(h, first, observed.customers) for h in observed.holders.values())


def _read_holder(holder: Holder, first: set[int], read: Mapping[int, object]) -> bool:
    if holder.unknown or holder.victim or holder.customer_id not in first:
        return False
    return isinstance(read.get(holder.customer_id), LiveCustomer)


def _pulled_by_lookups(observed: Observed) -> set[int]:
    """The customers pulled into the scope as holders of identifiers only (not of a card: card reads find
    those in every re-plan)."""
    by_cards = {c.customer_id for c in observed.cards.values() if c is not None}
    by_lookups = {h.customer_id for h in observed.holders.values() if h is not None}
    return (set(observed.joined) & by_lookups) - by_cards


def _replan(customers: int, cards: int, config: Config, *, sources: bool = True) -> Counter[str]:
    out: Counter[str] = Counter({api: 1 for api in ORG_READS if sources or api != SOURCES})
    if config.api.bulk_read:
        out[BULK] += ceil(customers / max(1, config.api.bulk_batch_size))
    else:
        out[CUSTOMER] += customers
    out[CARD] += cards
    return out


def _execution(calls: Sequence[Call], scopes: int, config: Config) -> Counter[str]:
    out: Counter[str] = Counter()
    first: dict[int, Call] = {}
    for call in calls:
        first.setdefault(call.customer_id, call)
        out[WRITES[call.op]] += 1
        if call.op == GENERATE_CARD:
            out[CUSTOMER] += 1
        if call.op != CHANGE_IDENTIFIER:
            continue
        for item in call.add:
            if item.type.lower() == CARD_NUMBER:
                out[CARD] += 0 if item.generated_by else 1
            else:
                out[LOOKUP] += scopes
    own = {c.id: c.customer_id for c in calls}
    waits = [c for c in first.values() if any(own.get(dep) != c.customer_id for dep in c.after)]
    together = len(first) - len(waits)
    if config.api.bulk_read:
        out[BULK] += ceil(together / max(1, config.api.bulk_batch_size)) + len(waits)
    else:
        out[CUSTOMER] += len(first)
    return out


def _verification(calls: Sequence[Call], actions: Sequence[Action], config: Config) -> Counter[str]:
    written = {c.customer_id for c in calls}
    if config.rereads_written:
        if config.api.bulk_read:
            return Counter({BULK: ceil(len(written) / max(1, config.api.bulk_batch_size))})
        return Counter({CUSTOMER: len(written)})
    merged = {a.customer_id for a in actions if a.risk == MERGE and not a.blocked} & written
    return Counter({CUSTOMER: len(merged)})


def _lookups_per_identifier(observed: Observed | None, config: Config) -> int:
    """``source=ALL`` and each account of a multi-account source the org lists or the config names."""
    if observed is None or observed.sources is None:
        return 0
    keys = {ProfileKey(s, a) for s, accounts in observed.sources.items() for a in accounts}
    for entry in config.sources:
        source, _, account = entry.partition(":")
        keys.add(ProfileKey(source, account))
    return 1 + sum(1 for k in keys if k.source.upper() in MULTI_ACCOUNT_SOURCES and k.account_id)


# The kinds a reviewer reads the calls by (the JSON plan gives them by API).
KINDS = {
    CUSTOMER: "customer reads",
    BULK: "bulk reads",
    LOOKUP: "holder lookups",
    CARD: "card reads",
    TOKEN: "token",
    **dict.fromkeys(ORG_READS, "org reads"),
    **dict.fromkeys(WRITES.values(), "writes"),
}


def by_kind(cost: Cost) -> list[tuple[str, int]]:
    """The calls by kind, most first."""
    kinds: Counter[str] = Counter()
    for api, n in cost.by_api:
        kinds[KINDS.get(api, api)] += n
    return sorted(kinds.items(), key=lambda pair: (-pair[1], pair[0]))


def describe(cost: Cost) -> str:
    """``Apply cost: about 2,453 API calls (800 customer reads, ...), 48 s of the org's quota at
    1,000/min per API``: the time is the busiest API's."""
    if not cost.calls:
        return "Apply cost: no API calls"
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in by_kind(cost))
    quota = f"{duration(cost.seconds)} of the org's quota at {cost.requests_per_minute:,}/min per API"
    return f"Apply cost: about {cost.calls:,} API calls ({kinds}), {quota}"


def duration(seconds: float) -> str:
    """``1 min 12 s``, ``45 s``, ``2 h 5 min``."""
    whole = round(seconds)
    if whole < 60:
        return f"{max(whole, 1) if seconds > 0 else 0} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
