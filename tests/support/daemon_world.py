"""A Daemon driven over a real socket with a fake clock: tick, then wait for the polls it started.

Below the fixture, the social APIs played by small fakes on the loopback server: each honours the
real API's paging parameters over a Timeline the test grows between polls.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import Config, parse
from monitor.daemon import Daemon
from monitor.fetch import Fetcher
from storage.store import Store, open_store
from storage.types import FeedState
from tests.support.feeds import T0, feeds_toml, rss
from tests.support.server import FixtureServer, Reply, Seen


@dataclass
class World:
    daemon: Daemon
    store: Store
    server: FixtureServer
    now: list[datetime]
    config_path: Path

    def advance(self, seconds: float) -> None:
        self.now[0] += timedelta(seconds=seconds)

    async def poll_due(self) -> None:
        await self.daemon.tick()
        await asyncio.gather(*self.daemon.in_flight.values())

    def state(self, name: str) -> FeedState:
        return self.store.feed_state(name)


MakeWorld = Callable[..., World]


@pytest.fixture
async def world(tmp_path: Path, server: FixtureServer) -> AsyncIterator[MakeWorld]:
    """make({name: route}) for rss feeds on the server, or make(toml=TEXT) for any feeds.toml."""
    opened: list[tuple[Daemon, Store, Fetcher]] = []

    def make(feeds: dict[str, str] | None = None, *, toml: str | None = None, start: datetime = T0) -> World:
        path = tmp_path / "feeds.toml"
        path.write_text(toml if toml is not None else feeds_toml(
            {name: server.url(route) for name, route in (feeds or {}).items()}))
        config: Config = parse(path.read_text(), path, environ={})
        store = open_store(config.storage_url)
        now = [start]
        fetcher = Fetcher(timeout=1.0, max_bytes=64 * 1024, clock=lambda: now[0])
        daemon = Daemon(config, store, fetcher, clock=lambda: now[0])
        opened.append((daemon, store, fetcher))
        return World(daemon, store, server, now, path)

    yield make
    for daemon, store, fetcher in opened:
        await daemon.drain()
        await fetcher.aclose()
        store.close()


# --- a timeline of items for the fake social APIs below ----------------------------------------------

X_TOKEN = "xtok-5ecret-bearer-0042"
BSKY_PASSWORD = "bsky-app-pa55word-7"
JSON = {"Content-Type": "application/json"}
ORIGIN = T0 - timedelta(days=1)
"""Item n of a timeline was published n minutes after ORIGIN (every item predates the first poll)."""
X_BASE_ID = 1_790_000_000_000_000_000  # snowflake-sized ids: compared as numbers, not strings


def when(n: int) -> datetime:
    return ORIGIN + timedelta(minutes=n)


def iso(n: int) -> str:
    return when(n).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def epoch(n: int) -> int:
    return int(when(n).timestamp())


def say(n: int) -> str:
    return f"Volcano note {n}"


def arg(seen: Seen, name: str, default: str = "") -> str:
    return seen.query.get(name, [default])[-1]


@dataclass
class Timeline:
    """Items 1..size, newest last; `grow` publishes more between polls (ids are never reused)."""

    size: int
    items: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.items = list(range(1, self.size + 1))

    def grow(self, more: int) -> None:
        self.items += range(self.size + 1, self.size + 1 + more)
        self.size += more

    def newest_first(self) -> list[int]:
        return sorted(self.items, reverse=True)


# --- fake APIs: each answers the parameters the real one documents ------------------------------------


def mastodon_api(base: str, line: Timeline) -> Callable[[Seen], Reply]:
    def status(n: int) -> dict[str, object]:
        return {"id": str(n), "created_at": iso(n), "url": f"https://m.example/@ann/{n}", "language": "en",
                "content": f"<p>{say(n)}</p>", "account": {"acct": "ann", "display_name": "Ann"}}

    def reply(seen: Seen) -> Reply:
        limit = int(arg(seen, "limit", "20"))
        older_than, since = arg(seen, "max_id"), int(arg(seen, "since_id", "0"))
        ids = [n for n in line.newest_first() if (not older_than or n < int(older_than)) and n > since]
        if arg(seen, "min_id"):  # min_id: the page just above it, still newest first
            ids = sorted(n for n in ids if n > int(arg(seen, "min_id")))[:limit][::-1]
        page = ids[:limit]
        headers = dict(JSON)
        if page:
            headers["Link"] = (f'<{base}{seen.path}?max_id={page[-1]}>; rel="next", '
                               f'<{base}{seen.path}?min_id={page[0]}>; rel="prev"')
        return Reply(200, json.dumps([status(n) for n in page]).encode(), headers)

    return reply


def bluesky_feed_api(line: Timeline) -> Callable[[Seen], Reply]:
    def item(n: int) -> dict[str, object]:
        post = {"uri": f"at://did:plc:ann/app.bsky.feed.post/{n}", "indexedAt": iso(n),
                "author": {"handle": "ann.example", "displayName": "Ann"},
                "record": {"$type": "app.bsky.feed.post", "text": say(n), "createdAt": iso(n)}}
        return {"post": post}

    def reply(seen: Seen) -> Reply:
        limit = int(arg(seen, "limit", "50"))
        ids = line.newest_first()
        if arg(seen, "cursor"):
            ids = [n for n in ids if n < int(arg(seen, "cursor"))]
        page = ids[:limit]
        body: dict[str, object] = {"feed": [item(n) for n in page]}
        if len(ids) > limit:
            body["cursor"] = str(page[-1])
        return Reply(200, json.dumps(body).encode(), JSON)

    return reply


def reddit_api(line: Timeline) -> Callable[[Seen], Reply]:
    def thing(n: int) -> dict[str, object]:
        return {"kind": "t3", "data": {"name": f"t3_{n}", "created_utc": epoch(n), "title": say(n),
                                       "permalink": f"/r/volcanoes/comments/{n}/note/", "author": "ann",
                                       "selftext": "", "url": f"https://www.reddit.com/r/volcanoes/comments/{n}/"}}

    def reply(seen: Seen) -> Reply:
        limit = int(arg(seen, "limit", "25"))
        ids = line.newest_first()
        if before := arg(seen, "before"):  # the items just newer than the anchor, if it still exists
            anchor = int(before.removeprefix("t3_"))
            ids = sorted(n for n in ids if n > anchor)[:limit][::-1] if anchor in line.items else []
        elif after := arg(seen, "after"):
            ids = [n for n in ids if n < int(after.removeprefix("t3_"))]
        page = ids[:limit]
        more = len(ids) > limit and not arg(seen, "before")
        data = {"children": [thing(n) for n in page], "after": f"t3_{page[-1]}" if more else None, "before": None}
        return Reply(200, json.dumps({"kind": "Listing", "data": data}).encode(), JSON)

    return reply


def hackernews_api(line: Timeline) -> Callable[[Seen], Reply]:
    def hit(n: int) -> dict[str, object]:
        return {"objectID": str(n), "created_at_i": epoch(n), "created_at": iso(n), "title": say(n),
                "author": "ann", "url": f"https://news.example/{n}", "_tags": ["story"]}

    def reply(seen: Seen) -> Reply:
        per_page, page = int(arg(seen, "hitsPerPage", "20")), int(arg(seen, "page", "0"))
        bound = arg(seen, "numericFilters").removeprefix("created_at_i>")
        ids = [n for n in line.newest_first() if not bound or epoch(n) > int(bound)]
        pages = -(-len(ids) // per_page)
        hits = [hit(n) for n in ids[page * per_page:(page + 1) * per_page]]
        body = {"hits": hits, "page": page, "nbPages": pages, "hitsPerPage": per_page, "nbHits": len(ids)}
        return Reply(200, json.dumps(body).encode(), JSON)

    return reply


def x_api(line: Timeline) -> Callable[[Seen], Reply]:
    def tweet(n: int) -> dict[str, object]:
        return {"id": str(X_BASE_ID + n), "author_id": "7", "created_at": iso(n), "lang": "en", "text": say(n)}

    def reply(seen: Seen) -> Reply:
        if seen.headers.get("authorization") != f"Bearer {X_TOKEN}":
            return Reply(401, b'{"title": "Unauthorized", "status": 401}', JSON)
        limit, offset = int(arg(seen, "max_results", "10")), int(arg(seen, "next_token", "0") or 0)
        since = int(arg(seen, "since_id", "0") or 0)
        ids = [n for n in line.newest_first() if X_BASE_ID + n > since]
        page = ids[offset:offset + limit]
        if not page:
            return Reply(200, b'{"meta": {"result_count": 0}}', JSON)
        meta: dict[str, object] = {"newest_id": str(X_BASE_ID + page[0]), "oldest_id": str(X_BASE_ID + page[-1]),
                                   "result_count": len(page)}
        if len(ids) > offset + limit:
            meta["next_token"] = str(offset + limit)
        users = [{"id": "7", "name": "Bob", "username": "bob"}]
        body = {"data": [tweet(n) for n in page], "includes": {"users": users}, "meta": meta}
        return Reply(200, json.dumps(body).encode(), JSON)

    return reply


def rss_api(line: Timeline) -> Callable[[Seen], Reply]:
    def reply(seen: Seen) -> Reply:
        etag = f'"v{len(line.items)}"'
        if seen.headers.get("if-none-match") == etag:
            return Reply(304, b"", {"ETag": etag})
        items = [(f"r{n}", say(n)) for n in line.newest_first()]
        return Reply(200, rss(items, start=ORIGIN), {"ETag": etag, "Content-Type": "application/rss+xml"})

    return reply


def jwt(name: str) -> str:
    """A token with no readable expiry: the client uses it until the server refuses it."""
    return f"eyJhbGciOiJub25lIn0.{name}.sig"


@dataclass
class BlueskyLogin:
    """createSession hands out access-1, access-2, ... and refreshSession access-r1, ...; searchPosts
    accepts only the newest token, and answers a token in `expired` with `refusal` (Bluesky's 400
    ExpiredToken by default); refreshSession refuses a refresh token in `expired` the same way."""

    logins: int = 0
    refreshes: int = 0
    current: str = ""
    expired: set[str] = field(default_factory=set)
    line: Timeline = field(default_factory=lambda: Timeline(3))
    refusal: tuple[int, bytes] = (400, b'{"error": "ExpiredToken", "message": "Token has expired"}')

    def login(self, seen: Seen) -> Reply:
        body = json.loads(seen.body or b"{}")
        if body != {"identifier": "ann.example", "password": BSKY_PASSWORD}:
            return Reply(401, b'{"error": "AuthenticationRequired", "message": "Invalid identifier or password"}', JSON)
        self.logins += 1
        self.current = jwt(f"access-{self.logins}")
        tokens = {"accessJwt": self.current, "refreshJwt": jwt(f"refresh-{self.logins}"),
                  "handle": "ann.example", "did": "did:plc:ann"}
        return Reply(200, json.dumps(tokens).encode(), JSON)

    def refresh(self, seen: Seen) -> Reply:
        token = seen.headers.get("authorization", "").removeprefix("Bearer ")
        if token in self.expired or ".refresh-" not in token:
            return Reply(self.refusal[0], self.refusal[1], JSON)
        self.refreshes += 1
        self.current = jwt(f"access-r{self.refreshes}")
        tokens = {"accessJwt": self.current, "refreshJwt": token, "handle": "ann.example", "did": "did:plc:ann"}
        return Reply(200, json.dumps(tokens).encode(), JSON)

    def search(self, seen: Seen) -> Reply:
        token = seen.headers.get("authorization", "").removeprefix("Bearer ")
        if token in self.expired:
            return Reply(self.refusal[0], self.refusal[1], JSON)
        if token != self.current:
            return Reply(401, b'{"error": "AuthenticationRequired"}', JSON)
        since = arg(seen, "since")
        views = [{"uri": f"at://did:plc:ann/app.bsky.feed.post/{n}", "indexedAt": iso(n),
                  "author": {"handle": "ann.example"}, "record": {"text": say(n), "createdAt": iso(n)}}
                 for n in self.line.newest_first() if not since or iso(n) > since]
        return Reply(200, json.dumps({"posts": views}).encode(), JSON)


LOGIN_PATH = "/xrpc/com.atproto.server.createSession"
SEARCH_PATH = "/xrpc/app.bsky.feed.searchPosts"
REFRESH_PATH = "/xrpc/com.atproto.server.refreshSession"
