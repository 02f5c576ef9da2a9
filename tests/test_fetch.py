"""The fetcher against real servers on 127.0.0.1: validators, limits, redirects, faults, secrets."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from monitor.fetch import Fetcher, describe_transport_error
from monitor.pollerrors import FetchError
from monitor.sources.base import Request
from tests.support.fetching import failure, fetch
from tests.support.rawserver import RawServer
from tests.support.server import FixtureServer, Reply, Seen

SECRET = "s3cr3t-t0ken-value"


@pytest.fixture
def raw() -> Iterator[Callable[[Callable[[socket.socket, threading.Event], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(handle: Callable[[socket.socket, threading.Event], None]) -> RawServer:
        servers.append(RawServer(handle))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


# --- validators ------------------------------------------------------------------------------------


def conditional_feed(state: dict[str, bytes]) -> Callable[[Seen], Reply]:
    """Serves state["body"] with an ETag derived from it; answers 304 when the client has it."""

    def route(seen: Seen) -> Reply:
        etag = f'"{zlib.crc32(state["body"])}"'
        if seen.headers.get("if-none-match") == etag:
            return Reply(304, headers={"ETag": etag})
        return Reply(200, state["body"], {"ETag": etag, "Last-Modified": "Wed, 01 May 2024 10:00:00 GMT"})

    return route


async def test_304_is_a_success_with_nothing_to_parse_and_validators_kept(server: FixtureServer) -> None:
    state = {"body": b"<rss>one</rss>"}
    server.routes["/feed"] = conditional_feed(state)
    first = await fetch(server.url("/feed"))
    assert first.status == 200 and first.response is not None and first.response.body == b"<rss>one</rss>"
    assert first.validators.etag and first.validators.last_modified == "Wed, 01 May 2024 10:00:00 GMT"

    second = await fetch(server.url("/feed"), first.validators)
    assert (second.status, second.response, second.validators) == (304, None, first.validators)
    sent = server.requests_to("/feed")[1].headers
    assert sent["if-none-match"] == first.validators.etag
    assert sent["if-modified-since"] == "Wed, 01 May 2024 10:00:00 GMT"

    state["body"] = b"<rss>two</rss>"
    third = await fetch(server.url("/feed"), second.validators)
    assert third.response is not None and third.response.body == b"<rss>two</rss>"
    assert third.validators.etag != first.validators.etag
    assert third.validators.body_hash != first.validators.body_hash


async def test_an_unchanged_body_is_not_handed_back_even_when_the_server_ignores_validators(
    server: FixtureServer,
) -> None:
    server.routes["/feed"] = Reply(200, b"<rss>same</rss>")
    first = await fetch(server.url("/feed"))
    again = await fetch(server.url("/feed"), first.validators)
    assert (again.status, again.response) == (200, None)
    assert again.validators.body_hash == first.validators.body_hash


async def test_an_unconditional_request_sends_no_validators_and_always_returns_the_body(
    server: FixtureServer,
) -> None:
    server.routes["/api"] = Reply(200, b"{}", {"ETag": '"e"'})
    async with Fetcher(timeout=5) as fetcher:
        first = await fetcher.fetch(Request(server.url("/api"), conditional=False))
        again = await fetcher.fetch(Request(server.url("/api"), conditional=False), first.validators)
    assert again.response is not None and again.response.body == b"{}"
    assert "if-none-match" not in server.requests_to("/api")[1].headers


async def test_method_params_headers_and_json_are_sent_as_asked(server: FixtureServer) -> None:
    server.routes["/search"] = Reply(200, b"[]")
    request = Request(
        server.url("/search?lang=en"),
        params={"q": "gaza ceasefire"},
        headers={"X-Client": "tests"},
        method="POST",
        json={"limit": 5},
    )
    async with Fetcher(timeout=5) as fetcher:
        await fetcher.fetch(request)
    [seen] = server.requests_to("/search")
    assert seen.method == "POST"
    assert seen.query == {"lang": ["en"], "q": ["gaza ceasefire"]}
    assert seen.headers["x-client"] == "tests"
    assert json.loads(seen.body) == {"limit": 5}


async def test_user_agent_names_the_project(server: FixtureServer) -> None:
    server.routes["/feed"] = Reply(200, b"x")
    await fetch(server.url("/feed"))
    await fetch(server.url("/feed"), user_agent="custom-agent/1.0")
    agents = [seen.headers["user-agent"] for seen in server.requests_to("/feed")]
    assert agents[0].startswith("monitor/0.") and agents[1] == "custom-agent/1.0"


async def test_response_headers_are_lower_cased_and_final_url_is_given(server: FixtureServer) -> None:
    server.routes["/feed"] = Reply(200, b"x", {"Link": '<https://a/?p=2>; rel="next"', "X-Thing": "1"})
    fetched = await fetch(server.url("/feed"))
    assert fetched.response is not None
    assert fetched.response.headers["link"] == '<https://a/?p=2>; rel="next"'
    assert fetched.response.url == server.url("/feed")


# --- statuses, Retry-After, rate limits ------------------------------------------------------------


async def test_retry_after_seconds_on_429(server: FixtureServer) -> None:
    server.routes["/busy"] = Reply(429, b"slow down", {"Retry-After": "120"})
    before = datetime.now(UTC)
    error = await failure(server.url("/busy"))
    after = datetime.now(UTC)
    assert str(error) == "HTTP 429 Too Many Requests"
    assert error.status == 429 and not error.permanent
    assert error.retry_at is not None
    assert before + timedelta(seconds=120) <= error.retry_at <= after + timedelta(seconds=120)


async def test_retry_after_http_date_on_503(server: FixtureServer) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    server.routes["/down"] = Reply(503, b"", {"Retry-After": format_datetime(when, usegmt=True)})
    error = await failure(server.url("/down"))
    assert (str(error), error.status, error.retry_at) == ("HTTP 503 Service Unavailable", 503, when)


async def test_rate_limit_reset_headers_on_an_error_and_on_a_success(server: FixtureServer) -> None:
    reset = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=15)
    limited = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(reset.timestamp()))}
    server.routes["/limited"] = Reply(429, b"", limited)
    server.routes["/last-call"] = Reply(200, b"[]", limited)
    server.routes["/plenty"] = Reply(200, b"[]", {"x-rate-limit-remaining": "99", "x-rate-limit-reset": "1"})
    assert (await failure(server.url("/limited"))).retry_at == reset
    assert (await fetch(server.url("/last-call"))).retry_at == reset
    assert (await fetch(server.url("/plenty"))).retry_at is None


@pytest.mark.parametrize(
    ("status", "message", "permanent"),
    [
        (401, "HTTP 401 Unauthorized", True),
        (403, "HTTP 403 Forbidden", True),
        (404, "HTTP 404 Not Found", True),
        (410, "HTTP 410 Gone", True),
        (500, "HTTP 500 Internal Server Error", False),
        (502, "HTTP 502 Bad Gateway", False),
        (599, "HTTP 599 error", False),
    ],
)
async def test_error_statuses(server: FixtureServer, status: int, message: str, permanent: bool) -> None:
    server.routes["/x"] = Reply(status, b"<html>oops</html>")
    error = await failure(server.url("/x"))
    assert (str(error), error.status, error.permanent, error.retry_at) == (message, status, permanent, None)


async def test_the_servers_own_reason_phrase_never_reaches_the_message(raw: Callable[..., RawServer]) -> None:
    def evil(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 500 \x1b]0;pwned\x07\x1b[2J Evil\r\nContent-Length: 0\r\n\r\n")

    error = await failure(raw(evil).url + "/")
    assert str(error) == "HTTP 500 Internal Server Error"


# --- redirects -------------------------------------------------------------------------------------


def redirect(to: str, status: int = 302) -> Reply:
    return Reply(status, b"", {"Location": to})


async def test_redirects_are_followed_to_the_final_url(server: FixtureServer) -> None:
    server.routes["/old"] = redirect("/older", 301)
    server.routes["/older"] = redirect(server.url("/feed"), 308)
    server.routes["/feed"] = Reply(200, b"<rss/>")
    fetched = await fetch(server.url("/old"))
    assert fetched.response is not None
    assert (fetched.status, fetched.response.url, fetched.response.body) == (200, server.url("/feed"), b"<rss/>")


async def test_redirects_are_bounded(server: FixtureServer) -> None:
    for hop in range(6):
        server.routes[f"/{hop}"] = redirect(f"/{hop + 1}")
    server.routes["/6"] = Reply(200, b"end")
    assert (await fetch(server.url("/1"), max_redirects=5)).status == 200
    error = await failure(server.url("/0"), max_redirects=5)
    assert str(error) == "too many redirects (more than 5)"
    assert not server.requests_to("/6")[1:]  # the seventh hop was never asked for


async def test_a_redirect_loop_is_an_error(server: FixtureServer) -> None:
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect("/a")
    error = await failure(server.url("/a"), max_redirects=20)
    assert str(error) == f"redirect loop at {server.url('/a')}"
    assert len(server.log) == 2


@pytest.mark.parametrize("target", ["ftp://files.example.org/feed.xml", "file:///etc/passwd"])
async def test_a_redirect_to_a_non_http_scheme_is_an_error(server: FixtureServer, target: str) -> None:
    server.routes["/feed"] = redirect(target + "?token=abc")
    error = await failure(server.url("/feed"))
    assert str(error) == f"redirect to non-http URL {target}"


async def test_a_redirect_without_location_is_an_error(server: FixtureServer) -> None:
    server.routes["/feed"] = Reply(302, b"")
    assert str(await failure(server.url("/feed"))) == "HTTP 302 redirect without a Location header"


async def test_303_turns_a_post_into_a_get(server: FixtureServer) -> None:
    server.routes["/login"] = redirect("/home", 303)
    server.routes["/home"] = Reply(200, b"ok")
    async with Fetcher(timeout=5) as fetcher:
        await fetcher.fetch(Request(server.url("/login"), method="POST", json={"a": 1}))
    assert [(s.method, s.path, s.body) for s in server.log] == [
        ("POST", "/login", b'{"a":1}'),
        ("GET", "/home", b""),
    ]


async def test_credentials_do_not_follow_a_redirect_to_another_host(server: FixtureServer) -> None:
    with FixtureServer() as other:
        other.routes["/elsewhere"] = Reply(200, b"ok")
        server.routes["/same"] = redirect("/moved")
        server.routes["/moved"] = redirect(other.url("/elsewhere"))
        async with Fetcher(timeout=5) as fetcher:
            await fetcher.fetch(Request(server.url("/same"), headers={"Authorization": f"Bearer {SECRET}"}))
        assert server.requests_to("/moved")[0].headers["authorization"] == f"Bearer {SECRET}"
        assert "authorization" not in other.requests_to("/elsewhere")[0].headers


# --- size caps and compression ---------------------------------------------------------------------


async def test_a_declared_oversize_body_is_refused_before_reading_it(raw: Callable[..., RawServer]) -> None:
    def two_gigabytes(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % 2**31)
        block = b"\0" * 65536
        while not stop.is_set():
            conn.sendall(block)
            server.sent += len(block)

    server = raw(two_gigabytes)
    error = await failure(server.url + "/big", max_bytes=2**20)
    assert str(error) == "body larger than 1 MB"
    assert server.sent < 64 * 2**20


async def test_an_undeclared_endless_body_stops_at_the_cap(raw: Callable[..., RawServer]) -> None:
    def endless(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        block = b"x" * 65536
        while not stop.is_set():
            conn.sendall(block)
            server.sent += len(block)

    server = raw(endless)
    error = await failure(server.url + "/stream", max_bytes=2**20)
    assert str(error) == "body larger than 1 MB"
    assert server.sent < 64 * 2**20


async def test_a_body_at_the_cap_is_fine(server: FixtureServer) -> None:
    server.routes["/exact"] = Reply(200, b"y" * 2**20)
    fetched = await fetch(server.url("/exact"), max_bytes=2**20)
    assert fetched.response is not None and len(fetched.response.body) == 2**20


# --- network faults --------------------------------------------------------------------------------


def stall(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(30)


async def test_a_stalled_read_times_out(raw: Callable[..., RawServer]) -> None:
    error = await failure(raw(stall).url + "/", stall_timeout=0.3, timeout=10)
    assert str(error) == "read timed out after 0.3 s"
    assert error.status is None


async def test_a_body_dripping_a_byte_at_a_time_hits_the_total_deadline(raw: Callable[..., RawServer]) -> None:
    def drip(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while not stop.wait(0.02):
            conn.sendall(b"x")

    error = await failure(raw(drip).url + "/", stall_timeout=2, timeout=0.5)
    assert str(error) == "timed out after 0.5 s"


async def test_a_reset_connection_is_a_clean_one_line_error(raw: Callable[..., RawServer]) -> None:
    def reset(conn: socket.socket, stop: threading.Event) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    error = await failure(raw(reset).url + "/")
    assert str(error) in {
        "connection reset by peer",
        "server broke the HTTP protocol (Server disconnected without sending a response.)",
    }


async def test_a_refused_connection_is_a_clean_one_line_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert str(await failure(f"http://127.0.0.1:{port}/")) == "connection refused"


async def test_a_half_sent_body_is_an_error(raw: Callable[..., RawServer]) -> None:
    def truncated(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this much")

    error = await failure(raw(truncated).url + "/")
    assert str(error).startswith("server broke the HTTP protocol (")


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "file:///etc/passwd", "not a url", "http://"])
async def test_a_non_http_url_is_refused_without_a_request(url: str) -> None:
    error = await failure(url)
    assert str(error).startswith(("not an http(s) URL", "invalid URL"))


# --- secrets ---------------------------------------------------------------------------------------


async def test_secrets_never_reach_messages_or_logs(
    server: FixtureServer, raw: Callable[..., RawServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.routes["/err"] = Reply(500, SECRET.encode())
    server.routes["/ftp"] = redirect(f"ftp://user:{SECRET}@example.org/f?token={SECRET}")
    server.routes["/hop"] = redirect(f"/err?token={SECRET}")
    urls = [server.url("/err"), server.url("/ftp"), server.url("/hop"), raw(stall).url + "/"]
    headers = [{"Authorization": f"Bearer {SECRET}"}, {"Authorization": f"Bearer {SECRET}\r\nX-Evil: 1"}]
    messages = []
    async with Fetcher(timeout=5, stall_timeout=0.3) as fetcher:
        for url in urls:
            for header in headers:
                with pytest.raises(FetchError) as caught:
                    await fetcher.fetch(Request(url, headers=header, params={"access_token": SECRET}))
                messages.append(f"{caught.value} {caught.value!r} {caught.value.__cause__!r}")
    assert len(messages) == 8
    assert not [m for m in messages if SECRET in m]
    assert SECRET not in caplog.text


# --- concurrency -----------------------------------------------------------------------------------


class Gate:
    """Holds each request until as many are in flight as the limit allows, recording the peak.

    `target` is the limit under test: a request waits until `target` are in flight at once (fewer
    near the end, when fewer are left), so a correct limiter always reaches exactly `target`; each
    then stays 50 ms more, so a limiter that lets more through shows a higher peak.
    """

    def __init__(self, target: int, total: int) -> None:
        self.target, self.total = target, total
        self.in_flight = self.finished = self.peak = 0
        self.cond = threading.Condition()

    def route(self, seen: Seen) -> Reply:
        with self.cond:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.in_flight >= min(self.target, self.total - self.finished), 5)
            # Stay in flight a moment longer: time for a leaky limiter's extra requests to show up.
            self.cond.wait_for(lambda: self.in_flight > self.target, 0.05)
            self.in_flight -= 1
            self.finished += 1
            self.cond.notify_all()
        return Reply(200, b"ok")


async def test_at_most_two_requests_at_once_to_one_host(server: FixtureServer) -> None:
    with FixtureServer() as other:
        gates = Gate(target=2, total=8), Gate(target=2, total=8)
        server.routes["/feed"], other.routes["/feed"] = gates[0].route, gates[1].route
        async with Fetcher(timeout=10, per_host=2) as fetcher:
            urls = [server.url("/feed"), other.url("/feed")] * 8
            results = await asyncio.gather(*(fetcher.fetch(Request(url)) for url in urls))
    assert [r.status for r in results] == [200] * 16
    assert [gate.peak for gate in gates] == [2, 2]


async def test_the_global_limit_bounds_requests_across_hosts() -> None:
    gate = Gate(target=3, total=12)
    with FixtureServer() as a, FixtureServer() as b, FixtureServer() as c:
        for srv in (a, b, c):
            srv.routes["/feed"] = gate.route
        async with Fetcher(timeout=10, per_host=10, concurrency=3) as fetcher:
            urls = [srv.url("/feed") for srv in (a, b, c)] * 4
            await asyncio.gather(*(fetcher.fetch(Request(url)) for url in urls))
    assert gate.peak == 3


async def test_a_cancelled_fetch_gives_its_slots_back(server: FixtureServer, raw: Callable[..., RawServer]) -> None:
    stalled = raw(stall)
    server.routes["/feed"] = Reply(200, b"ok")
    async with Fetcher(timeout=30, per_host=1, concurrency=1) as fetcher:
        task = asyncio.create_task(fetcher.fetch(Request(stalled.url + "/")))
        while not stalled.accepted:  # wait until the request is on the wire, holding both slots
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await fetcher.fetch(Request(server.url("/feed")))).status == 200


async def test_a_mock_transport_can_stand_in_for_the_network() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"[]", headers={"ETag": '"m"'})

    async with Fetcher(transport=httpx.MockTransport(answer)) as fetcher:
        fetched = await fetcher.fetch(Request("https://api.example.org/v1/timeline"))
    assert fetched.response is not None and fetched.response.body == b"[]"
    assert fetched.validators.etag == '"m"'


def test_a_name_lookup_failure_reads_as_one_line() -> None:
    cause = socket.gaierror(-2, "Name or service not known")
    error = httpx.ConnectError("[Errno -2] Name or service not known")
    error.__cause__ = cause
    assert describe_transport_error(error, 10) == "host name not found"
