"""httpx's transport for HTTP/1.1 on plain asyncio and h11, instead of httpcore's pool over anyio.

Why: under asyncio httpcore reaches every socket through anyio (a cancel scope, an async-library
sniff and a task lookup per read and write) and guards every request with anyio locks, events and
shielded scopes; its pool scans every connection, and every idle one again, each time a request
comes or goes. That was a third of the CPU of a poll that found nothing new (bench/poll.py). The
fetcher needs none of it: its own slots bound the requests (in total and per host), so this pool
only keeps idle connections, per origin, at most `kept` of them, each for `keepalive_expiry` seconds.

The protocol is h11's, driven as httpcore drives it (the same events, limits and checks), and the
failures are httpx's exceptions with the reasons in their chain, worded as httpcore words them, so
`monitor.fetch.describe_transport_error` reads the same one-line reasons. The TLS context is
httpx's default (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built at the first https connection:
loading the CA bundle costs ~25 ms of CPU that a run over plain-http feeds never needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpx

READ_LIMIT = 256 * 1024
"""Bytes buffered before the socket stops being read (a read takes at most READ_BYTES)."""
READ_BYTES = 64 * 1024
MAX_HEAD_BYTES = 100 * 1024
"""The largest response head h11 may buffer (httpcore's limit)."""

Origin = tuple[bytes, bytes, int]


class AsyncioTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 requests over kept-alive connections; no proxies (the fetcher leaves those to httpx)."""

    def __init__(self, *, kept: int, keepalive_expiry: float = 5.0) -> None:
        self.kept = kept
        self.keepalive_expiry = keepalive_expiry
        self._idle: dict[Origin, list[_Connection]] = {}
        self._idle_count = 0
        self._tls: ssl.SSLContext | None = None
        self._next_sweep = 0.0
        self._open: set[_Connection] = set()
        """Every connection not closed yet, idle or in use: closing the transport closes them all."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin = (url.raw_scheme, url.raw_host, url.port or (443 if url.raw_scheme == b"https" else 80))
        timeouts = request.extensions.get("timeout", {})
        connection = self._take_idle(origin) or await self._connect(origin, timeouts)
        try:
            head = await connection.exchange(request, timeouts)
        except BaseException:
            connection.close()
            raise
        status, headers, reason = head
        return httpx.Response(
            status,
            headers=headers,
            stream=_Body(self, connection, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )

    async def aclose(self) -> None:
        for connection in list(self._open):
            connection.close()
        self._idle.clear()
        self._idle_count = 0

    def _take_idle(self, origin: Origin) -> _Connection | None:
        """The most recently used idle connection to `origin` that is still good, if any."""
        connections = self._idle.get(origin)
        now = time.monotonic()
        while connections:
            connection = connections.pop()
            self._idle_count -= 1
            if not connections:
                del self._idle[origin]
            if connection.usable(now):
                return connection
            connection.close()  # expired, or the server closed it (EOF waiting) or sent what no one asked for
        return None

    def keep(self, connection: _Connection) -> None:
        """Put a connection whose exchange finished cleanly back for the next request to its origin."""
        if connection not in self._open:  # the transport was closed meanwhile
            return
        now = time.monotonic()
        connection.expires = now + self.keepalive_expiry
        self._idle.setdefault(connection.origin, []).append(connection)
        self._idle_count += 1
        if self._idle_count > self.kept:
            self._close_oldest()
        if now >= self._next_sweep:  # idle connections to hosts not asked again close too, as in httpcore
            self._next_sweep = now + self.keepalive_expiry
            self._close_expired(now)

    def _close_expired(self, now: float) -> None:
        for origin, connections in list(self._idle.items()):
            kept = [c for c in connections if c.expires >= now]
            for connection in connections:
                if connection.expires < now:
                    connection.close()
            self._idle_count -= len(connections) - len(kept)
            if kept:
                self._idle[origin] = kept
            else:
                del self._idle[origin]

    def _close_oldest(self) -> None:
        origin, connections = min(self._idle.items(), key=lambda item: item[1][0].expires)
        connections.pop(0).close()
        self._idle_count -= 1
        if not connections:
            del self._idle[origin]

    async def _connect(self, origin: Origin, timeouts: dict[str, float | None]) -> _Connection:
        scheme, host, port = origin
        stream = await connect_tcp(host.decode("ascii"), port, timeouts.get("connect"))
        if scheme == b"https":
            if self._tls is None:
                self._tls = httpx.create_ssl_context()
                self._tls.set_alpn_protocols(["http/1.1"])
            await stream.start_tls(self._tls, host.decode("ascii"), timeouts.get("connect"))
        return _Connection(origin, stream, self._open)


class _Connection:
    """One HTTP/1.1 connection: h11's state over an AsyncioStream."""

    def __init__(self, origin: Origin, stream: AsyncioStream, open_connections: set[_Connection]) -> None:
        self.origin = origin
        self.stream = stream
        self._open = open_connections
        open_connections.add(self)
        self.h11 = h11.Connection(our_role=h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
        self.expires = 0.0

    def usable(self, now: float) -> bool:
        return now <= self.expires and not self.stream.readable()

    async def exchange(
        self, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Send the request, receive the response's head: its status, headers and reason."""
        with contextlib.suppress(httpx.WriteError):  # as httpcore: a server may answer early, then close
            await self._send_request(request, timeouts.get("write"))
        timeout = timeouts.get("read")
        while True:
            event = await self.receive(timeout)
            if isinstance(event, h11.Response):
                return event.status_code, event.headers.raw_items(), event.reason
            if isinstance(event, h11.ConnectionClosed):  # h11 would say so again and again
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    async def _send_request(self, request: httpx.Request, timeout: float | None) -> None:
        try:
            head = h11.Request(method=request.method, target=request.url.raw_path, headers=request.headers.raw)
        except h11.LocalProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc)) from exc
        await self._send(head, timeout)
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for chunk in request.stream:
            await self._send(h11.Data(data=chunk), timeout)
        await self._send(h11.EndOfMessage(), timeout)

    async def _send(self, event: h11.Event, timeout: float | None) -> None:
        try:
            data = self.h11.send(event)
        except h11.LocalProtocolError as exc:  # a body longer or shorter than its Content-Length
            raise httpx.LocalProtocolError(str(exc)) from exc
        if data is not None:
            await self.stream.write(data, timeout)

    async def receive(self, timeout: float | None) -> Any:
        """The next h11 event, reading from the network as h11 needs."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc)) from exc
            if event is not h11.NEED_DATA:
                return event
            data = await self.stream.read(READ_BYTES, timeout)
            if data == b"" and self.h11.their_state == h11.SEND_RESPONSE:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            self.h11.receive_data(data)

    def finished(self) -> bool:
        """After a response: True when the connection can serve another request (the next cycle begun)."""
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            return True
        return False

    def close(self) -> None:
        self._open.discard(self)
        self.stream.close()


class _Body(httpx.AsyncByteStream):
    """A response's body as h11 hands it over; at the end, the connection is kept or closed."""

    def __init__(self, transport: AsyncioTransport, connection: _Connection, timeout: float | None) -> None:
        self._transport = transport
        self._connection: _Connection | None = connection
        self._timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            raise httpx.StreamClosed()
        try:
            while True:
                event = await connection.receive(self._timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage) or event is h11.PAUSED:
                    return
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if connection.finished():
            self._transport.keep(connection)
        else:
            connection.close()


async def connect_tcp(host: str, port: int, timeout: float | None) -> AsyncioStream:
    """A TCP connection (happy eyeballs over the host's addresses); failures worded as httpcore's anyio
    backend words them, with the reason (refused, reset, name not found...) in the chain."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            transport, protocol = await loop.create_connection(
                lambda: _Protocol(loop), host, port, happy_eyeballs_delay=0.25, interleave=1
            )
    except TimeoutError as exc:
        raise httpx.ConnectTimeout("") from exc
    except socket.gaierror as exc:
        raise httpx.ConnectError(str(exc)) from exc
    except OSError as exc:
        raise httpx.ConnectError("All connection attempts failed") from exc
    assert isinstance(transport, asyncio.Transport)
    return AsyncioStream(transport, protocol)


class _Protocol(asyncio.Protocol):
    """Bytes received, EOF and loss, and write flow control, for one connection."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.lost = False
        self.error: Exception | None = None
        self.reading_paused = False
        self.writing_paused = False
        self.waiter: asyncio.Future[bool] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > READ_LIMIT and not self.reading_paused and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return True  # keep the transport: the connection closes when httpcore closes it

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost, self.error = True, exc
        self._wake()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(True)

    async def wait(self, timeout: float | None) -> bool:
        """Until something happens (True) or `timeout` seconds pass (False)."""
        waiter: asyncio.Future[bool] = self.loop.create_future()
        self.waiter = waiter
        timer = None if timeout is None else self.loop.call_later(timeout, _expire, waiter)
        try:
            return await waiter
        finally:
            self.waiter = None
            if timer is not None:
                timer.cancel()


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


def _failure(kind: type[Exception], error: Exception) -> Exception:
    """`kind()` caused by `error`, as httpcore's anyio backend words it (no message of its own)."""
    failure = kind("")
    failure.__cause__ = failure.__context__ = error
    return failure


class AsyncioStream:
    """Reads with a deadline each, writes with flow control, over one asyncio transport (TLS or not)."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._raw = transport
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        while not (protocol.buffer or protocol.eof or protocol.lost):
            if not await protocol.wait(timeout):
                raise httpx.ReadTimeout("")
        if protocol.buffer:
            data = bytes(protocol.buffer[:max_bytes])
            del protocol.buffer[:max_bytes]
            if protocol.reading_paused and len(protocol.buffer) <= READ_LIMIT // 2:
                protocol.reading_paused = False
                self._transport.resume_reading()
            return data
        if protocol.error is not None:
            raise _failure(httpx.ReadError, protocol.error)
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.error is not None:
            raise _failure(httpx.WriteError, protocol.error)
        self._transport.write(buffer)
        while protocol.writing_paused and not protocol.lost:
            if not await protocol.wait(timeout):
                raise httpx.WriteTimeout("")
        if protocol.error is not None:
            raise _failure(httpx.WriteError, protocol.error)

    def readable(self) -> bool:
        """Data or EOF waiting on an idle connection: the server closed it, or broke the protocol."""
        return bool(self._protocol.buffer) or self._protocol.eof or self._protocol.lost

    def close(self) -> None:
        if self._transport is self._raw:
            self._raw.close()
        else:  # no TLS close_notify (as httpx's anyio stream does): the raw socket just closes
            self._transport.abort()

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(self._raw, self._protocol, context, server_hostname=server_hostname)
        except TimeoutError as exc:
            self._raw.abort()
            raise httpx.ConnectTimeout("") from exc
        except (OSError, EOFError) as exc:  # ssl.SSLError is an OSError
            self._raw.abort()
            raise httpx.ConnectError(str(exc)) from exc
        if tls is None:
            self._raw.abort()
            raise httpx.ConnectError("TLS handshake failed")
        assert isinstance(tls, asyncio.Transport)
        self._transport = self._protocol.transport = tls
