"""The daemon: an APScheduler tick takes the due feeds and polls them with bounded concurrency."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import signal
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

from monitor import schedule
from monitor.config import Config, Feed
from monitor.fetch import Fetcher, FetchError, Validators
from monitor.output import short_time
from monitor.pipeline import Pipeline
from monitor.sources import source_for
from monitor.sources.base import FeedError, Page, PollContext, Request
from storage.store import Store
from storage.types import FeedState, Post

log = logging.getLogger("monitor.daemon")

TICK_SECONDS = 1.0
HEARTBEAT_SECONDS = 5.0
MAX_PAGES = 5
SEARCH_API = {"rss": "google-news", "mastodon": "mastodon", "bluesky": "bluesky", "reddit": "reddit",
              "hackernews": "hn", "x": "x"}
T = TypeVar("T")


@dataclasses.dataclass
class PollOutcome:
    posts: list[Post]
    state: FeedState
    status: int | None


class Daemon:
    """Polls feeds, hands their posts to the pipeline, records every feed's state."""

    def __init__(self, config: Config, store: Store, fetcher: Fetcher, clock: Callable[[], datetime] | None = None):
        self.config = config
        self.store = store
        self.fetcher = fetcher
        self.clock = clock or (lambda: datetime.now(UTC))
        self.feeds = {f.name: f for f in config.feeds}
        self.sessions: dict[str, Mapping[str, str]] = {}
        self.in_flight: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        # One thread does every database write, in order, so the event loop keeps fetching.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-writer")
        self.pipeline = Pipeline(store, config.topics, now=self.clock())
        store.sync_feeds(list(self.feeds), self.clock())

    async def run_once(self) -> None:
        """Poll every feed once, whatever its schedule, and wait for all of them."""
        await asyncio.gather(*(self.poll(feed) for feed in self.feeds.values()))

    async def run_forever(self) -> None:
        """Tick until SIGINT/SIGTERM, then let the polls in flight finish."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await self.run_until(stop)

    async def run_until(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set (the dashboard's `watch` and `demo` run the daemon this way)."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler  # `run --once` needs no scheduler

        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        scheduler.add_job(self.tick, "interval", seconds=TICK_SECONDS, max_instances=1, coalesce=True,
                          next_run_time=self.clock())
        scheduler.add_job(self.heartbeat, "interval", seconds=HEARTBEAT_SECONDS, next_run_time=self.clock())
        scheduler.start()
        log.info("monitor run: %d feeds, %d topics, store %s", len(self.feeds), len(self.config.topics),
                 self.store.shown)
        try:
            await stop.wait()
        finally:
            self._stopping = True
            scheduler.shutdown(wait=False)
            log.info("stopping: finishing %d polls in flight", len(self.in_flight))
            await self.drain()

    async def tick(self) -> None:
        """Start a poll for every due feed that is not already being polled."""
        if self._stopping:
            return
        due = await self._write(self.store.due_feeds, self.clock(), list(self.feeds))
        if self._stopping:  # stopped while we asked: start nothing the drain would not wait for
            return
        for name in due:
            if name not in self.in_flight:
                task = asyncio.create_task(self.poll(self.feeds[name]))
                self.in_flight[name] = task
                task.add_done_callback(functools.partial(self._finished, name))

    def _finished(self, name: str, _: asyncio.Task[None]) -> None:
        self.in_flight.pop(name, None)

    async def heartbeat(self) -> None:
        if self._stopping:
            return
        await self._write(self.store.heartbeat, self.clock())

    async def drain(self) -> None:
        """Let the polls in flight finish and store their results, then stop the writer."""
        self._stopping = True
        if self.in_flight:
            await asyncio.gather(*self.in_flight.values(), return_exceptions=True)
        self._writer.shutdown(wait=True)

    async def poll(self, feed: Feed) -> None:
        """One poll of one feed. Never raises: every failure becomes the feed's recorded error."""
        started = time.perf_counter()
        state = await self._write(self.store.feed_state, feed.name)
        outcome = await self._fetch_posts(feed, state)
        try:
            new = await self._write(self.pipeline.process, outcome.posts, now=self.clock(), feed=outcome.state)
        except Exception as e:  # a bad post or a full disk must not stop the other feeds
            log.warning("%s: could not store the poll: %s", feed.name, e)
            return
        ms = (time.perf_counter() - started) * 1000
        if outcome.state.last_error:
            log.warning("poll %s: %s (retry at %s)", feed.name, outcome.state.last_error,
                        short_time(outcome.state.next_check))
        else:
            log.info("poll %s status=%s new=%d ms=%.0f", feed.name, outcome.status, new, ms)

    async def _fetch_posts(self, feed: Feed, state: FeedState) -> PollOutcome:
        now = self.clock()
        validators = Validators(state.etag, state.last_modified, state.body_hash)
        posts: list[Post] = []
        status: int | None = None
        retry_at = None
        try:
            ctx = self._context(feed, state)
            source = source_for(feed.type)
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
                page: Page = source.parse(ctx, fetched.response)
                posts.extend(page.posts)
                ctx = dataclasses.replace(ctx, cursor={**ctx.cursor, **page.cursor},
                                          session={**ctx.session, **page.session})
                request = page.next
        except (FetchError, FeedError) as e:
            return PollOutcome([], self._failed(feed, state, e, now), getattr(e, "status", None))
        except Exception as e:  # an adapter bug on one hostile feed must not stop the daemon
            # The traceback may quote a response, so it stays at DEBUG; the feed's error says what happened.
            log.debug("%s: unexpected error", feed.name, exc_info=True)
            error = FeedError(f"internal error: {type(e).__name__}: {e}")
            return PollOutcome([], self._failed(feed, state, error, now), None)
        self.sessions[feed.name] = ctx.session
        ok = dataclasses.replace(
            state,
            etag=validators.etag,
            last_modified=validators.last_modified,
            body_hash=validators.body_hash,
            cursor=dict(ctx.cursor),
            last_poll=now,
            last_status=status,
            last_error=None,
            error_count=0,
            retry_after=retry_at,
            next_check=schedule.next_check(now, feed.interval, retry_at=retry_at),
            posts_seen=state.posts_seen + len(posts),
        )
        return PollOutcome(posts, ok, status)

    def _failed(self, feed: Feed, state: FeedState, error: Exception, now: datetime) -> FeedState:
        errors = state.error_count + 1
        retry_at = getattr(error, "retry_at", None)
        next_check = schedule.next_check(
            now, feed.interval, errors=errors, retry_at=retry_at, permanent=bool(getattr(error, "permanent", False))
        )
        self.sessions.pop(feed.name, None)
        return dataclasses.replace(
            state,
            last_poll=now,
            last_status=getattr(error, "status", None),
            last_error=_redact(_explained(feed, error), self._secrets(feed)),
            error_count=errors,
            retry_after=retry_at,
            next_check=next_check,
        )

    def _context(self, feed: Feed, state: FeedState) -> PollContext:
        return PollContext(
            feed_name=feed.name,
            options=feed.options,
            cursor=state.cursor,
            session=self.sessions.get(feed.name, {}),
            secrets=self._secrets(feed),
            query=self._pushed_query(feed),
        )

    def _pushed_query(self, feed: Feed) -> str | None:
        """The feed's topic query in its API's own syntax; the rest is matched locally.

        An API without OR searches the first branch of a topic's OR (its strongest term, as `init`
        writes them): a narrower search beats fetching everything and matching it here.
        """
        name = feed.options.get("topic")
        topic = next((t for t in self.config.topics if t.name == name), None)
        if topic is None:
            return None
        from monitor.match import topic_node
        from monitor.query.pushdown import render, render_each

        node, api = topic_node(topic), SEARCH_API[feed.type]
        return render(node, api) or next(iter(render_each(node, api)), None)

    def _secrets(self, feed: Feed) -> dict[str, str]:
        wanted = {"token": feed.options.get("token_env"), "password": feed.options.get("password_env")}
        return {key: os.environ[env] for key, env in wanted.items() if env and os.environ.get(env)}

    async def _write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: fn(*args, **kwargs))


REDACT_FROM = 4
"""Characters of a secret that, at the start of a cut-off quote, already count as the secret."""


def _redact(message: str, secrets: Mapping[str, str]) -> str:
    """The message without any secret, whole or cut short (an error quoting the first bytes of a
    body that echoes the header ends mid-token, which a plain replace would miss)."""
    for value in secrets.values():
        if len(value) < REDACT_FROM:
            message = message.replace(value, "[redacted]") if value else message
            continue
        start = message.find(value[:REDACT_FROM])
        while start != -1:
            end = start + REDACT_FROM
            while end < len(message) and end - start < len(value) and message[end] == value[end - start]:
                end += 1
            message = message[:start] + "[redacted]" + message[end:]
            start = message.find(value[:REDACT_FROM], start + len("[redacted]"))
    return message


def _explained(feed: Feed, error: Exception) -> str:
    """The error's one line; a refused credential also names the environment variable that holds it."""
    envs = [feed.options[key] for key in ("token_env", "password_env") if feed.options.get(key)]
    if getattr(error, "status", None) in (401, 403) and envs:
        return f"{error} (check the credential in ${envs[0]})"
    return str(error)
