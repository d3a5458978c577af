"""The client's transport (httpx's own) against a loopback sandbox and a scripted raw TCP server."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import uvloop

from reconciler.sandbox.admin import demo_fixture
from reconciler.sandbox.server import SandboxServer

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "RawServer"], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class RawServer:
    """A loopback TCP server running ``handler`` per connection; counts connections (total and at once)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.live = 0
        self.most_live = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.live += 1
        self.most_live = max(self.most_live, self.live)
        try:
            await self.handler(reader, writer, self)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.live -= 1
            writer.close()


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    """The next request's head and body, or None when the client closed the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


def keep_alive(delay: float = 0.0, answer: bytes = OK) -> Handler:
    """A handler answering every request on the connection with ``answer`` after ``delay`` seconds."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: RawServer) -> None:
        while await read_request(reader) is not None:
            await asyncio.sleep(delay)
            writer.write(answer)
            await writer.drain()

    return handle


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset rather than a FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@pytest.fixture(autouse=True, params=["asyncio", "uvloop"])
def event_loop_kind(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test on both event loops (the CLI runs on uvloop, whose transports differ)."""
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy() if request.param == "uvloop" else None)
    yield
    asyncio.set_event_loop_policy(previous)


def run(
    handler: Handler, scenario: Callable[[httpx.AsyncClient, RawServer], Awaitable[Any]], size: int = 4
) -> Any:
    """Run ``scenario`` with a client on httpx's transport (``size`` connections) against a raw server."""

    async def main() -> Any:
        async with RawServer(handler) as server:
            transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=size))
            async with httpx.AsyncClient(transport=transport, base_url=server.url, timeout=5) as client:
                return await scenario(client, server)

    return asyncio.run(main())


def test_keep_alive_reuses_one_connection() -> None:
    async def scenario(client: httpx.AsyncClient, server: RawServer) -> None:
        for _ in range(5):
            response = await client.get("/x")
            assert (response.status_code, response.text) == (200, "ok")
        assert server.connections == 1

    run(keep_alive(), scenario)


def test_post_body_and_query_reach_the_server() -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: RawServer) -> None:
        while (request := await read_request(reader)) is not None:
            seen.append(request)
            writer.write(OK)

    async def scenario(client: httpx.AsyncClient, server: RawServer) -> None:
        response = await client.post("/v2/things", params={"a": "1 2"}, json={"k": "v"})
        assert response.text == "ok"

    run(echo, scenario)
    head, body = seen[0]
    assert head.startswith(b"POST /v2/things?a=1+2 HTTP/1.1\r\n")
    assert b"\r\nhost: 127.0.0.1:" in head.lower()
    assert json.loads(body) == {"k": "v"}


def test_chunked_response_in_pieces_then_reuse() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: RawServer) -> None:
        while await read_request(reader) is not None:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            await writer.drain()
            await asyncio.sleep(0.02)
            writer.write(b"6\r\n world\r\n0\r\n\r\n")

    async def scenario(client: httpx.AsyncClient, server: RawServer) -> None:
        assert (await client.get("/a")).text == "hello world"
        assert (await client.get("/b")).text == "hello world"
        assert server.connections == 1

    run(chunked, scenario)


def test_connection_close_header_is_honoured() -> None:
    answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"

    async def scenario(client: httpx.AsyncClient, server: RawServer) -> None:
        assert [(await client.get("/")).text for _ in range(3)] == ["ok"] * 3
        assert server.connections == 3

    run(keep_alive(answer=answer), scenario)


def test_body_delimited_by_close() -> None:
    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: RawServer) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nall of it")

    async def scenario(client: httpx.AsyncClient, server: RawServer) -> None:
        assert (await client.get("/")).text == "all of it"
        assert (await client.get("/")).text == "all of it"
        assert server.connections == 2

    run(until_close, scenario)


@pytest.mark.parametrize("how", ["fin", "rst", "stray bytes"])
def test_idle_connection_closed_by_server_is_replaced(how: str) -> None:
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: RawServer) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        if server.connections == 1:  # the first connection dies while idle; later ones live on
            await asyncio.sleep(0.01)
            if how == "rst":
                reset(writer)
            elif how == "stray bytes":
                writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                await asyncio.sleep(1)
            return
        await keep_alive()(reader, writer, server)

    async def scenario(client: httpx.AsyncClient, server: RawServer) -> None:
        assert (await client.get("/")).text == "ok"
        await asyncio.sleep(0.1)  # the close (or the stray answer) arrives while the connection is idle
        assert [(await client.get("/")).text for _ in range(3)] == ["ok"] * 3
        assert server.connections == 2

    run(once, scenario)


@pytest.mark.parametrize("how", ["fin", "rst", "half an answer"])
def test_drop_after_request_sent_is_outcome_unknown(how: str) -> None:
    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: RawServer) -> None:
        await read_request(reader)
        if how == "rst":
            reset(writer)
        elif how == "half an answer":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
            await writer.drain()

    async def scenario(client: httpx.AsyncClient, server: RawServer) -> None:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)) as caught:
            await client.post("/v2/write", json={"a": 1})
        if how == "half an answer":
            assert isinstance(caught.value, httpx.RemoteProtocolError)

    run(drop, scenario)


def test_malformed_answer_is_a_protocol_error() -> None:
    async def scenario(client: httpx.AsyncClient, server: RawServer) -> None:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/")

    run(keep_alive(answer=b"NOT HTTP AT ALL\r\n\r\n"), scenario)


def test_connection_refused_is_a_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there

    async def main() -> None:
        async with httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=2))
        ) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.1:{port}/")

    asyncio.run(main())


def test_read_timeout_then_a_fresh_connection() -> None:
    async def silent_first(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: RawServer
    ) -> None:
        if server.connections == 1:
            await read_request(reader)
            await asyncio.sleep(2)
            return
        await keep_alive()(reader, writer, server)

    async def scenario(client: httpx.AsyncClient, server: RawServer) -> None:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/", timeout=httpx.Timeout(5, read=0.2))
        assert (await client.get("/")).text == "ok"
        assert server.connections == 2

    run(silent_first, scenario)


@pytest.mark.slow
def test_slow_trickle_within_read_timeout_is_not_a_timeout() -> None:
    # The body takes longer than the read timeout (20 gaps of >= 0.1 s: >= 2 s > 1.5 s), each gap far
    # less: server and client share one event loop, so a stall of the whole process longer than
    # (timeout - gap) would fire the timeout before the client reads the byte already written.
    body = b"slow" * 5

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: RawServer) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        for byte in body:
            await asyncio.sleep(0.1)
            writer.write(bytes([byte]))

    async def scenario(client: httpx.AsyncClient, server: RawServer) -> None:
        assert (await client.get("/", timeout=httpx.Timeout(5, read=1.5))).content == body

    run(trickle, scenario)


def test_pool_limit_respected() -> None:
    async def scenario(client: httpx.AsyncClient, server: RawServer) -> None:
        responses = await asyncio.gather(*(client.get(f"/{i}") for i in range(12)))
        assert [r.text for r in responses] == ["ok"] * 12
        assert server.most_live <= 3 and server.connections == 3

    run(keep_alive(delay=0.05), scenario, size=3)


def test_pool_timeout_when_every_connection_is_busy() -> None:
    async def scenario(client: httpx.AsyncClient, server: RawServer) -> list[Any]:
        slow = asyncio.ensure_future(client.get("/"))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await client.get("/", timeout=httpx.Timeout(5, pool=0.05))
        return [(await slow).text]

    assert run(keep_alive(delay=0.3), scenario, size=1) == ["ok"]


def test_cancelled_request_frees_its_slot() -> None:
    async def scenario(client: httpx.AsyncClient, server: RawServer) -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await client.get("/")
        assert (await client.get("/", timeout=30)).text == "ok"  # liveness only
        assert server.connections == 2  # the cancelled request's connection was not reused

    run(keep_alive(delay=0.2), scenario, size=1)


def test_sandbox_reads_and_token_post_over_keep_alive() -> None:
    first = demo_fixture()["customers"][0]["id"]

    async def main(url: str) -> None:
        async with httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=4)), base_url=url
        ) as client:
            token = await client.post(
                "/v3/oauth/token/generate", json={"key": "sandbox", "secret": "sandbox"}
            )
            assert token.status_code == 200
            headers = {"X-CAP-API-OAUTH-TOKEN": token.json()["data"]["accessToken"]}
            settings = await asyncio.gather(*(client.get("/_sandbox/settings") for _ in range(20)))
            assert {r.json()["oauth_key"] for r in settings} == {"sandbox"}
            customers = await asyncio.gather(
                *(
                    client.get(f"/v2/customers/{first}", params={"source": "ALL"}, headers=headers)
                    for _ in range(5)
                )
            )
            assert {(r.status_code, r.json()["id"]) for r in customers} == {(200, first)}

    with SandboxServer(seed="demo") as server:
        asyncio.run(main(server.url))
