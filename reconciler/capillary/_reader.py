"""The read-only client: customers, identifier holders, cards, series and labels."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from typing import Any

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
from reconciler.model import CardLabel, Holder, Identifier, LiveCard, LiveCustomer, Series, SourceAccounts

_CUSTOMER_ID = re.compile(r"\b(\d{3,})\b")


class CapillaryReader:
    """Reads live state. Its channel refuses every request but GET, the token POST and the bulk read."""

    def __init__(self, channel: Channel, *, bulk_read: bool = False, bulk_batch_size: int = 100) -> None:
        self._channel = channel
        self._bulk_read = bulk_read
        self._bulk_batch_size = max(1, bulk_batch_size)
        self._org_id: int | None = None  # learnt from the series answer (the client is told no org id)

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
        return parse_customer(await self._get(f"/v2/customers/{customer_id}", {"source": "ALL"}))

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
            params = {"source": "ALL"}
            body = await self._channel.request("POST", BULK_READ_PATH, params=params, body=list(ids))
        except ApiError as exc:
            return dict.fromkeys(ids, exc)
        items = parse_bulk_customers(body)
        out: dict[int, LiveCustomer | ApiError] = {}
        positional = len(items) == len(ids)
        for index, (known, result) in enumerate(items):
            key = known if known is not None else (ids[index] if positional else None)
            if key is not None:
                out[key] = result
        for missing in (i for i in ids if i not in out):
            out[missing] = NotFoundError(
                f"customer {missing} missing from the bulk answer", method="POST", path=BULK_READ_PATH
            )
        return out

    async def find_identifier_holder(self, identifier: Identifier) -> Holder | None:
        """Who holds this identifier, in which profile scope; None when nobody does."""
        params = {"source": "ALL", "identifierName": identifier.type, "identifierValue": identifier.value}
        try:
            body = await self._get("/v2/customers/lookup/customerDetails", params)
        except NotFoundError:
            return None
        except MergedCustomerError as exc:
            found = _CUSTOMER_ID.findall(exc.api_message)
            return Holder(customer_id=int(found[-1]) if found else 0, victim=True)
        customer = parse_customer(body)
        scope = next(
            (p.key for p in customer.profiles if _holds(p.identifiers, identifier)),
            None,
        )
        return Holder(customer_id=customer.id, scope=scope, campaign=customer.campaign)

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
        """Every card status label of the org."""
        return parse_labels(await self._get("/v2/genericStatus/card/labels"))

    async def list_sources(self) -> SourceAccounts | None:
        """The org's sources and accounts (``GET /v2/org/{orgId}/sources?details=true``).

        None when the org id is unknown (no series carries it) or the org refuses the endpoint (a key
        without the organization access group): the caller then falls back to ``sources:`` in the config.
        """
        if self._org_id is None:
            await self.list_series()
        if self._org_id is None:
            return None
        try:
            body = await self._get(f"/v2/org/{self._org_id}/sources", {"details": "true"})
        except (AuthError, TransientError):
            raise
        except ApiError:
            return None
        return parse_source_accounts(body) or None


def _holds(identifiers: Iterable[Identifier], wanted: Identifier) -> bool:
    """Same value and same type (types compared case-insensitively, as the API spells them freely)."""
    return any(i.value == wanted.value and i.type.lower() == wanted.type.lower() for i in identifiers)
