"""A tiny loopback server: each feed serves the items whose time has come, as RSS 2.0."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from monitor.demo.stream import ITEMS, Item

MAX_ITEMS = 50  # a feed shows its newest items, like a real one


def rss(feed: str, items: Sequence[Item], started: datetime, base: str, speed: float = 1.0) -> bytes:
    """The RSS document of `feed` holding `items`, published when they were served (at `speed`)."""
    entries = []
    for n, item in enumerate(items):
        when = format_datetime(started + timedelta(seconds=item.at / speed))
        guid = f"{base}/{feed}/{int(item.at * 10)}-{n}"
        entries.append(
            "<item>"
            f"<title>{escape(item.title)}</title>"
            f"<link>{escape(guid)}</link><guid>{escape(guid)}</guid>"
            f"<dc:creator>{escape(item.author)}</dc:creator>"
            f"<description>{escape(item.text)}</description>"
            f"<pubDate>{when}</pubDate>"
            "</item>"
        )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>demo {escape(feed)}</title><link>{escape(base)}/{escape(feed)}</link>"
        f"<description>monitor demo feed</description>{''.join(reversed(entries))}</channel></rss>"
    )
    return body.encode("utf-8")


def due(feed: str, elapsed: float) -> list[Item]:
    """The feed's items whose time has come, oldest first, at most MAX_ITEMS of the newest."""
    return [i for i in ITEMS if i.feed == feed and i.at <= elapsed][-MAX_ITEMS:]


class DemoServer:
    """Serves /FEED.xml on 127.0.0.1 (a free port). `speed` > 1 plays the stream faster."""

    def __init__(self, *, speed: float = 1.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.started = datetime.now(UTC)
        self._t0 = monotonic()
        self._monotonic = monotonic
        self.speed = speed
        demo = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                feed = self.path.strip("/").removesuffix(".xml")
                if not any(i.feed == feed for i in ITEMS):
                    self.send_error(404)
                    return
                body = rss(feed, due(feed, demo.elapsed()), demo.started, demo.base, demo.speed)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="demo-server", daemon=True)

    def elapsed(self) -> float:
        return (self._monotonic() - self._t0) * self.speed

    def url(self, feed: str) -> str:
        return f"{self.base}/{feed}.xml"

    def __enter__(self) -> DemoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
