"""Many RSS feeds on several local servers (one host:port each), logging every request with its time.

Each feed grows by one item at every request it answers (its newest 20 items are served), so every
item a worker ever fetched is known: `served` — what a test checks the store against.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tests.support.feeds import rss
from tests.support.server import FixtureServer, Reply, Seen

WINDOW = 20
RSS = {"Content-Type": "application/rss+xml"}


@dataclass
class Farm:
    servers: list[FixtureServer]
    start: datetime
    texts: Callable[[str, int], str] = lambda feed, n: f"Volcano note {n} from {feed}"
    latency: tuple[float, float] = (0.0, 0.0)
    """Seconds each answer waits, drawn uniformly: a remote server's think time."""
    hold: dict[str, threading.Event] = field(default_factory=dict)
    """Feeds whose answers wait until their event is set (a poll caught in the middle)."""
    requests: dict[str, list[float]] = field(default_factory=dict)
    """Per feed, the monotonic time of every request it got."""
    refuse_first: dict[str, Reply] = field(default_factory=dict)
    """Feeds whose first request gets this answer instead (a 429 with Retry-After)."""
    busiest: dict[str, int] = field(default_factory=dict)
    """Per server (host:port), the most requests it was answering at once."""
    _busy: dict[str, int] = field(default_factory=dict)
    fixed: dict[str, int] = field(default_factory=dict)
    """Feeds that serve items 1..N whatever the requests (a stream the test moves on by hand)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    urls: dict[str, str] = field(default_factory=dict)

    def add(self, names: list[str]) -> dict[str, str]:
        """Feeds spread round-robin over the servers; name → URL."""
        for i, name in enumerate(names):
            server = self.servers[i % len(self.servers)]
            path = f"/{name}.xml"
            server.routes[path] = self._route(name, server.base)
            self.requests[name] = []
            self.urls[name] = server.url(path)
        return {name: self.urls[name] for name in names}

    def _route(self, name: str, host: str) -> Callable[[Seen], Reply]:
        def reply(seen: Seen) -> Reply:
            with self._lock:
                self._busy[host] = self._busy.get(host, 0) + 1
                self.busiest[host] = max(self.busiest.get(host, 0), self._busy[host])
            try:
                return answer(seen)
            finally:
                with self._lock:
                    self._busy[host] -= 1

        def answer(_: Seen) -> Reply:
            with self._lock:
                self.requests[name].append(time.monotonic())
                count = len(self.requests[name])
                refusal = self.refuse_first.pop(name, None)
            if refusal is not None:
                return refusal
            if name in self.hold:
                self.hold[name].wait(timeout=60)
            low, high = self.latency
            if high:  # the farm's answer time (a slow server is what it stands in for), not a test's wait
                time.sleep(random.uniform(low, high))
            newest = self.fixed.get(name, count)
            first = max(1, newest - WINDOW + 1)
            items = [(f"{name}-{n}", self.texts(name, n)) for n in range(first, newest + 1)]
            # rss() dates its items a minute apart from `start`: item n is always dated minute n
            return Reply(200, rss(items, start=self.start + timedelta(minutes=first)), RSS)

        return reply

    def served(self) -> set[tuple[str, str]]:
        """(feed, guid) of every item any answer held so far."""
        with self._lock:
            return {(name, f"{name}-{n}") for name, times in self.requests.items()
                    for n in range(1, self.fixed.get(name, len(times)) + 1) if times}


@contextmanager
def farm(hosts: int, start: datetime) -> Iterator[Farm]:
    with ExitStack() as stack:
        servers = [stack.enter_context(FixtureServer()) for _ in range(hosts)]
        yield Farm(servers, start)
