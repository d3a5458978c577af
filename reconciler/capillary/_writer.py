"""The writing client: sends a plan's ``Call`` (identifier changes, card creation, generation, status)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.capillary._holders import CAMPAIGN_CODES, VICTIM_CODES
from reconciler.capillary._reader import CapillaryReader
from reconciler.capillary.parse import parse_change_result, parse_generated
from reconciler.errors import ApiError
from reconciler.model import ChangeResult
from reconciler.plan import CHANGE_IDENTIFIER, GENERATE_CARD, Call

# Warning codes that, on a write's 2xx answer, mean it did not take effect (the holder blocks the value).
NOT_APPLIED_WARNINGS = VICTIM_CODES | CAMPAIGN_CODES


class CapillaryWriter(CapillaryReader):
    """Reads and writes. Writes are never resent when their outcome is unknown (``OutcomeUnknownError``)."""

    async def send(self, call: Call, generated: Mapping[str, str]) -> ChangeResult:
        """Send ``call`` as it describes itself; ``generated`` maps generate call ids to their numbers.

        A changeIdentifier answers its ``createdId`` and warnings (one answered 2xx with a warning that
        the value was not applied is refused: ``ApiError``); a generate answers its card numbers.
        """
        _check(call, generated)
        params = dict(call.query) or None
        answer = await self._channel.request(call.method, call.path, params=params, body=call.body(generated))
        if call.op == CHANGE_IDENTIFIER:
            return _change_result(call, answer)
        if call.op == GENERATE_CARD:
            numbers = parse_generated(answer)
            if not numbers:
                raise ApiError("card generation returned no number")
            return ChangeResult(None, cards=tuple(numbers))
        return ChangeResult(None)


def _check(call: Call, generated: Mapping[str, str]) -> None:
    """A card operation names its card; a generate names its series by id (the documented body); a
    generated card's number is known (never sent as an empty card number, which some other card may match)."""
    if call.op != CHANGE_IDENTIFIER and call.card is None:
        raise ApiError(f"call {call.id} ({call.op}) has no card")
    if call.op == GENERATE_CARD:
        if call.card is not None and call.card.series_id is None:
            raise ApiError(f"call {call.id}: generating needs a series id")
        return
    for item in call.items:
        if item.value is None and not item.raw(generated):
            raise ApiError(
                f"call {call.id}: the card number {item.generated_by} generated is unknown; not sent"
            )


def _change_result(call: Call, answer: Any) -> ChangeResult:
    result = parse_change_result(answer, written=call.customer_id)
    refused = [(c, m) for c, m in result.warnings if c in NOT_APPLIED_WARNINGS]
    if refused and not result.merged:  # a merge is reported as the incident it is, never hidden
        code, message = refused[0]
        text = f"answered 2xx with warning {code} ({message}): not applied"
        raise ApiError(text, method=call.method, path=call.path, code=code)
    return result
