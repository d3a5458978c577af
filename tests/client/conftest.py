"""Fixtures for the client tests: a real sandbox on loopback, seeded fixtures, and configs pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.capillary import Credentials
from reconciler.config import ApiConfig, Config
from reconciler.sandbox.server import SandboxServer

SANDBOX_OAUTH = Credentials.oauth("sandbox", "sandbox")
FIRST_ID = 700_000_000


def many_customers(count: int) -> dict[str, Any]:
    """A fixture of ``count`` INSTORE customers with a mobile and an email each."""
    customers = [
        {
            "id": FIRST_ID + i,
            "firstName": f"C{i}",
            "profiles": [
                {
                    "source": "INSTORE",
                    "accountId": "",
                    "identifiers": [
                        {"type": "mobile", "value": f"91{8_000_000_000 + i}"},
                        {"type": "email", "value": f"c{i}@example.com"},
                    ],
                }
            ],
        }
        for i in range(count)
    ]
    return {"formatVersion": 1, "sources": [{"source": "INSTORE", "accounts": [""]}], "customers": customers}


def config_for(url: str, **api: Any) -> Config:
    """A Config whose API is the sandbox at ``url``."""
    return Config(api=ApiConfig(url=url, **api))


@pytest.fixture
def demo() -> Iterator[SandboxServer]:
    """The sandbox with the demo organisation, on loopback."""
    with SandboxServer(seed="demo") as server:
        yield server
