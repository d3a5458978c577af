"""API error messages reach the journal and PR comments with the call's identifier values masked."""

from __future__ import annotations

from reconciler.apply.executor import scrub
from reconciler.model import ProfileKey
from reconciler.plan import CHANGE_IDENTIFIER, Call
from reconciler.plan.document import CallItem


def _change(*, add: tuple[CallItem, ...] = (), remove: tuple[CallItem, ...] = ()) -> Call:
    """A changeIdentifier call on Tom's INSTORE profile."""
    return Call("c2", 564854782, CHANGE_IDENTIFIER, (), ("a1",), ProfileKey("INSTORE"), add, remove)


def test_an_api_message_naming_a_value_is_masked() -> None:
    call = _change(
        add=(CallItem("mobile", "919876543210"),), remove=(CallItem("email", "tom.sawyer@example.com"),)
    )
    text = scrub("Invalid mobile '919876543210'; email tom.sawyer@example.com not found for 564854782", call)
    assert "919876543210" not in text and "tom.sawyer@example.com" not in text
    assert "91******10" in text and "t***@example.com" in text and "564854782" in text


def test_a_generated_card_number_in_an_api_message_is_masked() -> None:
    card = CallItem("cardnumber", None, series_id=131313, label="ACTIVE", generated_by="c1")
    text = scrub("Card DIGI00001000 cannot be linked", _change(add=(card,)), {"c1": "DIGI00001000"})
    assert "DIGI00001000" not in text and "1000" in text
