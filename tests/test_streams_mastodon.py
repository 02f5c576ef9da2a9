"""mastodon-stream over real server-sent events: a local server streams the recorded public timeline
as `update` events (with deletes, edits, heartbeats, malformed and oversize events), drops the
connection, and serves what was posted during the gap only through the REST timeline."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from monitor.sources.mastodon_stream import MAX_EVENT
from tests.support.server import FixtureServer, Reply, Seen
from tests.support.streams import stream_world, until

_ = stream_world  # the fixture
TOKEN = "mst-t0ken-5ecret"
STREAM = "/api/v1/streaming/public"
TIMELINE = "/api/v1/timelines/public"


def feeds(server: FixtureServer) -> str:
    return f"""
[[topics]]
name = "odd"
keywords = ["editor", "plane", "ham"]

[[feeds]]
name = "masto-live"
type = "mastodon-stream"
timeline = "public"
base_url = "{server.base}"
token_env = "MASTO_TOKEN"
"""


def event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


class Mastodon:
    """The streaming API and the REST timeline of one server, over statuses posted in turn."""

    def __init__(self, statuses: list[dict[str, Any]], plan: list[list[int]]) -> None:
        self.statuses = statuses  # oldest first
        self.plan = plan  # per connection: the statuses it streams, by index
        self.posted = 0  # how many statuses exist as far as the REST API knows
        self.connections: list[Seen] = []
        self.released = threading.Event()

    def stream(self, seen: Seen) -> Reply:
        self.connections.append(seen)
        number = len(self.connections) - 1
        chunks = self._events(self.plan[number]) if number < len(self.plan) else self._quiet()
        return Reply(200, headers={"Content-Type": "text/event-stream"}, chunks=chunks)

    def _events(self, indices: list[int]) -> Iterator[bytes]:
        yield b":)\n"
        for i in indices:
            self.posted = max(self.posted, i + 1)
            yield event("update", json.dumps(self.statuses[i]))
            yield event("delete", "1") + b":thump\n" + event("status.update", json.dumps(self.statuses[i]))
        yield event("update", "{not json") + event("update", "x" * (MAX_EVENT + 1))
        if indices is self.plan[-1]:
            yield from self._quiet()
        else:  # the connection drops; what is posted meanwhile reaches the REST API only
            self.posted = self.plan[self.plan.index(indices) + 1][0]

    def _quiet(self) -> Iterator[bytes]:
        self.released.wait(30)
        yield b""

    def timeline(self, seen: Seen) -> Reply:
        since = int(seen.query.get("since_id", ["0"])[0])
        newer = [s for s in self.statuses[: self.posted] if int(s["id"]) > since]
        return Reply(200, json.dumps(newer[::-1]).encode(), {"Content-Type": "application/json"})


async def test_matched_statuses_are_stored_and_a_gap_is_filled_once_through_the_rest_api(
    stream_world, server: FixtureServer, shared: Path, monkeypatch
) -> None:
    monkeypatch.setenv("MASTO_TOKEN", TOKEN)
    statuses = sorted(json.loads((shared / "data/api/mastodon/timeline_public.json").read_text()),
                      key=lambda s: int(s["id"]))
    assert len(statuses) == 8
    # The first connection streams 0-2 and drops; 3-4 are posted while it is away; the next streams 5-7.
    masto = Mastodon(statuses, plan=[[0, 1, 2], [5, 6, 7]])
    server.routes[STREAM] = masto.stream
    server.routes[TIMELINE] = masto.timeline
    w = stream_world(feeds(server))
    await w.start()
    stream = w.stream("masto-live")
    try:
        await until(lambda: w.store.feed_state("masto-live").cursor.get("since_id") == statuses[-1]["id"],
                    "the newest status id stored")
        await until(lambda: stream.meter.oversize == 2, "the last connection's events read")
    finally:
        masto.released.set()
    await w.stop()

    wanted = {s["id"] for s in statuses if any(k in s["content"].lower() for k in ("editor", "plane", " ham"))}
    assert len(wanted) == 3
    assert set(w.stored()) == wanted, "each matching status once: streamed, or fetched for the gap"
    assert [s for s in statuses[3:5] if s["id"] in wanted], "the gap held a match"
    gap = server.requests_to(TIMELINE)
    assert len(gap) == 1 and gap[0].query["since_id"] == [statuses[2]["id"]]
    assert all(c.headers["authorization"] == f"Bearer {TOKEN}" for c in [*masto.connections, *gap])
    assert stream.meter.malformed == 2 and stream.meter.oversize == 2
    state = w.store.feed_state("masto-live")
    assert state.last_error is None and TOKEN not in json.dumps(state.cursor)
