"""The reader against the demo_server organisation on a real loopback sandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

from reconciler.capillary import CapillaryReader, CapillaryWriter, open_client
from reconciler.commands.target import open_target
from reconciler.config import ApiConfig, Config
from reconciler.errors import MergedCustomerError, NotFoundError
from reconciler.model import Identifier, ProfileKey
from reconciler.plan import UPDATE_CARD
from reconciler.sandbox.server import SandboxServer
from tests.client.builders import SANDBOX_OAUTH, card_call, config_for

TOM = 564854782


def test_customer_profiles_identifiers_and_cards(demo_server: SandboxServer) -> None:
    async def run() -> None:
        async with open_client(config_for(demo_server.url), credentials=SANDBOX_OAUTH) as reader:
            tom = await reader.get_customer(TOM)
        instore = tom.profile(ProfileKey("INSTORE"))
        assert instore is not None
        assert Identifier("mobile", "919876543210") in instore.identifiers
        assert all(i.type.lower() != "cardnumber" for i in instore.identifiers)
        assert {"GOLD0000001", "DIGI00000001"} <= {c.number for c in tom.cards}
        assert all(c.customer_id == TOM for c in tom.cards)

    asyncio.run(run())


def test_identifier_holders_plain_campaign_victim_and_nobody(demo_server: SandboxServer) -> None:
    async def run() -> None:
        async with open_client(config_for(demo_server.url), credentials=SANDBOX_OAUTH) as reader:
            tom = await reader.find_identifier_holder(Identifier("mobile", "919876543210"))
            campaign = await reader.find_identifier_holder(Identifier("mobile", "919812300001"))
            victim = await reader.find_identifier_holder(Identifier("mobile", "919812300017"))
            nobody = await reader.find_identifier_holder(Identifier("mobile", "919000000000"))
        assert tom is not None and (tom.customer_id, tom.scope) == (TOM, ProfileKey("INSTORE"))
        assert campaign is not None and campaign.campaign and campaign.customer_id == 564855001
        assert victim is not None and victim.victim
        assert nobody is None

    asyncio.run(run())


def test_cards_series_and_labels(demo_server: SandboxServer) -> None:
    async def run() -> None:
        async with open_client(config_for(demo_server.url), credentials=SANDBOX_OAUTH) as reader:
            gold = await reader.get_card("GOLD0000001")
            missing = await reader.get_card("NOPE0000000")
            series = await reader.list_series()
            labels = await reader.list_labels()
        assert gold is not None and (gold.series_id, gold.status, gold.customer_id) == (121212, "ACTIVE", TOM)
        assert missing is None
        assert {(s.id, s.code) for s in series} >= {(121212, "GOLD01"), (131313, "DIGI01")}
        assert any(lb.label == "CARD BLOCKED" and lb.status == "SUSPENDED" for lb in labels)

    asyncio.run(run())


def test_get_customers_concurrent_and_bulk_agree(demo_server: SandboxServer) -> None:
    ids = [TOM, 564854783, 564854801, 999]

    async def read(bulk: bool) -> dict[int, object]:
        config = config_for(demo_server.url, bulk_read=bulk, bulk_batch_size=2)
        async with open_client(config, credentials=SANDBOX_OAUTH) as reader:
            return dict(await reader.get_customers(ids))

    one_by_one, bulk = asyncio.run(read(False)), asyncio.run(read(True))
    assert one_by_one.keys() == bulk.keys() == set(ids)
    assert isinstance(one_by_one[999], NotFoundError) and isinstance(bulk[999], NotFoundError)
    assert one_by_one[TOM] == bulk[TOM]
    assert demo_server.request_log()["countsByRoute"]["POST /v2/bulk/getCustomers"] == 2


def test_reading_a_merge_victim_is_a_typed_error(demo_server: SandboxServer) -> None:
    async def run() -> None:
        async with open_client(config_for(demo_server.url), credentials=SANDBOX_OAUTH) as reader:
            try:
                await reader.get_customer(564855017)
            except MergedCustomerError as exc:
                assert (exc.code, exc.method, exc.path) == (8069, "GET", "/v2/customers/564855017")
            else:
                raise AssertionError("a victim read must fail")

    asyncio.run(run())


def test_embedded_sandbox_is_seeded_once_and_keeps_its_state(tmp_path: Path) -> None:
    config = Config(api=ApiConfig(), root=tmp_path)

    async def run(write: bool) -> CapillaryReader:
        async with open_target(config, write=write) as client:
            if write:
                assert isinstance(client, CapillaryWriter)
                await client.send(card_call(UPDATE_CARD, "GOLD0000006", label="ACTIVE"), {})
            card = await client.get_card("GOLD0000006")
            assert card is not None and card.status == "ACTIVE"
            return client

    asyncio.run(run(True))
    assert (tmp_path / ".reconciler" / "sandbox.db").exists()
    asyncio.run(run(False))  # reopened: not re-seeded, the change persisted
