"""The client reads each documented answer shape (issue 20, 4): a 401 whose body is XML, not JSON, is one
authentication error; a generate answered in ``data`` (2025 docs) or ``entity`` (legacy) gives its numbers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from reconciler.capillary import Credentials, open_client
from reconciler.config import ApiConfig, Config
from reconciler.errors import AuthError
from reconciler.sandbox.server import SandboxServer
from tests.testing import demo_state, make_workspace


def _config(server: SandboxServer, auth: str) -> Config:
    return Config(api=ApiConfig(url=server.url, auth=auth, timeout_seconds=10))


@pytest.mark.parametrize("auth", ["oauth", "basic"])
def test_a_401_with_an_xml_body_is_one_authentication_error(auth: str) -> None:
    async def read(server: SandboxServer) -> None:
        wrong = Credentials(auth, "sandbox", "not-the-secret")
        async with open_client(_config(server, auth), credentials=wrong) as reader:
            await reader.list_series()

    with SandboxServer(seed="demo") as server:
        server.set_settings(auth_error_body="xml")
        with pytest.raises(AuthError) as caught:
            asyncio.run(read(server))
    message = str(caught.value)
    assert "\n" not in message and "not-the-secret" not in message and "<" not in message, message


@pytest.mark.parametrize("shape", ["data", "entity"])
@pytest.mark.slow
def test_a_generated_card_is_linked_whichever_shape_the_generate_answer_has(
    tmp_path: Path, shape: str
) -> None:
    with SandboxServer(seed="demo") as server:
        server.set_settings(generate_answer=shape)
        ws = make_workspace(tmp_path, server, demo_state())
        cards_before = {c["number"] for c in server.dump()["cards"]}
        done = ws.cli("apply", "--auto-approve")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        generated = {c["number"]: c for c in server.dump()["cards"] if c["number"] not in cards_before}
        linked = [c for c in generated.values() if c["seriesId"] == 131313 and c["customerId"]]
        assert linked, generated  # the generated DIGI card is linked to its customer
        assert ws.cli("plan", "--all", "--detailed-exitcode").returncode == 0
