"""A daemon reading live streams from local servers: build it from a feeds.toml, start its streams,
wait for what a user would see, stop it."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monitor.clock import utc_now
from monitor.config import parse
from monitor.daemon import Daemon
from monitor.fetch import Fetcher
from monitor.streams.runner import Settings, Stream
from storage.store import Store, open_store
from tests.support.server import Reply, Seen

FAST = Settings(cursor_every=0.1, status_every=0.1, author_wait=5.0, rng=random.Random(7))
"""What the tests run with: state and status stored often; names from the local server awaited."""


@dataclass
class StreamWorld:
    daemon: Daemon
    store: Store
    config_path: Path

    def stream(self, name: str) -> Stream:
        return self.daemon.streams.streams[name]

    async def start(self) -> None:
        """The daemon's tick, which starts the streams (and polls what is due)."""
        await self.daemon.tick()

    async def stop(self) -> None:
        await self.daemon.drain()

    def stored(self) -> dict[str, Any]:
        """id → the stored post, for what `monitor posts` would list."""
        return {sp.post.id: sp.post for sp in self.store.posts()}


MakeWorld = Callable[..., StreamWorld]


@pytest.fixture
async def stream_world(tmp_path: Path) -> AsyncIterator[MakeWorld]:
    """make(TOML) → a daemon on a SQLite file under tmp_path with FAST stream settings."""
    opened: list[tuple[Daemon, Store, Fetcher]] = []

    def make(toml: str, *, settings: Settings = FAST, path: Path | None = None) -> StreamWorld:
        config_path = path or tmp_path / "feeds.toml"
        config_path.write_text(toml)
        config = parse(toml, config_path, environ={})
        store = open_store(config.storage_url)
        fetcher = Fetcher(timeout=5.0)
        daemon = Daemon(config, store, fetcher, clock=utc_now)
        daemon.streams.settings = settings
        opened.append((daemon, store, fetcher))
        return StreamWorld(daemon, store, config_path)

    yield make
    for daemon, store, fetcher in opened:
        await daemon.drain()
        await fetcher.aclose()
        store.close()


async def until(predicate: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    """Wait for `predicate` (checked every 20 ms), failing with `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")
        await asyncio.sleep(0.02)


def profiles_route(views: list[dict[str, Any]]) -> Callable[[Seen], Reply]:
    """app.bsky.actor.getProfiles over the authors of `views` (a DID it does not know is left out)."""
    authors = {v["author"]["did"]: v["author"] for v in views}

    def answer(seen: Seen) -> Reply:
        found = [authors[did] for did in seen.query.get("actors", []) if did in authors]
        return Reply(200, json.dumps({"profiles": found}).encode(), {"Content-Type": "application/json"})

    return answer
