"""The fetcher's transport on plain asyncio: TLS, idle connections the server closed, proxies."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.fetch import Fetcher
from monitor.sources.base import Request
from monitor.transport import AsyncioTransport, connect_tcp
from tests.support.fetching import failure, fetch
from tests.support.rawserver import RawServer, scripted
from tests.support.server import FixtureServer, Reply, Seen

TLS = Path(__file__).parent / "fixtures" / "tls"
"""A self-signed certificate for 127.0.0.1 and localhost, valid until 2126, and its key."""


@pytest.fixture
def tls_server() -> Iterator[FixtureServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
    server = FixtureServer()
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    server.base = server.base.replace("http://", "https://")
    with server:
        yield server


async def test_https_with_a_trusted_certificate_keeps_its_connection(
    tls_server: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "cert.pem"))
    connections = []  # the server runs one thread per connection

    def answer(seen: Seen) -> Reply:
        connections.append(threading.get_ident())
        return Reply(200, b"<rss/>" * 50_000)

    tls_server.routes["/feed"] = answer
    async with Fetcher(timeout=5) as fetcher:
        first = await fetcher.fetch(Request(tls_server.url("/feed")))
        second = await fetcher.fetch(Request(tls_server.url("/feed")))
    assert first.response is not None and first.response.body == b"<rss/>" * 50_000
    assert second.response is not None and second.response.body == first.response.body
    assert len(connections) == 2 and len(set(connections)) == 1


async def test_https_with_an_untrusted_certificate_is_refused(tls_server: FixtureServer) -> None:
    tls_server.routes["/feed"] = Reply(200, b"<rss/>")
    error = await failure(tls_server.url("/feed"))
    assert str(error).startswith("cannot connect ([SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    assert tls_server.requests_to("/feed") == []


async def test_an_idle_connection_the_server_closed_reads_as_expired() -> None:
    """The pool drops an idle connection whose stream is readable: the server hung up."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    stream = await connect_tcp("127.0.0.1", listener.getsockname()[1], timeout=5)
    try:
        await stream.write(b"ping", timeout=5)
        while not accepted:
            await asyncio.sleep(0.01)
        assert accepted[0].recv(4) == b"ping"
        assert stream.readable() is False
        accepted[0].sendall(b"pong")
        assert await stream.read(100, timeout=5) == b"pong"
        assert stream.readable() is False
        accepted[0].close()
        async with asyncio.timeout(5):
            while not stream.readable():
                await asyncio.sleep(0.01)
        assert await stream.read(100, timeout=5) == b""
    finally:
        stream.close()
        listener.close()


async def test_a_proxy_named_by_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    with FixtureServer() as proxy:
        proxy.routes["/feed"] = Reply(200, b"via the proxy")
        monkeypatch.setenv("HTTP_PROXY", proxy.base)
        monkeypatch.setenv("NO_PROXY", "")
        fetched = await fetch("http://feeds.example.invalid/feed")
    assert fetched.response is not None and fetched.response.body == b"via the proxy"
    assert proxy.requests_to("/feed")[0].headers["host"] == "feeds.example.invalid"


async def test_a_request_to_a_closed_port_says_connection_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    error = await failure(f"http://127.0.0.1:{port}/feed")
    assert str(error) == "connection refused"


async def test_a_tick_over_more_hosts_than_slots_keeps_one_connection_per_host_slot() -> None:
    """Polls round-robin over 20 hosts with 16 global slots: connections are kept and reused, not
    reopened for nearly every request (the pool kept only as many connections as there were slots)."""
    connections: set[str] = set()  # the servers run one thread per connection, named with a counter

    def answer(seen: Seen) -> Reply:
        connections.add(threading.current_thread().name)
        return Reply(200, b"<rss/>")

    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(FixtureServer()) for _ in range(20)]
        for server in servers:
            server.routes["/feed"] = answer
        async with Fetcher(timeout=5, concurrency=16, per_host=2) as fetcher:
            for _round in range(3):
                await asyncio.gather(*(fetcher.fetch(Request(s.url("/feed"))) for s in servers))
    assert len(connections) <= 2 * len(servers)


def scripted_server(answers: list[bytes]) -> RawServer:
    return RawServer(scripted(answers))


async def fetch_twice(url: str) -> list[bytes]:
    async with Fetcher(timeout=5) as fetcher:
        got = [await fetcher.fetch(Request(url)) for _ in range(2)]
    return [f.response.body if f.response else b"" for f in got]


async def test_a_chunked_body_is_read_whole_and_its_connection_kept() -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n<rss\r\n3\r\n/>\n\r\n0\r\n\r\n"
    server = scripted_server([chunked, chunked])
    try:
        assert await fetch_twice(server.url + "/feed") == [b"<rss/>\n", b"<rss/>\n"]
        assert server.accepted == 1
    finally:
        server.close()


async def test_a_connection_the_server_says_it_closes_is_not_used_again() -> None:
    closing = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\n<rss/>"
    server = scripted_server([closing])
    try:
        assert await fetch_twice(server.url + "/feed") == [b"<rss/>", b"<rss/>"]
        assert server.accepted == 2
    finally:
        server.close()


async def test_a_body_cut_short_is_a_protocol_error() -> None:
    server = scripted_server([b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n<rss/>"])
    try:
        error = await failure(server.url + "/feed")
    finally:
        server.close()
    assert str(error).startswith("server broke the HTTP protocol (peer closed connection without sending complete")


async def test_the_transport_keeps_at_most_its_number_of_idle_connections() -> None:
    """Round-robin over three hosts: all three kept when three may be, the oldest closed when two may."""
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<rss/>"
    for kept, connections in ((3, 3), (2, 6)):
        servers = [scripted_server([ok] * 2) for _ in range(3)]
        try:
            async with httpx.AsyncClient(transport=AsyncioTransport(kept=kept)) as client:
                for _round in range(2):
                    for server in servers:
                        assert (await client.get(server.url + "/feed")).content == b"<rss/>"
            assert sum(server.accepted for server in servers) == connections
        finally:
            for server in servers:
                server.close()


async def test_a_body_longer_than_its_content_length_is_an_invalid_request(server: FixtureServer) -> None:
    server.routes["/api"] = Reply(200, b"{}")
    async with httpx.AsyncClient(transport=AsyncioTransport(kept=1)) as client:
        with pytest.raises(httpx.LocalProtocolError):
            await client.post(server.url("/api"), content=b"0123456789", headers={"Content-Length": "4"})


async def test_an_informational_response_before_the_answer_is_passed_over() -> None:
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
    server = scripted_server([hints + b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<rss/>"])
    try:
        fetched = await fetch(server.url + "/feed")
    finally:
        server.close()
    assert fetched.status == 200 and fetched.response is not None and fetched.response.body == b"<rss/>"


async def test_a_tls_handshake_that_never_comes_is_a_connect_timeout() -> None:
    server = scripted_server([b"never sent"])  # waits for a request head; a TLS hello is none
    try:
        error = await failure(server.url.replace("http://", "https://"), stall_timeout=0.3)
    finally:
        server.close()
    assert str(error) == "connect timed out after 0.3 s"
