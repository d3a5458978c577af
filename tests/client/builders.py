"""The client tests' data: seed fixtures, calls as a plan describes them, configs pointing at a sandbox."""

from __future__ import annotations

from typing import Any

from reconciler.capillary import Credentials
from reconciler.config import ApiConfig, Config
from reconciler.model import Identifier, ProfileKey
from reconciler.plan import CHANGE_IDENTIFIER, Call, CallItem, Op
from tests.testing.seed import live_customer

SANDBOX_OAUTH = Credentials.oauth("sandbox", "sandbox")
FIRST_ID = 700_000_000


def many_customers(count: int) -> dict[str, Any]:
    """A fixture of ``count`` INSTORE customers with a mobile and an email each."""
    customers = [
        live_customer(
            FIRST_ID + i,
            {"mobile": f"91{8_000_000_000 + i}", "email": f"c{i}@example.com"},
            firstName=f"C{i}",
        )
        for i in range(count)
    ]
    return {"formatVersion": 1, "sources": [{"source": "INSTORE", "accounts": [""]}], "customers": customers}


def change_call(
    customer_id: int, add: tuple[Identifier, ...] = (), remove: tuple[Identifier, ...] = ()
) -> Call:
    """A changeIdentifier on the customer's INSTORE profile, as a plan would describe it."""
    added, removed = (tuple(CallItem(i.type, i.value) for i in ids) for ids in (add, remove))
    return Call("c1", customer_id, CHANGE_IDENTIFIER, (), (), ProfileKey("INSTORE"), added, removed)


def card_call(op: Op, number: str | None, series: int | str | None = None, label: str | None = None) -> Call:
    """A card operation on one card (``series`` by id when an int, by code when a str)."""
    sid, code = (series, None) if isinstance(series, int) else (None, series)
    return Call("c1", 0, op, (), (), card=CallItem("cardnumber", number, sid, code, label))


def config_for(url: str, **api: Any) -> Config:
    """A Config whose API is the sandbox at ``url``."""
    return Config(api=ApiConfig(url=url, **api))
