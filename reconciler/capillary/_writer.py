"""The writing client: identifier changes, card creation, generation and status changes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.capillary._holders import CAMPAIGN_CODES, VICTIM_CODES
from reconciler.capillary._reader import CapillaryReader
from reconciler.capillary.parse import parse_change_result, parse_generated
from reconciler.errors import ApiError
from reconciler.model import ChangeResult, ProfileKey

# Warning codes that, on a write's 2xx answer, mean it did not take effect (the holder blocks the value).
NOT_APPLIED_WARNINGS = VICTIM_CODES | CAMPAIGN_CODES


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
        answer = await self._channel.request("POST", path, params=params, body=body)
        result = parse_change_result(answer, written=customer_id)
        refused = [(c, m) for c, m in result.warnings if c in NOT_APPLIED_WARNINGS]
        if refused and not result.merged:  # a merge is reported as the incident it is, never hidden
            code, message = refused[0]
            text = f"answered 2xx with warning {code} ({message}): not applied"
            raise ApiError(text, method="POST", path=path, code=code)
        return result

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
