"""The twin of the org: seeded from what the plan read, served in process, under the target's rules.

The twin holds the customers the verdict judges and every customer their values and cards touch (the
holders the plan's lookups found, the cards' customers), from ``Plan.observed``: no second read of the
target. The sandbox application serves it through ``httpx.ASGITransport``, with its own credentials and
no rate limit worth waiting for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx

from reconciler.capillary import CapillaryWriter, Credentials, open_client
from reconciler.config import Config
from reconciler.model import DesiredCustomer, Observed
from reconciler.plan import MERGE, Plan
from reconciler.sandbox import Settings, Store, create_app
from reconciler.sandbox.from_live import LiveFixture, fixture_from_live

TWIN_RATE = 1_000_000  # requests per minute: the twin has no rate limit worth waiting for
# What the twin never takes from the target's settings: credentials, limits and faults are its own.
_NOT_COPIED = frozenset(
    {"till", "password", "oauth_key", "oauth_secret", "token_ttl_seconds", "auth_required"}
    | {"rate_limit_per_minute", "retry_after_header", "rate_limit_status"}
)


def twin_settings(settings: Mapping[str, Any] | None) -> Settings:
    """The twin's behaviour: the target's settings where they are known (a sandbox target), else the
    documented defaults. Credentials, limits and faults are never copied: the twin has its own."""
    if not settings:
        return Settings()
    defaults = Settings()
    known = {k: v for k, v in settings.items() if k not in _NOT_COPIED and hasattr(defaults, k)}
    return defaults.replace(known)


def with_actions(plan: Plan) -> list[int]:
    """The customers the plan read without error and has actions for, in id order."""
    return sorted({c.id for c in plan.customers if not c.error} & {a.customer_id for a in plan.actions})


def judged_customers(plan: Plan, desired: Mapping[int, DesiredCustomer]) -> list[int]:
    """The customers with actions and the declared survivors of allowed merges (they end with their
    victims' profiles, so they are judged too), in id order."""
    survivors = {a.holder for a in plan.actions if a.risk == MERGE and not a.blocked and a.holder}
    return sorted(set(with_actions(plan)) | {c for c in survivors if c in desired})


def seed(observed: Observed, judged: Sequence[int]) -> LiveFixture:
    """The twin's seed: the ``judged`` customers and every holder of a value or card they touch."""
    wanted = set(judged) | {h.customer_id for h in observed.holders.values() if h is not None}
    wanted |= {c.customer_id for c in observed.cards.values() if c is not None and c.customer_id}
    return fixture_from_live(observed, customers=wanted)


def twin_config(config: Config) -> Config:
    """``config`` pointed at the twin: the embedded sandbox, OAuth, and no rate limit to wait for."""
    return replace(
        config, api=replace(config.api, url="sandbox", requests_per_minute=TWIN_RATE, auth="oauth")
    )


@asynccontextmanager
async def open_twin(store: Store, rules: Settings, config: Config) -> AsyncIterator[CapillaryWriter]:
    """A writer on ``store`` served in process under ``rules``; ``config`` is the twin's (``twin_config``)."""
    transport = httpx.ASGITransport(app=create_app(store, rules))
    credentials = Credentials.oauth(rules.oauth_key, rules.oauth_secret)
    async with open_client(config, write=True, transport=transport, credentials=credentials) as client:
        assert isinstance(client, CapillaryWriter)
        yield client
