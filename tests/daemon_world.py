"""A Daemon driven over a real socket with a fake clock: tick, then wait for the polls it started."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import Config, parse
from monitor.daemon import Daemon
from monitor.fetch import Fetcher
from storage.store import Store, open_store
from storage.types import FeedState
from tests.feeds import T0, feeds_toml
from tests.server import FixtureServer


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
