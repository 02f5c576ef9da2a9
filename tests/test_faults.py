"""A real `monitor run` under every fault at once keeps polling the good feeds, stays small, and
records each bad feed's error and next check.

The faults are served from raw sockets on 127.0.0.1, one port per fault (the fetcher allows two
requests at once per host:port, so a stall on one "host" must not hold a slot the good feeds need):
500s, 429 and 503 with Retry-After, a reset connection, a stalled read, a body dripping a byte a
second, a 2 GB body (declared, and one that just keeps coming), a gzip bomb, an XML entity bomb,
an external entity naming /etc/passwd, invalid UTF-8, a redirect loop, a redirect to file:, and an
HTML page where a feed should be.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.support.cli import monitor, start_daemon, stored_keys, wait_for
from tests.support.feeds import feeds_toml, rss
from tests.support.server import FixtureServer, Reply, Seen

GOOD = 3
TWO_GB = 2 * 2**30
RSS_LIMIT = 400 * 2**20
"""A generous ceiling: the interpreter with its libraries is ~150 MB; a held 2 GB body or an
inflated gzip bomb would be far above it."""
PASSWD = Path("/etc/passwd").read_text().splitlines()[0] if Path("/etc/passwd").exists() else "root:x:0:0"
RSS_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"

Handler = Callable[[socket.socket, str, threading.Event], None]


# --- the fault server: raw sockets, one port per fault ---------------------------------------------


class FaultServer:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def add(self, name: str, handler: Handler) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.2)
        self._sockets.append(listener)
        threading.Thread(target=self._accept, args=(name, listener, handler), daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/{name}"

    def count(self, name: str) -> int:
        with self._lock:
            return self.hits.get(name, 0)

    def _accept(self, name: str, listener: socket.socket, handler: Handler) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(name, conn, handler), daemon=True).start()

    def _serve(self, name: str, conn: socket.socket, handler: Handler) -> None:
        with conn:
            try:
                conn.settimeout(30)
                while True:  # keep-alive: one request after another on the same connection
                    path = _read_request(conn)
                    if path is None:
                        return
                    with self._lock:
                        self.hits[name] = self.hits.get(name, 0) + 1
                    handler(conn, path, self.stop)
            except OSError:
                return  # the client gave up (as it should): nothing to do

    def close(self) -> None:
        self.stop.set()
        for s in self._sockets:
            s.close()


def _read_request(conn: socket.socket) -> str | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk or len(data) > 65536:
            return None
        data += chunk
    return data.split(b" ", 2)[1].decode("latin-1")


def reply(status: int, headers: dict[str, str], body: bytes = b"") -> Handler:
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"

    def handle(conn: socket.socket, _path: str, _stop: threading.Event) -> None:
        conn.sendall(head.encode() + body)

    return handle


def reset(conn: socket.socket, _path: str, _stop: threading.Event) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close → RST
    raise OSError("reset")


def stall(conn: socket.socket, _path: str, stop: threading.Event) -> None:
    conn.sendall(RSS_HEAD + b"Content-Length: 5000\r\n\r\n<?xml version='1.0'?><rss")
    stop.wait(300)
    raise OSError("done stalling")


def drip(conn: socket.socket, _path: str, stop: threading.Event) -> None:
    conn.sendall(RSS_HEAD + b"Content-Length: 100000\r\n\r\n")
    while not stop.wait(1.0):
        conn.sendall(b"<")
    raise OSError("done dripping")


def endless(declared: bool) -> Handler:
    """2 GB of body, made a piece at a time and never held: declared up front, or just streaming."""
    piece = b"<!-- lava -->" * 5000

    def handle(conn: socket.socket, _path: str, stop: threading.Event) -> None:
        length = f"Content-Length: {TWO_GB}\r\n" if declared else "Connection: close\r\n"
        conn.sendall(RSS_HEAD + length.encode() + b"\r\n<?xml version='1.0'?><rss version='2.0'><channel>")
        sent = 0
        while sent < TWO_GB and not stop.is_set():
            conn.sendall(piece)
            sent += len(piece)
        raise OSError("sent it all")

    return handle


def gzip_bomb(inflated: int = 512 * 2**20) -> bytes:
    """`inflated` bytes of one XML comment, gzipped to well under a megabyte."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [squeeze.compress(b"<?xml version='1.0'?><rss version='2.0'><channel><!--")]
    block = b"A" * 2**20
    parts += [squeeze.compress(block) for _ in range(inflated // len(block))]
    parts.append(squeeze.compress(b"--></channel></rss>") + squeeze.flush())
    return b"".join(parts)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "volcano lol">'
    + b"".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'.encode() for i in range(1, 10))
    + b']><rss version="2.0"><channel><title>laughs</title><item><guid>bomb</guid>'
    b"<title>volcano &lol9;</title><description>&lol9;</description></item></channel></rss>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
    b'<!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote;]><rss version="2.0"><channel><title>x</title>'
    b"<item><guid>xxe</guid><title>volcano &xxe;</title><description>volcano &xxe; here</description>"
    b"</item></channel></rss>"
)
BAD_UTF8 = rss([("utf8-1", "Volcano caf\u00e9 ok")]).replace(b"caf\xc3\xa9", b"caf\xff\xfe\xc3(")
HTML_PAGE = b"<!doctype html><html><head><title>Volcano news</title></head><body><p>Volcano!</p></body></html>"


def faults(server: FaultServer) -> dict[str, str]:
    later = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    loop: dict[str, str] = {}

    def looping(conn: socket.socket, path: str, _stop: threading.Event) -> None:
        target = "/loop-b" if path.endswith("a") else "/loop-a"
        reply(302, {"Location": loop["base"] + target})(conn, path, _stop)

    urls = {
        "http-500": server.add("http-500", reply(500, {}, b"oops")),
        "http-429": server.add("http-429", reply(429, {"Retry-After": "3600"}, b"slow down")),
        "http-503": server.add("http-503", reply(503, {"Retry-After": later}, b"maintenance")),
        "reset": server.add("reset", reset),
        "stall": server.add("stall", stall),
        "drip": server.add("drip", drip),
        "huge-declared": server.add("huge-declared", endless(declared=True)),
        "huge-streamed": server.add("huge-streamed", endless(declared=False)),
        "gzip-bomb": server.add("gzip-bomb", reply(200, {"Content-Type": "application/rss+xml",
                                                          "Content-Encoding": "gzip"}, gzip_bomb())),
        "entity-bomb": server.add("entity-bomb", reply(200, {"Content-Type": "application/rss+xml"}, BILLION_LAUGHS)),
        "xxe": server.add("xxe", reply(200, {"Content-Type": "application/rss+xml"}, XXE)),
        "bad-utf8": server.add("bad-utf8", reply(200, {"Content-Type": "application/rss+xml; charset=utf-8"},
                                                 BAD_UTF8)),
        "redirect-loop": server.add("loop-a", looping),
        "redirect-file": server.add("redirect-file", reply(302, {"Location": "file:///etc/passwd"})),
        "html": server.add("html", reply(200, {"Content-Type": "text/html"}, HTML_PAGE)),
    }
    loop["base"] = urls["redirect-loop"].rsplit("/", 1)[0]
    return urls


MUST_FAIL = {"http-500", "http-429", "http-503", "reset", "stall", "drip", "huge-declared", "huge-streamed",
             "gzip-bomb", "redirect-loop", "redirect-file", "html"}
"""The rest (entity bomb, external entity, bad UTF-8) may parse into posts or fail: either is fine
as long as nothing expands, nothing is read from disk, and the daemon carries on."""


# --- the good feeds: each request adds an item; everything served is recorded -----------------------


class GoodFeeds:
    def __init__(self) -> None:
        self.served: set[str] = set()
        self.times: dict[int, list[float]] = {n: [] for n in range(GOOD)}
        self._lock = threading.Lock()

    def route(self, n: int) -> Callable[[Seen], Reply]:
        def answer(_: Seen) -> Reply:
            with self._lock:
                self.times[n].append(time.monotonic())
                items = [(f"good{n}-{i}", f"Volcano report {i} from good feed {n}") for i in range(len(self.times[n]))]
                self.served.update(guid for guid, _ in items)
            return Reply(200, rss(items), {"Content-Type": "application/rss+xml"})

        return answer

    def polls(self, n: int) -> int:
        with self._lock:
            return len(self.times[n])


class RssSampler:
    """The daemon's resident set size, read from /proc every 0.1 s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            try:
                status = Path(f"/proc/{self.pid}/status").read_text()
            except OSError:
                return
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    self.samples.append(int(line.split()[1]) * 1024)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer()
    yield server
    server.close()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_the_daemon_under_every_fault_at_once(tmp_path: Path, server: FixtureServer,
                                              fault_server: FaultServer) -> None:
    good = GoodFeeds()
    for n in range(GOOD):
        server.routes[f"/good{n}"] = good.route(n)
    urls = {f"good{n}": server.url(f"/good{n}") for n in range(GOOD)} | faults(fault_server)
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml(urls, interval="1s"))
    db = tmp_path / "monitor.db"

    daemon = start_daemon(config)
    sampler = RssSampler(daemon.pid)
    try:
        # Run until the slow faults have been holding their connections a good while.
        wait_for(lambda: all(good.polls(n) >= 3 for n in range(GOOD)), 120, "three polls of every good feed")
        started = [good.polls(n) for n in range(GOOD)]
        wait_for(lambda: fault_server.count("stall") >= 1 and fault_server.count("drip") >= 1, 120,
                 "the stall and drip feeds asked")
        wait_for(lambda: all(good.polls(n) >= started[n] + 12 for n in range(GOOD)), 120,
                 "twelve more polls of every good feed")
        during = status(config)
        assert daemon.poll() is None, "the daemon is still running"
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=120)
        sampler.stop()
    log = err.decode("utf-8", "replace")
    assert daemon.returncode == 0, log[-3000:]

    # On time: the good feeds never waited for a stalled or dripping neighbour (a 10 s read timeout).
    for n in range(GOOD):
        gaps = [b - a for a, b in zip(good.times[n], good.times[n][1:], strict=False)]
        assert max(gaps) < 8, f"good{n} waited {max(gaps):.1f} s between polls (interval 1 s)"

    assert sampler.samples and max(sampler.samples) < RSS_LIMIT, f"peak RSS {max(sampler.samples) / 2**20:.0f} MB"

    feeds = {f["name"]: f for f in during["feeds"]}
    for name in MUST_FAIL:
        if feeds[name]["last_poll"] is None:
            assert name in ("stall", "drip"), f"{name} was never polled"
            continue  # still in its first poll: shown as pending, with no error yet
        assert feeds[name]["health"] == "failing" and feeds[name]["last_error"], (name, feeds[name])
        assert feeds[name]["next_check"], f"{name} shows its next check"
    after = status(config)["feeds"]
    for f in after:
        assert f["next_check"], f"{f['name']} shows its next check"
        if f["name"] in MUST_FAIL:
            assert f["health"] == "failing" and f["last_error"], f
    errors = {f["name"]: f["last_error"] for f in after}
    assert "429" in errors["http-429"] and "503" in errors["http-503"]
    hour = datetime.now(UTC) + timedelta(minutes=50)
    for name in ("http-429", "http-503"):
        assert _when(feeds_of(after)[name]["next_check"]) > hour, f"{name}: Retry-After honoured"
        assert fault_server.count(name) == 1, f"{name} was asked once, then left alone"
    assert fault_server.count("http-500") >= 2, "a 500 is retried (with backoff)"

    # Nothing lost, nothing leaked.
    stored = {post_id for _source, post_id in stored_keys(db)}
    assert good.served <= stored, f"{len(good.served - stored)} served posts are missing"
    assert integrity(db) == ("ok",)
    for file in tmp_path.glob("monitor.db*"):
        assert PASSWD.encode() not in file.read_bytes(), f"/etc/passwd leaked into {file.name}"
        assert b"volcano lolvolcano lol" not in file.read_bytes(), "the entity bomb expanded"
    assert PASSWD not in log and PASSWD not in json.dumps(after)
    posts = json.loads(cli("posts", "--json", config=config))
    assert not [p for p in posts if PASSWD in p["text"] or len(p["text"]) > 100_000]


def cli(*argv: str, config: Path) -> str:
    """A reading command's stdout; it must succeed."""
    done = monitor(*argv, "--config", str(config), cwd=config.parent)
    assert done.returncode == 0, done.stderr
    return done.stdout


def status(config: Path) -> dict[str, list[dict[str, str]]]:
    return json.loads(cli("status", "--json", config=config))  # type: ignore[no-any-return]


def feeds_of(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {f["name"]: f for f in rows}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def integrity(db: Path) -> tuple[str]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()  # type: ignore[no-any-return]


# --- crashes: SIGKILL at random moments during heavy polling -----------------------------------------

KILLS = int(os.environ.get("MONITOR_FAULT_KILLS", "50"))
FEEDS = 12
FIRST = 30
WINDOW = 400  # wide enough that a post served to a killed poll is served again after restart


class SlidingFeeds:
    """A feed starts with FIRST items and each request adds one; a response holds the newest WINDOW.

    Everything ever served is recorded as (source, post_id), so the test can compare the database with it.
    """

    def __init__(self) -> None:
        self.served: set[tuple[str, str]] = set()
        self._counts = [0] * FEEDS
        self._lock = threading.Lock()

    def route(self, n: int) -> Callable[[Seen], Reply]:
        def answer(_: Seen) -> Reply:
            with self._lock:
                self._counts[n] += 1
                top = self._counts[n] + FIRST
                items = [(f"f{n}-{i}", f"Volcano update {i} from feed {n}") for i in range(max(0, top - WINDOW), top)]
                self.served.update((f"f{n}", guid) for guid, _ in items)
            return Reply(200, rss(items), {"Content-Type": "application/rss+xml"})

        return answer


def test_sigkill_at_random_moments_never_corrupts_loses_or_duplicates(tmp_path: Path, server: FixtureServer) -> None:
    feeds = SlidingFeeds()
    for n in range(FEEDS):
        server.routes[f"/f{n}"] = feeds.route(n)
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml({f"f{n}": server.url(f"/f{n}") for n in range(FEEDS)}, interval="1s"))
    db = tmp_path / "monitor.db"
    moments = random.Random(7)
    grew = 0
    for round_ in range(KILLS):
        requests, before = len(server.log), len(stored_keys(db)) if db.exists() else 0
        log_path = tmp_path / f"round{round_}.log"
        with log_path.open("wb") as log:
            daemon = start_daemon(config, stderr=log)
        wait_for(lambda r=requests, d=daemon: len(server.log) > r or d.poll() is not None,  # type: ignore[misc]
                 120, f"round {round_}: a request from the restarted daemon")
        assert daemon.poll() is None, log_path.read_text()[-2000:]
        time.sleep(moments.uniform(0, 1.0))  # the random moment of the kill, not a wait for a condition
        committed = set(stored_keys(db))
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()
        assert integrity(db) == ("ok",), f"round {round_}"
        assert set(stored_keys(db)) >= committed, f"round {round_}: committed posts vanished"
        grew += len(stored_keys(db)) > before
    assert grew >= KILLS // 2, "most rounds stored posts before their kill: the kills landed amid polling"

    once = monitor("run", "--once", "--config", str(config), cwd=tmp_path)
    assert once.returncode == 0, once.stderr[-500:]
    rows = stored_keys(db)
    assert len(rows) == len(set(rows)), "no post is stored twice"
    assert feeds.served <= set(rows), f"{len(feeds.served - set(rows))} served posts were lost"
    assert integrity(db) == ("ok",), "after the restart that caught up"
