"""The daemon: an APScheduler tick takes the due feeds and polls them with bounded concurrency."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from monitor.clock import Clock
from monitor.config import Config, ConfigError, Feed, Topic, load
from monitor.configchange import ConfigChange, changes
from monitor.feedstate import Polled, after_failure, after_success
from monitor.fetch import Fetcher
from monitor.output import short_time
from monitor.parsing import PageParser, PolledPages, Precomputed, joined
from monitor.pollerrors import InternalError, NotConfigured, PollError
from monitor.processed import Processed
from monitor.query.pushdown import search_text
from monitor.sdnotify import Notifier
from monitor.sender import AlertSender
from monitor.sources import is_live, source_for
from monitor.sources.base import PollContext, Request, Validators
from storage.store import Store
from storage.types import Batch, FeedState, Post

if TYPE_CHECKING:  # imported when first built: a poll that brings no post never loads the text models
    from monitor.pipeline import Pipeline
    from monitor.streams.runner import StreamRunner

log = logging.getLogger("monitor.daemon")

TICK_SECONDS = 1.0
HEARTBEAT_SECONDS = 5.0
ALERT_SECONDS = 2.0
MAX_PAGES = 5
GROUP_WAIT = 0.05
"""How long a poll that ends while others still fetch waits for them to store with it: a burst of
polls (a start, a tick's unchanged feeds) costs a few transactions, not one each. A SIGKILL in that
time loses nothing: neither the poll's posts nor its new state were stored, so the feed is polled again."""
NO_POST = Processed(fresh=0, stored=0)
T = TypeVar("T")


@dataclass
class Tally:
    """What this daemon's polls did: `run --once` ends by printing it."""

    polled: int = 0
    new_posts: int = 0
    new_matches: int = 0
    failing: set[str] = field(default_factory=set)
    streams_left_out: list[str] = field(default_factory=list)

    def count(self, name: str, *, failed: bool, done: Processed | None = None) -> None:
        self.polled += 1
        if done is not None:
            self.new_posts += done.fresh
            self.new_matches += done.stored
        if failed:
            self.failing.add(name)

    def line(self) -> str:
        failing = f"{len(self.failing)} failing ({', '.join(sorted(self.failing))})" if self.failing else "0 failing"
        line = f"polled {self.polled} feeds: {self.new_posts} new posts, {self.new_matches} new matches, {failing}"
        if self.streams_left_out:  # a user who configured a stream must not think --once read it
            line += f"; streams left out ({', '.join(sorted(self.streams_left_out))}): `monitor run` reads them"
        return line


class Daemon:
    """Polls feeds, hands their posts to the pipeline, records every feed's state."""

    def __init__(self, config: Config, store: Store, fetcher: Fetcher, clock: Clock,
                 notifier: Notifier | None = None, *, parser: PageParser | None = None):
        """`notifier`: how to tell systemd what the daemon does (`monitor run` passes one; tests and the
        dashboard's daemon need none). `parser`: where pages are parsed (`monitor run` may pass a
        forked one; by default a thread). The daemon closes it when it drains."""
        self.config = config
        self.notifier = notifier or Notifier(None)
        self._config_file = _signature(config.path)
        self._reload_asked = False
        self._jobs: set[asyncio.Task[object]] = set()
        """The scheduler's jobs running now (a tick, a heartbeat, an alert pass)."""
        self.store = store
        self.fetcher = fetcher
        self.clock = clock
        self.feeds = {f.name: f for f in config.feeds}
        self.topics = {t.name: t for t in config.topics}
        self.sessions: dict[str, Mapping[str, str]] = {}
        self.in_flight: dict[str, asyncio.Task[None]] = {}
        self.unconfigured: set[str] = set()
        """Feeds that cannot be polled as configured: not again in this process (the environment
        it read will not change); their stored state has no backoff, so the next start re-checks them."""
        self.tally = Tally()
        self._stopping = False
        # One thread does every database write, in order, so the event loop keeps fetching.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-writer")
        # Parsing a page (pure, over bytes) runs beside the event loop, which keeps fetching meanwhile.
        self._parser = parser or PageParser()
        self._pipeline: Pipeline | None = None
        self._building = threading.Lock()
        self._waiting: deque[Waiting] = deque()
        """Polls waiting for the writer, which stores all that wait when it comes to them together."""
        self._saving: asyncio.Future[None] | None = None
        self._fetching = 0
        """Polls fetching now: a state that no other poll's result can join is stored at once."""
        self.sender = self._sender(config)
        self._sending: asyncio.Task[None] | None = None
        store.sync_feeds(list(self.feeds), self.clock())

    @functools.cached_property
    def streams(self) -> StreamRunner:
        """Streamed feeds, read by long-lived tasks beside the tick through the same pipeline and
        writer (made by the first tick: `run --once` reads no stream)."""
        from monitor.streams.runner import Lent, StreamRunner

        return StreamRunner(Lent(self.store, self.fetcher, self.clock, self._story_write, lambda: self.pipeline,
                                 self._fetch, self._secrets))

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline, built on first use: `run --once` over unchanged feeds never loads its text
        models nor restores its state (the running daemon builds it at its start)."""
        with self._building:
            if self._pipeline is None:
                self._pipeline = _new_pipeline(self.store, self.config, self.clock())
            return self._pipeline

    @pipeline.setter
    def pipeline(self, pipeline: Pipeline) -> None:
        with self._building:
            self._pipeline = pipeline

    def _sender(self, config: Config) -> AlertSender | None:
        """The outbox's sender, each rule's channel checked first (ConfigError for a URL Apprise cannot use)."""
        if not config.alerts:
            return None
        from monitor.channels import UnsetChannel, channels

        by_rule = channels(config)
        for name, channel in by_rule.items():
            if isinstance(channel, UnsetChannel):
                log.warning("alert rule %s: %s is not set; its alerts wait in the outbox", name, channel.shown)
        return AlertSender(self.store, config.alerts, by_rule, self.clock, self._write)

    async def run_once(self) -> None:
        """Poll every feed once, whatever its schedule, and wait for all of them (streams are read
        only by the running daemon)."""
        self.tally.streams_left_out = [name for name, feed in self.feeds.items() if is_live(feed.type)]
        feeds = [feed for feed in self.feeds.values() if not is_live(feed.type)]
        states = await self._write(self._feed_states, [feed.name for feed in feeds])
        if any(state.last_poll is None for state in states.values()):  # a first poll brings posts:
            self._writer.submit(lambda: self.pipeline)  # build the pipeline while the feeds are fetched
        await asyncio.gather(*(self.poll(feed, states[feed.name]) for feed in feeds))
        await self.send_alerts()

    async def run_forever(self) -> None:
        """Tick until SIGINT/SIGTERM, then let the polls in flight finish."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, self.ask_reload)
        await self.run_until(stop)

    async def run_until(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set (the dashboard's `watch` and `demo` run the daemon this way)."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler  # `run --once` needs no scheduler

        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        scheduler.add_job(self._job(self.tick), "interval", seconds=TICK_SECONDS, max_instances=1, coalesce=True,
                          next_run_time=self.clock(), name="tick")
        scheduler.add_job(self._job(self.heartbeat), "interval", seconds=HEARTBEAT_SECONDS,
                          next_run_time=self.clock(), name="heartbeat")
        # Always: alert rules may come with a reload of feeds.toml (without a sender it returns at once).
        scheduler.add_job(self._job(self.send_alerts), "interval", seconds=ALERT_SECONDS, max_instances=1,
                          coalesce=True, next_run_time=self.clock(), name="alerts")
        scheduler.start()
        await self._story_write(lambda: self.pipeline)  # built before the first poll needs it
        log.info("monitor run: %d feeds, %d topics, store %s", len(self.feeds), len(self.config.topics),
                 self.store.shown)
        try:
            await stop.wait()
        finally:
            self._stopping = True
            self.notifier.stopping()
            scheduler.pause()  # no job starts from here on
            if self._jobs:  # a tick or heartbeat still waiting on the writer: it ends, not cancelled
                await asyncio.wait(self._jobs)
            scheduler.shutdown(wait=False)  # which cancels any job still running
            log.info("stopping: finishing %d polls in flight", len(self.in_flight))
            await self.drain()

    def _job(self, run: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """`run` as a scheduler job the stop waits for. APScheduler's shutdown cancels the jobs still
        running, and a tick or heartbeat waiting on the writer would end in a CancelledError traceback."""

        async def job() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._jobs.add(task)
            try:
                await run()
            finally:
                self._jobs.discard(task)

        return job

    async def tick(self) -> None:
        """Start a poll for every due feed that is not already being polled."""
        if self._stopping:
            return
        await self.reload_if_changed()
        pollable = [name for name, f in self.feeds.items() if name not in self.unconfigured and not is_live(f.type)]
        due = await self._due(pollable)
        if self._stopping:  # stopped while we asked: start nothing the drain would not wait for
            return
        self.streams.sync(self._streamed())
        starting = [name for name in due if name not in self.in_flight]
        states = await self._write(self._feed_states, starting) if starting else {}
        for name in starting:
            if name not in self.in_flight and name in self.feeds:
                task = asyncio.create_task(self.poll(self.feeds[name], states[name]))
                self.in_flight[name] = task
                task.add_done_callback(functools.partial(self._finished, name))
        self.notifier.tick(f"polling {len(self.feeds)} feeds for {len(self.config.topics)} topics")

    async def _due(self, pollable: list[str]) -> list[str]:
        """The feeds of `pollable` to poll now (a worker sharing PostgreSQL leases them instead)."""
        return await self._write(self.store.due_feeds, self.clock(), pollable)

    def _streamed(self) -> list[Feed]:
        """The streamed feeds this daemon reads (a worker reads them only while it holds the story lock)."""
        return [feed for feed in self.feeds.values() if is_live(feed.type)]

    def _finished(self, name: str, _: asyncio.Task[None]) -> None:
        self.in_flight.pop(name, None)

    def ask_reload(self) -> None:
        """SIGHUP: read feeds.toml again at the next tick, changed or not."""
        self._reload_asked = True

    async def reload_if_changed(self) -> None:
        """Apply feeds.toml if it changed since it was read (or SIGHUP asked); a broken edit is one
        line in the log, and the daemon goes on with the config it has."""
        seen = _signature(self.config.path)
        if seen == self._config_file and not self._reload_asked:
            return
        self._config_file, self._reload_asked = seen, False
        try:
            config = load(self.config.path)
        except ConfigError as e:
            log.warning("feeds.toml not reloaded, the daemon goes on with the previous config: %s", e)
            return
        await self.apply(config)

    async def apply(self, config: Config) -> ConfigChange:
        """Poll what `config` says from now on: new feeds at once, removed ones no more (their posts
        stay), a feed that reads something else from a fresh state, new topics through a new matcher."""
        change = changes(self.config, config)
        sender = self.sender
        if change.alerts:
            try:
                sender = self._sender(config)
            except ConfigError as e:  # a channel Apprise cannot use: nothing of the edit applies
                log.warning("feeds.toml not reloaded, the daemon goes on with the previous config: %s", e)
                return ConfigChange()
        if change.storage:
            log.warning("feeds.toml: [storage] changed; the daemon keeps %s until it restarts", self.store.shown)
            config = replace(config, storage_url=self.config.storage_url)
        now = self.clock()
        for name in change.removed:
            self.feeds.pop(name, None)
        for feed in (*change.added, *change.readdressed, *change.retimed):
            self.feeds[feed.name] = feed
        for name in (*change.removed, *change.readdressed_names):
            self.sessions.pop(name, None)
            self.unconfigured.discard(name)
        await self._write(self.store.sync_feeds, list(change.added_names), now)
        for feed in change.readdressed:
            await self._write(self._start_afresh, feed.name, now)
        if change.topics or change.alerts:
            self.topics = {t.name: t for t in config.topics}
            self.pipeline = await self._story_write(_new_pipeline, self.store, config, now)
        self.sender = sender
        self.config = config
        if change:
            log.info("reloaded %s: %s", config.path, change.summary())
        return change

    def _start_afresh(self, name: str, now: datetime) -> None:
        """A feed that reads another address: due now, without the old one's validators, cursor and errors."""
        old = self.store.feed_state(name)
        fresh = FeedState(name, next_check=now, last_poll=old.last_poll, posts_seen=old.posts_seen,
                          posts_matched=old.posts_matched)
        self.store.write(Batch(feed=fresh), now)

    async def heartbeat(self) -> None:
        if self._stopping:
            return
        await self._write(self.store.heartbeat, self.clock())

    async def send_alerts(self) -> None:
        """One pass of the alert sender, beside the polls (its sends run in a thread of their own)."""
        if self.sender is None or self._stopping:
            return
        self._sending = asyncio.ensure_future(self.sender.run())
        await self._sending

    async def drain(self) -> None:
        """Let the polls in flight finish and store their results, and the alert in flight its
        answer, then stop the writer."""
        self._stopping = True
        if "streams" in self.__dict__:  # made by a tick
            await self.streams.close()
        if self.sender is not None:
            self.sender.stop()
        pending = [*self.in_flight.values(), *([self._sending] if self._sending else [])]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if self.sender is not None:
            self.sender.close()
        self._writer.shutdown(wait=True)
        self._parser.close()

    async def poll(self, feed: Feed, state: FeedState | None = None) -> None:
        """One poll of one feed from its stored `state` (read now when not given). Never raises:
        every failure becomes the feed's recorded error."""
        started = time.perf_counter()
        if state is None:
            state = await self._write(self.store.feed_state, feed.name)
        self._fetching += 1
        try:
            posts, state, ahead = await self._poll_feed(feed, state)
        finally:
            self._fetching -= 1
        try:
            done = await self._store_poll(posts, state, ahead)
        except Exception as e:  # a bad post or a full disk must not stop the other feeds
            self.tally.count(feed.name, failed=True)
            log.warning("poll %s: could not store the poll: %s", feed.name, e)
            return
        self.tally.count(feed.name, failed=bool(state.last_error), done=done)
        log_poll(feed.name, state, done.stored, (time.perf_counter() - started) * 1000)

    async def _store_poll(self, posts: list[Post], state: FeedState, ahead: Precomputed | None) -> Processed:
        """Match, fold and store a poll's posts with the feed's new state (a worker sends them to the
        inbox). The writer stores every poll waiting when it comes to them in one transaction: polls
        that end while it is busy share one, and a poll waits GROUP_WAIT for others still fetching.
        `ahead`: what the parser worked out of its posts."""
        loop = asyncio.get_running_loop()
        waiting = Waiting(posts, state, self.clock(), loop.create_future(), ahead)
        self._waiting.append(waiting)
        if not self._fetching:  # nothing else to wait for: a tick's last poll, run --once's
            self._writer.submit(self._store_waiting, loop)
        elif self._saving is None or self._saving.done():
            self._saving = asyncio.ensure_future(self._save_soon())
        return await waiting.done

    async def _save_soon(self) -> None:
        """After GROUP_WAIT, the polls waiting then (and those that join while the writer is busy)
        go in one transaction: the polls of a tick's feeds end within milliseconds of each other.
        It ends once it has asked the writer, so a state that comes after that asks again."""
        await asyncio.sleep(GROUP_WAIT)
        self._writer.submit(self._store_waiting, asyncio.get_running_loop())

    def _store_waiting(self, loop: asyncio.AbstractEventLoop) -> None:
        """In the writer: every poll waiting, in one transaction (with the pipeline's own housekeeping
        when it runs: quiet stories closed as a poll of each feed would). Each poll hears how it fared;
        when the group fails, each is tried alone, so one bad poll fails no other."""
        group = [self._waiting.popleft() for _ in range(len(self._waiting))]
        if not group:  # an earlier call took them
            return
        for waiting, result in self._stored(group):
            loop.call_soon_threadsafe(_settle, waiting.done, result)

    def _stored(self, group: list[Waiting]) -> list[tuple[Waiting, Processed | Exception]]:
        try:
            return list(zip(group, self._store_group(group), strict=True))
        except Exception as e:
            if not self._rebuilt() or len(group) == 1:
                return [(waiting, e) for waiting in group]
            return [pair for waiting in group for pair in self._stored([waiting])]

    def _rebuilt(self) -> bool:
        """The pipeline rebuilt from the store after a failed write: what it took in of the failed
        polls is in its memory only. False when even that fails (the store is gone)."""
        if self._pipeline is None:
            return True
        try:
            self._pipeline.restore(self.clock())
        except Exception as e:
            log.warning("could not read the store back after a failed write: %s", e)
            return False
        return True

    def _store_group(self, group: list[Waiting]) -> list[Processed]:
        now = max(waiting.now for waiting in group)
        polls = [(waiting.posts, waiting.state, waiting.ahead) for waiting in group if waiting.posts]
        states = [waiting.state for waiting in group if not waiting.posts]
        if not polls and self._pipeline is None:
            self.store.write(Batch(feeds=states), now)
            return [NO_POST] * len(group)
        done = iter(self.pipeline.process_polls(polls, now=now, feeds=states))
        return [next(done) if waiting.posts else NO_POST for waiting in group]

    def _feed_states(self, names: list[str]) -> dict[str, FeedState]:
        """The stored state of each of `names`, in one read (a fresh one for a feed never synced)."""
        stored = {state.name: state for state in self.store.feed_states()}
        return {name: stored.get(name) or FeedState(name=name) for name in names}

    async def _poll_feed(self, feed: Feed, state: FeedState) -> tuple[list[Post], FeedState, Precomputed | None]:
        """The feed's posts, its new state (as the pure after_success / after_failure decide it) and
        what the parser worked out of the posts."""
        now = self.clock()
        try:
            pages = await self._fetch(feed, state, now)
        except PollError as error:
            self.sessions.pop(feed.name, None)
            if isinstance(error, NotConfigured):
                self.unconfigured.add(feed.name)
            return [], after_failure(state, error, feed=feed, now=now, secrets=self._secrets(feed)), None
        return pages.posts, after_success(state, pages.polled, feed=feed, now=now), pages.ahead

    async def _fetch(self, feed: Feed, state: FeedState, now: datetime) -> PolledPages:
        """The posts of the feed's pages and what the poll left behind; PollError however it fails."""
        try:
            return await self._pages(feed, state, now)
        except PollError:
            raise
        except Exception as e:  # an adapter bug on one hostile feed must not stop the daemon
            # The traceback may quote a response, so it stays at DEBUG; the feed's error says what happened.
            log.debug("%s: unexpected error", feed.name, exc_info=True)
            raise InternalError.wrapping(e) from None

    async def _pages(self, feed: Feed, state: FeedState, now: datetime) -> PolledPages:
        """Fetch and parse up to MAX_PAGES pages, threading the cursor and session from one to the next."""
        ctx = self._context(feed, state, now)
        source = source_for(feed.type)
        validators = Validators(state.etag, state.last_modified, state.body_hash)
        posts: list[Post] = []
        ahead: list[Precomputed | None] = []
        status: int | None = None
        retry_at = None
        request: Request | None = source.first_request(ctx)
        for page_number in range(MAX_PAGES):
            if request is None:
                break
            fetched = await self.fetcher.fetch(request, validators if page_number == 0 else None)
            if page_number == 0:
                validators, status = fetched.validators, fetched.status
            retry_at = fetched.retry_at or retry_at
            if fetched.response is None:
                break
            parsed = await self._parser.parse(feed.type, ctx, fetched.response, self.topics_ahead)
            page = parsed.page
            posts.extend(page.posts)
            ahead.append(parsed.ahead)
            ctx = replace(ctx, cursor={**ctx.cursor, **page.cursor}, session={**ctx.session, **page.session})
            request = page.next
        self.sessions[feed.name] = ctx.session
        return PolledPages(posts, Polled(len(posts), status, validators, ctx.cursor, retry_at), joined(ahead))

    @property
    def topics_ahead(self) -> tuple[Topic, ...]:
        """The topics a forked parser matches this daemon's posts against, ahead of its pipeline."""
        return tuple(self.topics.values())

    def _context(self, feed: Feed, state: FeedState, now: datetime) -> PollContext:
        return PollContext(
            feed_name=feed.name,
            options=feed.options,
            cursor=state.cursor,
            session=self.sessions.get(feed.name, {}),
            secrets=self._secrets(feed),
            query=self._search_text(feed),
            now=now,
        )

    def _search_text(self, feed: Feed) -> str | None:
        """The feed's topic query in its API's own syntax; the rest is matched locally."""
        topic = self.topics.get(feed.options.get("topic", ""))
        dialect = source_for(feed.type).TYPE.search
        if topic is None or dialect is None:
            return None
        from monitor.match import topic_node

        return search_text(topic_node(topic), dialect)

    @staticmethod
    def _secrets(feed: Feed) -> dict[str, str]:
        """The values of the environment variables the feed names, by secret name."""
        return {name: os.environ[var] for name, var in feed.secrets.items() if os.environ.get(var)}

    async def _write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: fn(*args, **kwargs))

    async def _story_write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Where the pipeline runs: the one writer thread here; a worker's own story thread."""
        return await self._write(fn, *args, **kwargs)


def _new_pipeline(store: Store, config: Config, now: datetime) -> Pipeline:
    from monitor.pipeline import Pipeline

    return Pipeline(store, config.topics, now=now, alerts=config.alerts)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A poll's posts and new state, waiting for the writer; `done` tells the poll what it did."""

    posts: list[Post]
    state: FeedState
    now: datetime
    done: asyncio.Future[Processed]
    ahead: Precomputed | None


def _settle(done: asyncio.Future[Processed], result: Processed | Exception) -> None:
    if done.done():  # the poll waiting on it was cancelled
        return
    if isinstance(result, Exception):
        done.set_exception(result)
    else:
        done.set_result(result)


def log_poll(name: str, state: FeedState, new: int, ms: float) -> None:
    """One line per poll: INFO when it worked, WARNING with the error and the next try when not."""
    if not state.last_error:
        log.info("poll %s status=%s new=%d ms=%.0f", name, state.last_status, new, ms)
    elif state.next_check is None:
        log.warning("poll %s: %s (fix the configuration; checked again when the daemon next starts)", name,
                    state.last_error)
    else:
        log.warning("poll %s: %s (retry at %s)", name, state.last_error, short_time(state.next_check))


def _signature(path: Path) -> tuple[int, int, int] | None:
    """What tells a changed file: its inode (an atomic save replaces it), size and modification time."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns
