"""Writes: outcome-unknown failures are never resent, refusals are retried, results are parsed."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import httpx
import pytest

from reconciler.backoff import Backoff
from reconciler.capillary import CapillaryWriter, open_client
from reconciler.capillary._channel import Channel, RetryPolicy
from reconciler.capillary._limits import Limits
from reconciler.errors import ApiError, OutcomeUnknownError, TransientError
from reconciler.model import Identifier, ProfileKey
from reconciler.plan import CHANGE_IDENTIFIER, CREATE_CARD, GENERATE_CARD, UPDATE_CARD, Call, CallItem
from reconciler.sandbox.server import SandboxServer
from tests.client.builders import SANDBOX_OAUTH, card_call, change_call, config_for

TOM = 564854782
CHANGE = "POST /v2/customers/{id}/changeIdentifier"
REMOVE_EXT = (Identifier("externalId", "EXT564854782"),)


def change_posts(server: SandboxServer) -> list[int]:
    """The statuses of every changeIdentifier POST the sandbox received (0: connection dropped)."""
    route = "/v2/customers/{id}/changeIdentifier"
    return [r["status"] for r in server.request_log()["requests"] if r["route"] == route]


async def remove_external_id(server: SandboxServer) -> None:
    async with open_client(config_for(server.url), write=True, credentials=SANDBOX_OAUTH) as writer:
        assert isinstance(writer, CapillaryWriter)
        await writer.send(change_call(TOM, remove=REMOVE_EXT), {})


def tom_has_external_id(server: SandboxServer) -> bool:
    (tom,) = (c for c in server.dump()["customers"] if c["id"] == TOM)
    return any(i["value"] == "EXT564854782" for p in tom["profiles"] for i in p["identifiers"])


def test_write_dropped_after_commit_is_outcome_unknown_and_not_resent(demo_server: SandboxServer) -> None:
    demo_server.set_faults({"endpoints": {CHANGE: {"drop_after_commit": 1.0}}})
    with pytest.raises(OutcomeUnknownError) as info:
        asyncio.run(remove_external_id(demo_server))
    assert (info.value.method, info.value.path) == ("POST", f"/v2/customers/{TOM}/changeIdentifier")
    assert change_posts(demo_server) == [0]  # one POST, dropped, never resent
    assert not tom_has_external_id(demo_server)  # ... and it had committed


def test_write_answered_500_is_outcome_unknown_and_not_resent(demo_server: SandboxServer) -> None:
    demo_server.set_faults({"endpoints": {CHANGE: {"error_500": 1.0}}})
    with pytest.raises(OutcomeUnknownError, match="HTTP 500"):
        asyncio.run(remove_external_id(demo_server))
    assert change_posts(demo_server) == [500]


def test_write_refused_with_521_is_retried_until_it_succeeds(demo_server: SandboxServer) -> None:
    demo_server.set_faults({"endpoints": {CHANGE: {"error_521": 1.0, "limit": 2}}})
    asyncio.run(remove_external_id(demo_server))
    assert change_posts(demo_server) == [521, 521, 200]
    assert not tom_has_external_id(demo_server)


def test_write_that_could_not_connect_is_retried_then_transient() -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def run() -> None:
        async with httpx.AsyncClient(base_url=dead) as client:
            channel = Channel(
                client,
                limits=Limits(0),
                concurrency=1,
                read_only=False,
                retry=RetryPolicy(3, Backoff(0.01, 0.01)),
            )
            await CapillaryWriter(channel).send(card_call(CREATE_CARD, "X1", 121212), {})

    with pytest.raises(TransientError, match="ConnectError") as info:
        asyncio.run(run())
    assert not isinstance(info.value, OutcomeUnknownError)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port whose listen queue is full: a connect hangs (SYNs dropped) until it times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the accept queue; nobody ever accepts
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for sock in (*fillers, server):
        sock.close()


@pytest.mark.slow
def test_write_whose_connect_timed_out_is_retried_then_transient(silent_port: int) -> None:
    pauses: list[float] = []

    async def record(seconds: float) -> None:
        pauses.append(seconds)

    async def run() -> None:
        timeout = httpx.Timeout(5.0, connect=0.2)
        transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=2))
        url = f"http://127.0.0.1:{silent_port}"
        async with httpx.AsyncClient(transport=transport, base_url=url, timeout=timeout) as client:
            channel = Channel(
                client,
                limits=Limits(0),
                concurrency=1,
                read_only=False,
                retry=RetryPolicy(3, Backoff(0.01, 0.01, sleep=record)),
            )
            await CapillaryWriter(channel).send(card_call(CREATE_CARD, "X1", 121212), {})

    with pytest.raises(TransientError, match="ConnectTimeout") as info:
        asyncio.run(run())
    assert not isinstance(info.value, OutcomeUnknownError)  # never connected: provably not sent
    assert len(pauses) == 2  # three attempts, a pause between each


def test_card_writes_and_identifier_change_reach_the_sandbox(demo_server: SandboxServer) -> None:
    async def run() -> None:
        async with open_client(config_for(demo_server.url), write=True, credentials=SANDBOX_OAUTH) as writer:
            assert isinstance(writer, CapillaryWriter)
            await writer.send(card_call(CREATE_CARD, "GOLD0000777", 121212), {})
            await writer.send(card_call(CREATE_CARD, "DIGI00000777", "DIGI01", "NOT_ISSUED"), {})
            generated = (await writer.send(card_call(GENERATE_CARD, None, 131313), {})).cards
            await writer.send(card_call(UPDATE_CARD, "GOLD0000006", label="ACTIVE"), {})
            add = (Identifier("email", "tom.new@example.com"),)
            remove = (Identifier("email", "tom.sawyer@example.com"),)
            result = await writer.send(change_call(TOM, add, remove), {})
            assert result.created_id is not None and not result.merged
            assert len(generated) == 1 and all(await asyncio.gather(*map(writer.get_card, generated)))
            tom = await writer.get_customer(TOM)
            card = await writer.get_card("GOLD0000006")
        profile = tom.profile(ProfileKey("INSTORE"))
        assert profile is not None and Identifier("email", "tom.new@example.com") in profile.identifiers
        assert card is not None and card.status == "ACTIVE"
        assert await_none_missing(demo_server, ["GOLD0000777", "DIGI00000777"])

    asyncio.run(run())


def await_none_missing(server: SandboxServer, numbers: list[str]) -> bool:
    present = {c["number"] for c in server.dump()["cards"]}
    return all(n in present for n in numbers)


def all_posts(server: SandboxServer) -> list[str]:
    """The route of every request the sandbox received but the token requests."""
    return [r["route"] for r in server.request_log()["requests"] if "oauth" not in r["route"]]


def test_a_generated_card_whose_number_is_unknown_is_never_sent_empty(demo_server: SandboxServer) -> None:
    """A link or status change of a generated card needs the number its generate returned: without it
    the call is refused before sending, never sent with an empty card number."""
    gen = CallItem("cardnumber", None, 131313, None, "ACTIVE", generated_by="c0")
    link = Call("c1", TOM, CHANGE_IDENTIFIER, ("c0",), (), ProfileKey("INSTORE"), add=(gen,))
    status = Call("c2", 0, UPDATE_CARD, ("c0",), (), card=gen)

    async def run() -> list[str]:
        async with open_client(config_for(demo_server.url), write=True, credentials=SANDBOX_OAUTH) as writer:
            assert isinstance(writer, CapillaryWriter)
            messages = []
            for call in (link, status):
                with pytest.raises(ApiError) as info:
                    await writer.send(call, {"c9": "GOLD0000006"})  # another generate's number only
                messages.append(str(info.value))
            return messages

    messages = asyncio.run(run())
    assert all("c0" in m and "not sent" in m for m in messages)
    assert all_posts(demo_server) == []  # nothing reached the API
