"""httpx's transport with httpcore's network I/O on plain asyncio instead of anyio.

Why: under asyncio httpcore reaches the socket through anyio, which costs a cancel scope, an
async-library sniff and a task lookup per read and write, and a poll(2) of the socket each time the
pool checks an idle connection; that was a third of the CPU of a poll that found nothing new
(bench/poll.py). Here a read that finds data buffered returns it without a timer, a wait arms one
`call_later`, and an idle connection's state is the protocol's own (data or EOF seen).

The behaviour is httpx's: the same pool (httpcore's, per-host limits and keep-alive), the same
exception mapping (httpx's transport), the same error causes (connect failures are wrapped as anyio
wraps them, so `monitor.fetch.describe_transport_error` reads the same reasons). The TLS context is
httpx's default (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built at the first https connection:
loading the CA bundle costs ~25 ms of CPU that a run over plain-http feeds never needs.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

READ_LIMIT = 256 * 1024
"""Bytes buffered before the socket stops being read (httpcore reads 64 KiB at a time)."""


class AsyncioTransport(httpx.AsyncHTTPTransport):
    """`httpx.AsyncHTTPTransport` (no proxy, HTTP/1.1) over `AsyncioBackend`."""

    def __init__(self, limits: httpx.Limits) -> None:  # not the parent's: it would build an anyio pool
        self._pool = _LazyTLSPool(
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )


class _LazyTLSPool(httpcore.AsyncConnectionPool):
    """A pool whose TLS context is made when the first https connection needs it."""

    _tls: ssl.SSLContext | None = None

    def create_connection(self, origin: httpcore.Origin) -> httpcore.AsyncConnectionInterface:
        if origin.scheme != b"https":
            return super().create_connection(origin)
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return httpcore.AsyncHTTPConnection(
            origin=origin,
            ssl_context=self._tls,
            keepalive_expiry=self._keepalive_expiry,
            network_backend=self._network_backend,
        )


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    lambda: _Protocol(loop), host, port, local_addr=local, happy_eyeballs_delay=0.25, interleave=1
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(exc) from exc
        except socket.gaierror as exc:
            raise httpcore.ConnectError(exc) from exc
        except OSError as exc:  # said as anyio says it; the reason (refused, reset...) stays in the chain
            raise httpcore.ConnectError(OSError("All connection attempts failed")) from exc
        raw = transport.get_extra_info("socket")
        for option in socket_options or ():
            raw.setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not supported")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


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
    """`kind()` caused by `error`, as anyio words it (no message of its own); `error` is its context
    too, because httpcore's pool re-raises `from None` and monitor.fetch reads the reason in the chain."""
    failure = kind("")
    failure.__cause__ = failure.__context__ = error
    return failure


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._raw = transport
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        while not (protocol.buffer or protocol.eof or protocol.lost):
            if not await protocol.wait(timeout):
                raise httpcore.ReadTimeout("")
        if protocol.buffer:
            data = bytes(protocol.buffer[:max_bytes])
            del protocol.buffer[:max_bytes]
            if protocol.reading_paused and len(protocol.buffer) <= READ_LIMIT // 2:
                protocol.reading_paused = False
                self._transport.resume_reading()
            return data
        if protocol.error is not None:
            raise _failure(httpcore.ReadError, protocol.error)
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.error is not None:
            raise _failure(httpcore.WriteError, protocol.error)
        self._transport.write(buffer)
        while protocol.writing_paused and not protocol.lost:
            if not await protocol.wait(timeout):
                raise httpcore.WriteTimeout("")
        if protocol.error is not None:
            raise _failure(httpcore.WriteError, protocol.error)

    async def aclose(self) -> None:
        if self._transport is self._raw:
            self._raw.close()
        else:  # no TLS close_notify (as httpx's anyio stream does): the raw socket just closes
            self._transport.abort()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(self._raw, self._protocol, ssl_context, server_hostname=server_hostname)
        except TimeoutError as exc:
            self._raw.abort()
            raise httpcore.ConnectTimeout(exc) from exc
        except (OSError, EOFError) as exc:  # ssl.SSLError is an OSError
            self._raw.abort()
            raise httpcore.ConnectError(exc) from exc
        if tls is None:
            raise httpcore.ConnectError("TLS handshake failed")
        assert isinstance(tls, asyncio.Transport)
        self._transport = self._protocol.transport = tls
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # an idle connection with data or EOF waiting: the server closed it
            return bool(self._protocol.buffer) or self._protocol.eof or self._protocol.lost
        names = {"ssl_object": "ssl_object", "client_addr": "sockname", "server_addr": "peername",
                 "socket": "socket"}
        return self._transport.get_extra_info(names[info]) if info in names else None
