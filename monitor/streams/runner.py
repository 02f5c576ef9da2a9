"""The stream tasks: one per streamed feed, started, replaced and stopped as the feeds say.

Each stream is three tasks. The reader connects, reads frames, matches each post against the
topics at once and keeps only what matched (in the backlog); it reconnects with backoff and
jitter, from where it stands, when the connection fails, drops or goes quiet. The committer hands
what waits to the daemon's pipeline through its single writer, with the feed's state (the cursor
among it) in the same transaction, so a stored cursor never runs ahead of a stored post. The
reporter writes the stream's counts and rates for `monitor status` every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from monitor.clock import Clock
from monitor.config import Feed
from monitor.feedstate import after_stream_batch, after_stream_failure
from monitor.fetch import Fetcher
from monitor.parsing import PolledPages
from monitor.pollerrors import FetchError, InternalError, NotConfigured, PollError
from monitor.schedule import reconnect_delay
from monitor.sources import source_for
from monitor.sources.base import PollContext, Request
from monitor.streams import wire
from monitor.streams.authors import Authors
from monitor.streams.backlog import Backlog, Waiting
from monitor.streams.meter import Meter
from storage.store import Store
from storage.types import FeedState, Post

if TYPE_CHECKING:  # the pipeline's text models load when it is first built, not with the daemon
    from monitor.pipeline import Pipeline
    from monitor.processed import Processed

log = logging.getLogger("monitor.streams")
T = TypeVar("T")


class Writer(Protocol):
    """The daemon's single writer: runs `fn` in its one database thread."""

    async def __call__(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T: ...


@dataclass(frozen=True)
class Lent:
    """What the daemon lends its streams: the same store, client, clock, writer and pipeline as its polls."""

    store: Store
    fetcher: Fetcher
    clock: Clock
    write: Writer
    pipeline: Callable[[], Pipeline]
    """The pipeline as of now (a reload of the topics replaces it)."""
    fetch_pages: Callable[[Feed, FeedState, datetime], Awaitable[PolledPages]]
    """A poll's fetch and parse, for what a gap in a stream missed."""
    secrets: Callable[[Feed], dict[str, str]]


@dataclass(frozen=True)
class Settings:
    backlog: int = 10_000
    """Matched posts that may wait for the store before the stream is no longer read."""
    batch: int = 1_000
    """Posts stored in one transaction at most."""
    cursor_every: float = 5.0
    """Seconds: while nothing matches, the cursor is still stored this often."""
    status_every: float = 2.0
    author_wait: float = 0.5
    """Seconds a batch waits for its authors' names before it is stored without them."""
    idle: float | None = None
    """Seconds without a frame before reconnecting; None: the kind's own."""
    rng: random.Random = field(default_factory=random.Random)


class StreamRunner:
    """The daemon's streams: `sync` them with the configured feeds, `close` them when it stops."""

    def __init__(self, lent: Lent, settings: Settings | None = None) -> None:
        self.lent = lent
        self.settings = settings or Settings()
        self.streams: dict[str, Stream] = {}
        self._retiring: set[asyncio.Task[None]] = set()

    def sync(self, feeds: Iterable[Feed]) -> None:
        """Run exactly these streamed feeds: start new ones, restart changed ones, stop the rest."""
        wanted = {feed.name: feed for feed in feeds}
        for name, stream in list(self.streams.items()):
            if wanted.get(name) != stream.feed:
                self._retire(self.streams.pop(name))
        for name, feed in wanted.items():
            if name not in self.streams:
                self.streams[name] = Stream(feed, self.lent, self.settings)
                self.streams[name].task.add_done_callback(_report_end)

    async def close(self) -> None:
        """Stop reading every stream, store what matched, and return."""
        for stream in self.streams.values():
            self._retire(stream)
        self.streams.clear()
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

    def _retire(self, stream: Stream) -> None:
        stream.stop()
        self._retiring.add(stream.task)
        stream.task.add_done_callback(self._retiring.discard)


def _report_end(task: asyncio.Task[None]) -> None:
    """A stream's task ends when it is stopped or cannot be read as configured; anything else is a bug."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("%s stopped: %s: %s", task.get_name(), type(error).__name__, error, exc_info=error)


class Stream:
    def __init__(self, feed: Feed, lent: Lent, settings: Settings) -> None:
        live = source_for(feed.type).TYPE.live
        assert live is not None, f"{feed.type} is not a streamed kind"
        self.feed, self.live, self.lent, self.settings = feed, live, lent, settings
        self.backlog = Backlog(settings.backlog)
        self.meter = Meter(feed.name)
        self.state = FeedState(feed.name)
        self.authors = Authors(live.authors, feed.options, lent.fetcher.fetch) if live.authors else None
        self._wake = asyncio.Event()  # something to store: the committer's bell
        self._room = asyncio.Event()  # the committer took from a full backlog: the reader's bell
        self._error: PollError | None = None  # for the committer to record
        self._stored_position = ""
        self._stored_seen = 0
        self._closing = False
        self._reader: asyncio.Task[None] | None = None
        self.task = asyncio.create_task(self._run(), name=f"stream {feed.name}")

    def stop(self) -> None:
        """Stop reading; the task then stores what waits and ends."""
        self._closing = True
        if self._reader is not None:
            self._reader.cancel()

    @property
    def idle(self) -> float:
        return self.settings.idle or self.live.idle

    async def _run(self) -> None:
        self.state = await self.lent.write(self.lent.store.feed_state, self.feed.name)
        self.backlog.position = self._stored_position = self.state.cursor.get(self.live.cursor_key, "")
        committer = asyncio.create_task(self._commit_forever())
        reporter = asyncio.create_task(self._report_forever())
        self._reader = asyncio.create_task(self._read_forever())
        if self._closing:
            self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        self._closing = True
        self._wake.set()
        await committer
        reporter.cancel()
        self.meter.disconnected()
        await self._report()
        if self.authors is not None:
            await self.authors.close()

    # --- the reader -------------------------------------------------------------------------------

    async def _read_forever(self) -> None:
        failures = 0
        while True:
            frames_before = self.meter.frames
            try:
                await self._connection()
                error: PollError = FetchError("the server ended the stream")
            except NotConfigured as e:
                self._fail(e)
                log.warning("stream %s: %s (fix the configuration; tried again when the daemon next starts)",
                            self.feed.name, e)
                return
            except PollError as e:
                error = e
            except Exception as e:  # a bug on one hostile stream must not stop the daemon
                log.debug("stream %s: unexpected error", self.feed.name, exc_info=True)
                error = InternalError.wrapping(e)
            finally:
                self.meter.disconnected()
            read = self.meter.frames > frames_before
            failures = 0 if read else failures + 1
            if not read:  # a connection that worked for a while and dropped is no failure of the feed
                self._fail(error)
            delay = reconnect_delay(failures, permanent=error.permanent, retry_after=self._seconds_until(error),
                                    rng=self.settings.rng)
            log.log(logging.INFO if read else logging.WARNING, "stream %s: %s (connecting again in %.1f s)",
                    self.feed.name, error, delay)
            await asyncio.sleep(delay)

    async def _connection(self) -> None:
        """One connection, from connecting to its end; PollError however it fails."""
        ctx = self._context()
        request = self.live.connect(ctx)
        async with self._open(request) as frames:
            self.meter.connected(self.lent.clock())
            log.info("stream %s: connected%s", self.feed.name,
                     f" (from {self.live.cursor_key} {self.backlog.position})" if self.backlog.position else "")
            if self.live.catch_up and self.backlog.position:
                await self._catch_up(ctx)
            await self._consume(frames, ctx)

    def _open(self, request: Request) -> AbstractAsyncContextManager[wire.Frames]:
        if self.live.transport == "websocket":
            return wire.websocket(request, max_frame=self.live.max_frame, idle=self.idle, clock=self.lent.clock)
        return wire.event_stream(self.lent.fetcher, request, max_frame=self.live.max_frame, idle=self.idle)

    async def _consume(self, frames: wire.Frames, ctx: PollContext) -> None:
        """The hot loop: every frame is read and counted; a post is matched before anything else."""
        read, meter, backlog = self.live.read, self.meter, self.backlog
        async for data, event in frames:
            meter.frames += 1
            if data is None:
                meter.oversize += 1
                continue
            try:
                frame = read(ctx, data, event)
            except Exception:  # the source promises not to raise; a bug must not end the stream
                log.debug("stream %s: frame not read", self.feed.name, exc_info=True)
                meter.malformed += 1
                continue
            if frame.position:
                backlog.read(frame.position)
                meter.last_sent = frame.at
            if frame.post is not None:
                meter.posts += 1
                if self._keep(frame.post) and backlog.full:
                    await self._wait_for_room()
            elif frame.kind == "malformed":
                meter.malformed += 1
            elif frame.kind == "identity" and self.authors is not None:
                self.authors.forget(frame.actor)

    def _keep(self, post: Post) -> bool:
        """Keep `post` when it matches a topic; whether it did."""
        if not self.lent.pipeline().topics.match(post):
            return False
        self.meter.matched += 1
        self.backlog.add(post)
        if self.authors is not None:
            self.authors.want((post.author,))
        self._wake.set()
        return True

    async def _wait_for_room(self) -> None:
        log.warning("stream %s: %d matched posts wait for the store; reading paused", self.feed.name,
                    len(self.backlog))
        while self.backlog.full:
            self._room.clear()
            await self._room.wait()

    async def _catch_up(self, ctx: PollContext) -> None:
        """What the stream missed while it was away, once, through the kind's REST API."""
        state = replace(self.state, cursor=dict(ctx.cursor))
        try:
            pages = await self.lent.fetch_pages(self.feed, state, self.lent.clock())
        except PollError as e:
            log.warning("stream %s: could not fetch what the gap missed: %s", self.feed.name, e)
            return
        for post in pages.posts:
            self.meter.posts += 1
            self._keep(post)
        self.backlog.read(pages.polled.cursor.get(self.live.cursor_key, ""))
        log.info("stream %s: %d posts since the gap fetched", self.feed.name, len(pages.posts))

    def _context(self) -> PollContext:
        cursor = dict(self.state.cursor)
        if self.backlog.position:
            cursor[self.live.cursor_key] = self.backlog.position
        return PollContext(self.feed.name, self.feed.options, cursor=cursor, secrets=self.lent.secrets(self.feed),
                           now=self.lent.clock())

    def _fail(self, error: PollError) -> None:
        self._error = error
        self._wake.set()

    def _seconds_until(self, error: PollError) -> float | None:
        if error.retry_at is None:
            return None
        return (error.retry_at - self.lent.clock()).total_seconds()

    # --- the committer ----------------------------------------------------------------------------

    async def _commit_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.cursor_every):
                    await self._wake.wait()
            self._wake.clear()
            stored = await self._commit()
            if self.backlog and stored:
                self._wake.set()  # more than one batch waits: go on at once
            elif self._closing:
                return

    async def _commit(self) -> bool:
        """Store what waits with the feed's state; whether it was stored (a failed write puts it back)."""
        taken, position = self.backlog.take(self.settings.batch)
        self._room.set()
        seen = self.meter.posts - self._stored_seen
        error, self._error = self._error, None
        moved = bool(taken) or position != self._stored_position or seen > 0
        if not moved and error is None:
            return True
        posts = [w.post for w in taken]
        if self.authors is not None and posts:
            posts = await self.authors.named(posts, self.settings.author_wait)
        now = self.lent.clock()
        state = self.state
        if moved:
            cursor = {**state.cursor, self.live.cursor_key: position} if position else state.cursor
            state = after_stream_batch(state, cursor=cursor, seen=seen, now=now)
        if error is not None:
            state = after_stream_failure(state, error, feed=self.feed, now=now, secrets=self.lent.secrets(self.feed))
        try:
            _, self.state = await self.lent.write(self._store, posts, state, now)
        except Exception as e:  # a full disk: keep the posts and try again, never drop them
            log.warning("stream %s: could not store %d posts: %s", self.feed.name, len(posts), e)
            self._put_back(taken, error)
            await asyncio.sleep(1.0)
            return False
        self._stored_position, self._stored_seen = position, self._stored_seen + seen
        return True

    def _put_back(self, taken: list[Waiting], error: PollError | None) -> None:
        self.backlog.put_back(taken)
        self._error = self._error or error

    def _store(self, posts: list[Post], state: FeedState, now: datetime) -> tuple[Processed, FeedState]:
        """In the writer's thread: the posts through the pipeline with the state; the state as stored."""
        done = self.lent.pipeline().process(posts, now=now, feed=state)
        return done, self.lent.store.feed_state(self.feed.name)

    # --- the reporter -----------------------------------------------------------------------------

    async def _report_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.status_every)
            await self._report()

    async def _report(self) -> None:
        loop = asyncio.get_running_loop()
        status = self.meter.status(self.lent.clock(), loop.time(), backlog=len(self.backlog), full=self.backlog.full)
        try:
            await self.lent.write(self.lent.store.save_streams, [status])
        except Exception as e:
            log.debug("stream %s: status not stored: %s", self.feed.name, e)
