"""A lean HTTP/1.1 transport: asyncio connections parsed with httptools, in a small keep-alive pool.

httpcore + h11 + anyio cost about a millisecond of CPU per request (cancel scopes, task lookups, a state
machine per event); this transport does one write and one parse per request. Failures are raised as the
httpx exceptions httpcore raises for them, which the channel uses to decide retry or outcome-unknown:
ConnectError/ConnectTimeout (never sent), WriteError/WriteTimeout, RemoteProtocolError/ReadError (closed
or reset before a complete answer), ReadTimeout, PoolTimeout. A ConnectError's text is ours: the reason in
a few words and the host and port from ``api.url`` (no path, no query); a refused TLS certificate is
``CertificateError``, which no retry can mend.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from typing import Any, cast

import httptools
import httpx

from reconciler.capillary._pool import ConnectionPool, Origin
from reconciler.errors import ConfigError

DEFAULT_PORTS = {"http": 80, "https": 443}
HTTP11 = {"http_version": b"HTTP/1.1"}


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class CertificateError(httpx.ConnectError):
    """The server's TLS certificate was not trusted: a configuration problem, not a transient one."""


HOSTNAME_MISMATCH = frozenset({62, 64})  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH


def connect_failure(exc: OSError) -> httpx.ConnectError:
    """The ConnectError for a failed connection attempt, with a short reason (no URL, path or query)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        if exc.verify_code in HOSTNAME_MISMATCH:
            return CertificateError("the server's TLS certificate is not valid for the host in api.url")
        return CertificateError(
            f"TLS certificate not trusted ({exc.verify_message}); SSL_CERT_FILE names the CA bundle to "
            "trust (it replaces the default one)"
        )
    if isinstance(exc, ssl.SSLError):
        return httpx.ConnectError(f"TLS handshake failed ({exc.reason or type(exc).__name__})")
    if isinstance(exc, ConnectionRefusedError):
        return httpx.ConnectError("connection refused")
    if isinstance(exc, socket.gaierror):
        return httpx.ConnectError(f"the host name did not resolve ({exc.strerror})")
    return httpx.ConnectError(os.strerror(exc.errno) if exc.errno else type(exc).__name__)


class Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; carries one request at a time."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._closed = False
        self._paused = False
        self._reusable = False
        self._head = False
        self._status = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._headers_done = False
        self._framed = False
        self._last_data = 0.0
        self._read_timeout: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._result: tuple[int, list[tuple[bytes, bytes]], bytes] = (0, [], b"")

    def is_reusable(self) -> bool:
        """True when idle, open, and the server has neither closed it nor sent anything since."""
        return self._reusable and not self._closed  # a FIN or stray bytes while idle clear these

    def close(self) -> None:
        """Close the connection now (no graceful shutdown: it carries nothing worth finishing)."""
        self._reusable = False
        if self._transport is not None and not self._closed:
            self._transport.abort()
        self._closed = True

    async def exchange(self, request: httpx.Request, timeouts: dict[str, Any]) -> httpx.Response:
        """Send ``request`` and read its complete response."""
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = await request.aread()
        self._begin(request.method == "HEAD", timeouts.get("read"))
        waiter = self._waiter
        assert waiter is not None and self._transport is not None
        try:
            self._transport.write(_encode(request, body))
            if self._paused:
                await self._drained(timeouts.get("write"))
            self._start_timer()
            await waiter
        finally:
            self._waiter = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        status, headers, content = self._result
        return httpx.Response(status, headers=headers, content=content, request=request, extensions=HTTP11)

    def _begin(self, head: bool, read_timeout: float | None) -> None:
        self._reusable = False
        self._head, self._read_timeout = head, read_timeout
        self._status, self._headers, self._body = 0, [], []
        self._headers_done = self._framed = False
        self._waiter = self._loop.create_future()

    async def _drained(self, timeout: float | None) -> None:
        """Wait until the transport takes the rest of the request (only for bodies beyond its buffer)."""
        self._drain = self._loop.create_future()
        try:
            async with asyncio.timeout(timeout):
                await self._drain
        except TimeoutError:
            self.close()
            raise httpx.WriteTimeout("timed out writing the request") from None
        finally:
            self._drain = None

    def _start_timer(self) -> None:
        if self._read_timeout is not None and self._waiter is not None and not self._waiter.done():
            self._last_data = self._loop.time()
            self._timer = self._loop.call_later(self._read_timeout, self._check_read)

    def _check_read(self) -> None:
        """Fail the request if nothing arrived for the read timeout; else look again when it could."""
        assert self._read_timeout is not None
        quiet = self._loop.time() - self._last_data
        if quiet < self._read_timeout:
            self._timer = self._loop.call_later(self._read_timeout - quiet, self._check_read)
            return
        self._fail(httpx.ReadTimeout("timed out reading the response"))
        self.close()

    def _finish(self) -> None:
        """Keep the complete response and wake the request."""
        if self._waiter is not None and not self._waiter.done():
            self._result = (self._status, self._headers, b"".join(self._body))
            self._headers, self._body = [], []  # anything parsed after this is not this response
            self._waiter.set_result(None)

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    # asyncio.Protocol ------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        """Feed the parser; bytes while idle make the connection unusable."""
        if self._waiter is None or self._waiter.done():
            self.close()  # an unsolicited answer (e.g. a 408 before closing): nothing to reuse
            return
        self._last_data = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed response: {exc}"))
            self.close()

    def eof_received(self) -> bool:
        """The server closed its side: the transport closes, ``connection_lost`` settles the request."""
        self._reusable = False
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Settle a request in flight: complete (close-delimited body) or failed."""
        self._closed, self._reusable = True, False
        if self._drain is not None and not self._drain.done():
            self._drain.set_exception(httpx.WriteError(str(exc or "connection closed while writing")))
        if self._waiter is None or self._waiter.done():
            return
        if exc is None and self._headers_done and not self._framed:
            self._finish()  # a body delimited by the end of the connection
        elif isinstance(exc, OSError):
            self._fail(httpx.ReadError(str(exc) or type(exc).__name__))
        elif self._status:
            self._fail(
                httpx.RemoteProtocolError("peer closed connection without sending complete message body")
            )
        else:
            self._fail(httpx.RemoteProtocolError("Server disconnected without sending a response."))

    def pause_writing(self) -> None:
        """The transport's buffer is full."""
        self._paused = True

    def resume_writing(self) -> None:
        """The transport's buffer drained."""
        self._paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    # httptools callbacks ---------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        """A response starts; one nobody asked for (a second answer) makes the connection unusable."""
        if self._waiter is None or self._waiter.done():
            self.close()

    def on_header(self, name: bytes, value: bytes) -> None:
        """One response header."""
        self._headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-length" or lowered == b"transfer-encoding":
            self._framed = True

    def on_headers_complete(self) -> None:
        """The status and headers are in; a HEAD answer ends here."""
        self._status = self._parser.get_status_code()
        self._headers_done = True
        if self._head:
            self._finish()  # the parser expects a body that never comes: not reusable

    def on_body(self, body: bytes) -> None:
        """A piece of the body."""
        self._body.append(body)

    def on_message_complete(self) -> None:
        """The response is complete; an interim 1xx answer is skipped."""
        if 100 <= self._status < 200:
            self._status, self._headers, self._body, self._headers_done = 0, [], [], False
            return
        if self._waiter is None or self._waiter.done():
            return
        self._reusable = self._parser.should_keep_alive() and not self._head
        self._finish()


def _encode(request: httpx.Request, body: bytes) -> bytes:
    """The request line, headers and body as one buffer (chunked framing when the headers ask for it)."""
    url = request.url
    lines = [b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), url.raw_path)]
    chunked = False
    for name, value in request.headers.raw:
        lines.append(b"%s: %s\r\n" % (name, value))
        chunked = chunked or (name.lower() == b"transfer-encoding" and value.lower() == b"chunked")
    lines.append(b"\r\n")
    if chunked:
        lines.append(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n")
    else:
        lines.append(body)
    return b"".join(lines)


class LeanTransport(httpx.AsyncBaseTransport):
    """An httpx transport with at most ``connections`` keep-alive HTTP/1.1 connections."""

    def __init__(self, connections: int, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._pool: ConnectionPool[Connection] = ConnectionPool(max(1, connections), self._connect)
        self._ssl = ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` over a pooled connection and return the response, body fully read."""
        url = request.url
        if url.scheme not in DEFAULT_PORTS or not url.host:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}", request=request)
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        origin = (url.scheme, url.raw_host.decode("ascii"), url.port or DEFAULT_PORTS[url.scheme])
        await self._pool.acquire(timeouts.get("pool"))
        try:
            connection = await self._pool.checkout(origin, timeouts.get("connect"))
            try:
                response = await connection.exchange(request, timeouts)
            except BaseException:
                connection.close()
                raise
            finally:
                self._pool.checkin(connection)
        finally:
            self._pool.release()
        return response

    async def _connect(self, origin: Origin, timeout: float | None) -> Connection:
        """A new connection to ``origin``: ConnectTimeout or ConnectError when that fails."""
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        context = self._context() if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                _, protocol = await loop.create_connection(
                    lambda: Connection(origin),
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context else None,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"timed out connecting to {_hostport(host, port)}") from None
        except OSError as exc:  # refused, unreachable, DNS, TLS handshake (ssl.SSLError is an OSError)
            failure = connect_failure(exc)
            raise type(failure)(f"{failure} ({_hostport(host, port)})") from None
        return protocol

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            try:
                self._ssl = httpx.create_ssl_context()
            except (OSError, ssl.SSLError) as exc:  # SSL_CERT_FILE / SSL_CERT_DIR missing or not PEM
                reason = getattr(exc, "reason", None) or exc.strerror or type(exc).__name__
                raise ConfigError(
                    f"cannot load the CA certificates to trust (SSL_CERT_FILE / SSL_CERT_DIR?): {reason}"
                ) from None
            self._ssl.set_alpn_protocols(["http/1.1"])
        return self._ssl

    async def aclose(self) -> None:
        """Close every connection."""
        self._pool.close()
