"""The read-only client: customers, identifier holders, cards, series and labels."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from reconciler.capillary import _holders
from reconciler.capillary._channel import BULK_READ_PATH, Channel
from reconciler.capillary.parse import (
    org_id_of,
    parse_bulk_customers,
    parse_card,
    parse_customer,
    parse_labels,
    parse_series,
    parse_source_accounts,
)
from reconciler.errors import ApiError, AuthError, MergedCustomerError, NotFoundError, TransientError
from reconciler.model import (
    CardLabel,
    Holder,
    Identifier,
    LiveCard,
    LiveCustomer,
    ProfileKey,
    Series,
    SourceAccounts,
)

LOOKUP_PATH = "/v2/customers/lookup/customerDetails"
SCOPES_UNKNOWN = (
    "the org's source accounts are unknown (its sources API did not answer them), so a holder in another "
    "source account cannot be ruled out: list every source and account in sources: in reconciler.yaml"
)


class CapillaryReader:
    """Reads live state. Its channel refuses every request but GET, the token POST and the bulk read."""

    def __init__(
        self,
        channel: Channel,
        *,
        bulk_read: bool = False,
        bulk_batch_size: int = 100,
        configured_sources: SourceAccounts | None = None,
    ) -> None:
        self._channel = channel
        self._bulk_read = bulk_read
        self._bulk_batch_size = max(1, bulk_batch_size)
        self._org_id: int | None = None  # learnt from the series or labels list (their items carry orgId)
        self._configured = configured_sources  # ``sources:`` in reconciler.yaml, if any
        self._sources: asyncio.Task[SourceAccounts | None] | None = None
        self._sources_waiting = 0  # callers awaiting ``_sources``: the last one to give up stops it
        self.sources_origin = ""  # where the known sources came from, once read (doctor says it)

    @property
    def read_only(self) -> bool:
        """True when this client cannot send writes."""
        return self._channel.read_only

    @property
    def auth_kind(self) -> str:
        """``oauth`` or ``basic``."""
        return self._channel.auth.kind if self._channel.auth else ""

    @property
    def token_ttl(self) -> float | None:
        """The OAuth token's lifetime in seconds, once one was issued (None for basic auth)."""
        return self._channel.auth.ttl if self._channel.auth else None

    @property
    def limit_headers(self) -> dict[str, str]:
        """The rate-limit headers (``X-RateLimit-*``, ``Retry-After``) the org has sent, if any."""
        return dict(self._channel.limit_headers)

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self._channel.request("GET", path, params=params)

    async def get_customer(self, customer_id: int) -> LiveCustomer:
        """One customer with every source profile (``GET /v2/customers/{id}?source=ALL``)."""
        path = f"/v2/customers/{customer_id}"
        live = parse_customer(await self._get(path, {"source": "ALL"}))
        merged = _survivor_answer(customer_id, live, path)
        if merged is not None:
            raise merged
        return live

    async def get_customers(self, ids: Iterable[int]) -> dict[int, LiveCustomer | ApiError]:
        """Many customers, concurrently (or in bulk batches); a failed read is returned as its error."""
        unique = list(dict.fromkeys(ids))
        if self._bulk_read:
            size = self._bulk_batch_size
            batches = [unique[i : i + size] for i in range(0, len(unique), size)]
            results = await asyncio.gather(*(self._bulk_batch(batch) for batch in batches))
            return {k: v for batch in results for k, v in batch.items()}
        found = await asyncio.gather(*(self._one_or_error(i) for i in unique))
        return dict(zip(unique, found, strict=True))

    async def _one_or_error(self, customer_id: int) -> LiveCustomer | ApiError:
        try:
            return await self.get_customer(customer_id)
        except ApiError as exc:
            return exc

    async def _bulk_batch(self, ids: Sequence[int]) -> dict[int, LiveCustomer | ApiError]:
        try:
            body = await self._bulk_post(ids)
        except ApiError as exc:
            return dict.fromkeys(ids, exc)
        return _bulk_items(ids, body)

    async def get_customers_bulk(self, ids: Sequence[int]) -> dict[int, LiveCustomer | ApiError]:
        """One bulk read of ``ids`` whatever ``api.bulk_read`` says (doctor's probe); a failed item is its
        error, a refused request raises."""
        return _bulk_items(ids, await self._bulk_post(ids))

    async def _bulk_post(self, ids: Sequence[int]) -> Any:
        return await self._channel.request("POST", BULK_READ_PATH, params={"source": "ALL"}, body=list(ids))

    async def find_identifier_holder(self, identifier: Identifier) -> Holder | None:
        """Who holds this identifier, in which profile scope; None when nobody does.

        Looked up in ``source=ALL`` and in each multi-account scope with its ``accountId`` (whether
        ``source=ALL`` covers those is undocumented); an answer that cannot be classified is an ``unknown``
        holder, never "nobody". When the org's accounts cannot be enumerated (neither the sources API nor
        ``sources:`` in the config names them) nobody can be ruled out: the holder is ``unknown``, no lookup
        is sent, and the add is blocked.
        """
        scopes = await self.multi_account_scopes()
        if scopes is None:
            return Holder(0, unknown=SCOPES_UNKNOWN)
        found = await asyncio.gather(
            self._lookup(identifier, None), *(self._lookup(identifier, s) for s in scopes)
        )
        return _holders.combine(found)

    async def _lookup(self, identifier: Identifier, scope: ProfileKey | None) -> Holder | None:
        params = {"source": scope.source if scope else "ALL"}
        if scope is not None:
            params["accountId"] = scope.account_id
        params |= {"identifierName": identifier.type, "identifierValue": identifier.value}
        where = f"in {scope}" if scope else "in source ALL"
        try:
            body = await self._get(LOOKUP_PATH, params)
        except ApiError as exc:
            return _holders.from_error(exc, identifier, where)
        return _holders.from_answer(body, identifier, scope, where)

    async def lookup_without_account(self, identifier: Identifier, source: str) -> LiveCustomer | ApiError:
        """One lookup in ``source`` with no ``accountId``, answer or error as it came (doctor's probe of
        docs/capillary-api.md 10; planning never asks this way). Auth and transient errors raise."""
        params = {"source": source, "identifierName": identifier.type, "identifierValue": identifier.value}
        try:
            return parse_customer(await self._get(LOOKUP_PATH, params))
        except (AuthError, TransientError):
            raise
        except ApiError as exc:
            return exc

    @staticmethod
    def asks_for_account(error: ApiError) -> bool:
        """Whether ``error`` says an ``accountId`` was missing (8015 "Account ID is not defined", 8045)."""
        return _holders.account_missing(error.api_message)

    async def multi_account_scopes(self) -> tuple[ProfileKey, ...] | None:
        """The org's accounts of multi-account sources: those the org's sources API lists and those
        ``sources:`` in the config names (a lookup in one scope too many costs a read; one too few can
        merge two accounts). None when neither tells them: then no holder can be ruled out."""
        listed = await self.list_sources()
        if listed is None:
            return None
        known = [listed, self._configured or {}]
        return _holders.multi_account(
            ProfileKey(s, a) for accounts in known for s, each in accounts.items() for a in each
        )

    async def get_card(self, number: str) -> LiveCard | None:
        """A card by number (``GET /v2/card?number=``); None when it does not exist."""
        try:
            return parse_card(await self._get("/v2/card", {"number": number}))
        except NotFoundError:
            return None

    async def list_series(self) -> list[Series]:
        """Every card series of the org."""
        body = await self._get("/v2/card/series/get/all")
        self._org_id = self._org_id or org_id_of(body)
        return parse_series(body)

    async def list_labels(self) -> list[CardLabel]:
        """Every card status label of the org (an org has a default label per card status)."""
        body = await self._get("/v2/genericStatus/card/labels")
        self._org_id = self._org_id or org_id_of(body)
        return parse_labels(body)

    async def list_sources(self) -> SourceAccounts | None:
        """The org's sources and accounts (``GET /v2/org/{orgId}/sources?details=true``), read once; when
        the org id is unknown (no series or label carries it) or the org refuses the endpoint (a key
        without the organization access group), ``sources:`` in the config; else None (``sources_origin``
        says which).
        """
        if self._sources is None:
            self._sources = asyncio.ensure_future(self._read_sources())
        read = self._sources
        self._sources_waiting += 1
        try:
            return await asyncio.shield(read)  # one caller cancelled does not stop the others' read
        except (AuthError, TransientError):
            self._sources = None  # not cached: the next caller asks again
            raise
        finally:
            self._sources_waiting -= 1
            if not read.done() and not self._sources_waiting:  # every caller gave up (a failed plan)
                self._sources = None  # a caller arriving meanwhile starts its own read
                await _stop(read)

    async def _read_sources(self) -> SourceAccounts | None:
        listed = await self._read_org_sources()
        if listed:
            self.sources_origin = "the org's sources API"
            return listed
        if self._configured:
            self.sources_origin = "sources: in reconciler.yaml"
            return self._configured
        self.sources_origin = ""
        return None

    async def _read_org_sources(self) -> SourceAccounts | None:
        for learn in (self.list_series, self.list_labels):
            if self._org_id is None:
                await learn()
        if self._org_id is None:
            return None
        try:
            body = await self._get(f"/v2/org/{self._org_id}/sources", {"details": "true"})
        except (AuthError, TransientError):
            raise
        except ApiError:
            return None
        return parse_source_accounts(body) or None


async def _stop(task: asyncio.Task[SourceAccounts | None]) -> None:
    """Cancel ``task`` and wait until it has stopped (its outcome is nobody's)."""
    task.cancel()
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await task


def _bulk_items(ids: Sequence[int], body: Any) -> dict[int, LiveCustomer | ApiError]:
    """A bulk answer's items by customer id: matched by ``entity.id``, else by position; a missing id is
    a ``NotFoundError``."""
    items = parse_bulk_customers(body)
    out: dict[int, LiveCustomer | ApiError] = {}
    positional = len(items) == len(ids)
    for index, (known, result) in enumerate(items):
        key = known if known is not None else (ids[index] if positional else None)
        if key is not None:
            survivor = (
                _survivor_answer(key, result, BULK_READ_PATH) if isinstance(result, LiveCustomer) else None
            )
            out[key] = survivor or result
    for missing in (i for i in ids if i not in out):
        out[missing] = NotFoundError(
            f"customer {missing} missing from the bulk answer", method="POST", path=BULK_READ_PATH
        )
    return out


def _survivor_answer(customer_id: int, live: LiveCustomer, path: str) -> MergedCustomerError | None:
    """None if ``live`` is the customer asked for. An org may answer a merged-away customer's read with its
    survivor (docs/capillary-api.md 10): that answer must never stand for the victim, whose plan would then
    change the survivor's identifiers through the victim's id."""
    if live.id == customer_id:
        return None
    return MergedCustomerError(
        f"customer {customer_id} is merged into {live.id} (the read answered the survivor)",
        method="GET",
        path=path,
        code=8069,
    )
