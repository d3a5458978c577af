"""The read-only client cannot write, and no credential ever shows in logs or errors."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Iterator

import pytest

from reconciler.capillary import CapillaryReader, CapillaryWriter, Credentials, open_client
from reconciler.errors import ApiError, AuthError, ReadOnlyViolation
from reconciler.model import Identifier
from reconciler.plan import CREATE_CARD
from reconciler.sandbox import Settings
from reconciler.sandbox.server import SandboxServer
from tests.client.builders import SANDBOX_OAUTH, card_call, config_for
from tests.testing.variants import FEW, label

WRITES = [
    ("POST", "/v2/card"),
    ("PUT", "/v2/card"),
    ("POST", "/v2/customers/564854782/changeIdentifier"),
    ("POST", "/v2/card/generate"),
    ("PUT", "/v2/card/bulk"),
    ("DELETE", "/v2/card"),
]


def test_read_only_client_refuses_every_write_at_every_layer(demo_server: SandboxServer) -> None:
    async def run() -> None:
        async with open_client(
            config_for(demo_server.url, bulk_read=True), credentials=SANDBOX_OAUTH
        ) as reader:
            assert type(reader) is CapillaryReader and reader.read_only
            assert not hasattr(reader, "send")
            await reader.get_customers([564854782])  # the token POST and the bulk-read POST are allowed
            channel = reader._channel
            for method, path in WRITES:
                with pytest.raises(ReadOnlyViolation):  # the request path
                    await channel.request(method, path, body={"cardNumber": "X"})
                with pytest.raises(ReadOnlyViolation):  # the transport itself, bypassing the request path
                    await channel.client.request(method, path, json={"cardNumber": "X"})
            with pytest.raises(ReadOnlyViolation):  # a writer wrapped around the reader's channel
                await CapillaryWriter(channel).send(card_call(CREATE_CARD, "X", 121212), {})

    asyncio.run(run())
    counts = demo_server.request_log()["countsByRoute"]
    assert set(counts) == {"POST /v3/oauth/token/generate", "POST /v2/bulk/getCustomers"}


PASSWORD, OAUTH_SECRET = "P4ss-w0rd-never-shown", "0auth-S3cret-never-shown"


@pytest.fixture(params=FEW, ids=label)
def secret_sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    settings = Settings(till="till-42", password=PASSWORD, oauth_key="key-42", oauth_secret=OAUTH_SECRET)
    with SandboxServer(settings=settings.replace(request.param), seed="demo") as server:
        yield server


async def exercise(server: SandboxServer, errors: list[BaseException]) -> None:
    """An authenticated run touching every path that could leak: reads, failures, writes, bad credentials."""
    good = [Credentials.oauth("key-42", OAUTH_SECRET), Credentials.basic("till-42", PASSWORD)]
    bad = [
        Credentials.oauth("key-42", "wrong-" + OAUTH_SECRET),
        Credentials.basic("till-42", "wrong" + PASSWORD),
    ]
    for creds in good:
        async with open_client(config_for(server.url), write=True, credentials=creds) as client:
            assert isinstance(client, CapillaryWriter)
            found = await client.get_customers([564854782, 1])
            errors.extend(v for v in found.values() if isinstance(v, ApiError))
            await client.find_identifier_holder(Identifier("mobile", "919812300017"))
            for call in (
                client.get_customer(564855017),
                client.send(card_call(CREATE_CARD, "GOLD0000001", 121212), {}),
            ):
                try:
                    await call
                except ApiError as exc:
                    errors.append(exc)
    for creds in bad:
        async with open_client(config_for(server.url), credentials=creds) as reader:
            with pytest.raises(AuthError) as info:
                await reader.get_customer(564854782)
            errors.append(info.value)
            with pytest.raises(ReadOnlyViolation) as violation:
                await reader._channel.request("POST", "/v2/card", body={})
            errors.append(violation.value)


def test_no_credential_in_debug_logs_or_exception_texts(
    secret_sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    asyncio.run(exercise(secret_sandbox, errors))
    md5 = hashlib.md5(PASSWORD.encode()).hexdigest()
    basic = base64.b64encode(f"till-42:{md5}".encode()).decode()
    tokens = list(secret_sandbox.app.runtime.tokens)
    secrets = [PASSWORD, md5, basic, OAUTH_SECRET, *tokens]
    assert len(tokens) >= 1 and len(errors) >= 6
    texts = caplog.text + "".join(f"{e}{e!r}{e.__cause__}{e.args}" for e in errors)
    assert "DEBUG" in caplog.text and "GET /v2/customers/564854782 -> 200" in caplog.text
    assert [s for s in secrets if s in texts] == []
