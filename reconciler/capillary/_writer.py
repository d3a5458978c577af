"""The writing client: identifier changes, card creation, generation and status changes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.capillary._reader import CapillaryReader
from reconciler.capillary.parse import parse_change_result, parse_generated
from reconciler.model import ChangeResult, ProfileKey


class CapillaryWriter(CapillaryReader):
    """Reads and writes. Writes are never resent when their outcome is unknown (``OutcomeUnknownError``)."""

    async def change_identifier(
        self,
        customer_id: int,
        profile: ProfileKey,
        add: Sequence[dict[str, Any]],
        remove: Sequence[dict[str, Any]],
    ) -> ChangeResult:
        """Add and remove identifiers (or link/delink one card) on one profile of a customer."""
        params = {"source": profile.source}
        if profile.account_id:
            params["accountId"] = profile.account_id
        body = {"add": list(add), "remove": list(remove)}
        path = f"/v2/customers/{customer_id}/changeIdentifier"
        return parse_change_result(await self._channel.request("POST", path, params=params, body=body))

    async def create_card(self, number: str, series: int | str, status_label: str = "NOT_ISSUED") -> None:
        """Add a card number to a series (``seriesId`` when an int, ``seriesCode`` when a str)."""
        key = "seriesId" if isinstance(series, int) else "seriesCode"
        body = {"cardNumber": number, key: series, "statusLabel": status_label}
        await self._channel.request("POST", "/v2/card", body=body)

    async def generate_cards(self, series_id: int, count: int) -> list[str]:
        """Have the platform generate ``count`` NOT_ISSUED cards in a series; returns their numbers."""
        body = {"seriesId": series_id, "count": count, "statusLabel": "NOT_ISSUED"}
        return parse_generated(await self._channel.request("POST", "/v2/card/generate", body=body))

    async def set_card_status(self, number: str, label: str, reason: str) -> None:
        """Change a card's status label (``PUT /v2/card``)."""
        body = {"cardNumber": number, "statusLabel": label, "statusInfo": {"reason": reason}}
        await self._channel.request("PUT", "/v2/card", body=body)
