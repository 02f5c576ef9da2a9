"""A Jetstream on 127.0.0.1 for tests and benchmarks, and frames in Jetstream's documented shape.

The server replays its frames to each connection from the connection's `cursor` (time_us, as the
real one does), records what every connection asked, and follows a plan: close connection N after
so many frames (a dropped connection), or keep it open and silent once the frames run out.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve

COLLECTION = "app.bsky.feed.post"


# --- frames ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One frame the server holds: its time_us (where a cursor replays from) and its bytes or text."""

    time_us: int
    data: str | bytes
    once: bool = False
    """Sent to the first connection that reaches it only (a fault in transit, not in the archive)."""


def post_frame(view: dict[str, Any], time_us: int) -> Sent:
    """A post view (as the Bluesky API returns one) as the Jetstream commit that created it."""
    did, _, rkey = view["uri"].removeprefix("at://").partition(f"/{COLLECTION}/")
    commit = {"rev": f"r{time_us}", "operation": "create", "collection": COLLECTION, "rkey": rkey,
              "record": view["record"], "cid": view.get("cid", "bafy")}
    return Sent(time_us, json.dumps({"did": did, "time_us": time_us, "kind": "commit", "commit": commit}))


def delete_frame(uri: str, time_us: int) -> Sent:
    did, _, rkey = uri.removeprefix("at://").partition(f"/{COLLECTION}/")
    commit = {"rev": f"r{time_us}", "operation": "delete", "collection": COLLECTION, "rkey": rkey}
    return Sent(time_us, json.dumps({"did": did, "time_us": time_us, "kind": "commit", "commit": commit}))


def like_frame(did: str, subject: str, time_us: int) -> Sent:
    record = {"$type": "app.bsky.feed.like", "createdAt": "2025-05-19T17:10:09.561Z",
              "subject": {"cid": "bafy", "uri": subject}}
    commit = {"rev": f"r{time_us}", "operation": "create", "collection": "app.bsky.feed.like",
              "rkey": f"l{time_us}", "record": record, "cid": "bafy"}
    return Sent(time_us, json.dumps({"did": did, "time_us": time_us, "kind": "commit", "commit": commit}))


def identity_frame(did: str, handle: str, time_us: int) -> Sent:
    identity = {"did": did, "handle": handle, "seq": time_us, "time": "2025-05-19T17:10:09.561Z"}
    return Sent(time_us, json.dumps({"did": did, "time_us": time_us, "kind": "identity", "identity": identity}))


def account_frame(did: str, time_us: int) -> Sent:
    account = {"active": True, "did": did, "seq": time_us, "time": "2025-05-19T17:10:09.561Z"}
    return Sent(time_us, json.dumps({"did": did, "time_us": time_us, "kind": "account", "account": account}))


MALFORMED: tuple[str | bytes, ...] = (
    "{not json",
    "[1, 2, 3]",
    json.dumps({"kind": "commit"}),  # no did, no time_us
    json.dumps({"did": "did:plc:x", "time_us": "soon", "kind": "commit"}),
    json.dumps({"did": "did:plc:x", "time_us": 1, "kind": "commit",
                "commit": {"operation": "create", "collection": COLLECTION, "rkey": "k", "record": "text"}}),
    b"\xff\xfe binary, not UTF-8",
)


def many(views: list[dict[str, Any]], count: int, start_us: int, step_us: int) -> list[Sent]:
    """`count` post frames cycling through `views`, each a post of its own (the record key numbered)."""
    frames = []
    for n in range(count):
        view = views[n % len(views)]
        frames.append(post_frame({**view, "uri": f"{view['uri']}n{n}"}, start_us + n * step_us))
    return frames


def recorded_views(shared: Path) -> list[dict[str, Any]]:
    """Every post view in the recorded Bluesky API answers, once each, oldest first."""
    folder = shared / "data/api/bluesky"
    views: list[dict[str, Any]] = []
    feed = json.loads((folder / "getAuthorFeed.json").read_text())
    views += [item["post"] for item in feed["feed"]]
    views += json.loads((folder / "searchPosts.json").read_text())["posts"]
    views += json.loads((folder / "getPosts.json").read_text())["posts"]
    views.append(json.loads((folder / "getPostThread.json").read_text())["thread"]["post"])
    unique = {v["uri"]: v for v in views if "text" in v.get("record", {})}
    return sorted(unique.values(), key=lambda v: v["record"]["createdAt"])


# --- the server -----------------------------------------------------------------------------------


@dataclass
class Connection:
    query: dict[str, str]
    sent: int = 0


@dataclass
class Jetstream:
    """Serves `frames` (oldest first) on ws://127.0.0.1:PORT/subscribe. `drops[n]`: close the n-th
    connection after that many frames. `honour_size`: skip frames over the client's
    maxMessageSizeBytes, as the real server does (off: a server that sends them anyway)."""

    frames: list[Sent]
    drops: dict[int, int] = field(default_factory=dict)
    honour_size: bool = True
    pace: float = 0.0
    """Seconds between frames (0: as fast as the connection takes them)."""
    connections: list[Connection] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._more: asyncio.Event | None = None
        self._sent_once: set[int] = set()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._serve(),), daemon=True)

    def add(self, frames: Iterable[Sent]) -> None:
        """More frames, for connections made from now on (and those still sending)."""
        self._loop.call_soon_threadsafe(self._extend, list(frames))

    def _extend(self, frames: list[Sent]) -> None:
        self.frames.extend(frames)
        assert self._more is not None
        self._more.set()
        self._more = asyncio.Event()

    def __enter__(self) -> Jetstream:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _serve(self) -> None:
        self._stop, self._more = asyncio.Event(), asyncio.Event()
        async with serve(self._connection, "127.0.0.1", 0, max_size=None, compression=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            self.url = f"ws://127.0.0.1:{port}"
            self._ready.set()
            await self._stop.wait()

    async def _connection(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        query = {k: v[-1] for k, v in parse_qs(urlsplit(ws.request.path).query).items()}
        connection = Connection(query)
        self.connections.append(connection)
        number = len(self.connections) - 1
        cursor = int(query.get("cursor", "0"))
        limit = int(query.get("maxMessageSizeBytes", "0")) if self.honour_size else 0
        index = 0
        while True:
            while index < len(self.frames):
                frame = self.frames[index]
                index += 1
                if frame.time_us < cursor or (limit and len(frame.data) > limit) or index in self._sent_once:
                    continue
                if frame.once:
                    self._sent_once.add(index)
                if number in self.drops and connection.sent >= self.drops[number]:
                    await ws.close(1011, "going away")
                    return
                await ws.send(frame.data)
                connection.sent += 1
                if self.pace:
                    await asyncio.sleep(self.pace)
            assert self._more is not None  # the frames ran out: quiet until more come or the client leaves
            more, closed = asyncio.ensure_future(self._more.wait()), asyncio.ensure_future(ws.wait_closed())
            await asyncio.wait({more, closed}, return_when=asyncio.FIRST_COMPLETED)
            more.cancel()
            if closed.done():
                return
            closed.cancel()
