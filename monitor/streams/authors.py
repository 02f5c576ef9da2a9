"""Names for the authors of a stream's matched posts, looked up beside the stream and cached.

A Jetstream frame names its author by DID only. Looking up every author would cost a request per
frame; only the posts that matched a topic are looked up, in batches, by a task of its own, so the
stream is never held up. The batch being stored waits a moment for names still on their way, and
a post whose name did not come in time keeps its DID.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace

from cachetools import TTLCache

from monitor.fetch import Fetched
from monitor.pollerrors import PollError
from monitor.sources.base import AuthorLookup, Request
from storage.types import Post

log = logging.getLogger("monitor.streams")

CACHED = 50_000
CACHED_FOR = 6 * 3600.0
"""Seconds a name is kept: handles change rarely, and the stream says when one did (`forget`)."""


class Authors:
    def __init__(self, lookup: AuthorLookup, options: Mapping[str, str],
                 fetch: Callable[[Request], Awaitable[Fetched]]) -> None:
        self.lookup = lookup
        self.options = options
        self._fetch = fetch
        self._names: TTLCache[str, str] = TTLCache(CACHED, CACHED_FOR)
        self._asked: dict[str, asyncio.Future[None]] = {}
        self._queue: list[str] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def want(self, ids: Iterable[str]) -> None:
        """Look these up soon, unless they are known or asked already."""
        for key in ids:
            if key not in self._names and key not in self._asked:
                self._asked[key] = asyncio.get_running_loop().create_future()
                self._queue.append(key)
        if self._queue:
            self._wake.set()
            if self._task is None:
                self._task = asyncio.create_task(self._run(), name="stream authors")

    def forget(self, key: str) -> None:
        """The account changed its handle: look it up again next time."""
        self._names.pop(key, None)

    async def named(self, posts: list[Post], wait: float) -> list[Post]:
        """`posts` with each author id replaced by its name, waiting at most `wait` seconds for
        names still being looked up."""
        self.want(p.author for p in posts)
        pending = [future for p in posts if (future := self._asked.get(p.author)) is not None]
        if pending:
            await asyncio.wait(pending, timeout=wait)
        return [replace(p, author=name) if (name := self._names.get(p.author)) else p for p in posts]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[: self.lookup.at_once], self._queue[self.lookup.at_once :]
                names = await self._ask(batch)
                for key in batch:
                    if key in names:
                        self._names[key] = names[key]
                    future = self._asked.pop(key, None)
                    if future is not None and not future.done():
                        future.set_result(None)

    async def _ask(self, batch: list[str]) -> dict[str, str]:
        """What the API says of `batch`; nothing when it fails (they are asked again when they next post)."""
        try:
            fetched = await self._fetch(self.lookup.request(self.options, batch))
        except PollError as e:
            log.debug("author lookup failed: %s", e)
            return {}
        return self.lookup.parse(fetched.response) if fetched.response is not None else {}
