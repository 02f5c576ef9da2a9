"""A daemon among several on one PostgreSQL database: `monitor run` there.

Each worker leases due feeds (monitor.leases decides which, storage/work.py holds them), polls them
and delivers every poll in one transaction: the feed's new state and its matched posts, appended to
the inbox. The one story space: the worker holding the story lock folds the inbox, in order, through
the pipeline (dedup, stories, learning, alerts) and deletes the rows it stored in the same
transaction, so each matched post is folded exactly once whoever fetched it. When that worker dies
its session ends, the lock is free, and the next worker to try (every tick) takes it, rebuilds the
pipeline from the store, and goes on from the oldest row left.

One honest rule for what must happen once: alerts are decided by the pipeline (so by the story
worker) and sent by the story worker alone; streamed feeds are read by the story worker alone.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from monitor.clock import Clock
from monitor.config import Config, Feed, Topic
from monitor.configchange import ConfigChange
from monitor.daemon import Daemon
from monitor.fetch import Fetcher
from monitor.leases import DEFAULT_LEASE, choose, feed_host, poll_deadline, scan, until, wanted
from monitor.match import Matcher, compile_topics, vocabulary
from monitor.parsing import PageParser, PolledPages, Precomputed
from monitor.pipeline import Pipeline, dated_by_fetch
from monitor.pollerrors import FetchError
from monitor.processed import Processed
from monitor.sdnotify import Notifier
from monitor.sources import is_live
from storage.store import Store
from storage.types import FeedState, Post, WorkerInfo

log = logging.getLogger("monitor.worker")

CAPACITY = 16
"""Polls one worker runs at once (the fetcher's own limit): it leases no more than that."""
FOLD_BATCH = 500
"""Inbox rows folded in one transaction at most."""
REFILL_SECONDS = 0.05
"""After a poll ends, how long the worker waits for others to end before it leases again."""
FOLD_SECONDS = 0.5
"""How often the story worker looks for new inbox rows (and another worker tries the story lock):
well under a tick, and seldom enough that each fold stores a batch, not a post or two."""
LEARNED_SECONDS = 10.0
"""How often a worker re-reads the learned terms it pre-matches with (the story worker learns them)."""
FORGET_AFTER = timedelta(days=7)
"""Rows of workers silent this long are dropped when a worker starts."""
T = TypeVar("T")


class Worker(Daemon):
    """Polls the feeds it leases into the inbox; folds the inbox into stories while it holds the lock."""

    def __init__(self, config: Config, store: Store, fetcher: Fetcher, clock: Clock,
                 notifier: Notifier | None = None, *, lease: float = DEFAULT_LEASE, capacity: int = CAPACITY,
                 parser: PageParser | None = None):
        # Set before the daemon's own setup: it hands `_story_write` to the stream runner.
        self._stories = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-stories")
        super().__init__(config, store, fetcher, clock, notifier, parser=parser)
        self.work = store.work()
        self.lease = lease
        self.capacity = capacity
        now = clock()
        self.me = WorkerInfo(f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}", socket.gethostname(),
                             os.getpid(), started=now, beat=now)
        self.story_lock = store.story_lock(holder="monitor run")
        self._folding: asyncio.Task[None] | None = None
        self._refilling: asyncio.Task[None] | None = None
        self._slot_free = asyncio.Event()
        self._one_tick = asyncio.Lock()
        self._drained = False
        self._leased: dict[str, FeedState] = {}  # leased and not yet polled: the states the lease read
        self._others = 0  # workers alive beside this one, as the last beat saw them (when it folds)
        self._behind = False  # the last fold took a full batch: the inbox holds more than one fold's worth
        self._matcher = compile_topics(config.topics)
        self._learned: dict[str, dict[str, float]] = {}
        self._learned_at = 0.0
        self.work.set_hosts(self._hosts(config.feeds))
        self.work.forget_workers(now - FORGET_AFTER)  # one row per start: keep a week of them
        self.work.beat(self.me)

    @staticmethod
    def _hosts(feeds: Iterable[Feed]) -> dict[str, str | None]:
        return {feed.name: feed_host(feed) for feed in feeds if not is_live(feed.type)}

    @property
    def clustering(self) -> bool:
        return self.story_lock.held

    # polling: leased feeds, results to the inbox

    async def _due(self, pollable: list[str]) -> list[str]:
        now = self.clock()
        want = wanted(self.capacity, len(self.in_flight), folding_behind=self.clustering and self._behind,
                      others=self._others)
        if not want:
            return []
        pick = functools.partial(choose, want=want)
        states = await self._write(self.work.lease, self.me.id, pollable, now, until(now, self.lease), pick,
                                   scan=scan(want))
        self._leased.update((state.name, state) for state in states)
        return [state.name for state in states]

    def _feed_states(self, names: list[str]) -> dict[str, FeedState]:
        """The states the lease read (in the writer thread, like the daemon's own read)."""
        leased = {name: self._leased.pop(name) for name in names if name in self._leased}
        missing = [name for name in names if name not in leased]
        return leased | (super()._feed_states(missing) if missing else {})

    async def _fetch(self, feed: Feed, state: FeedState, now: datetime) -> PolledPages:
        """The daemon's fetch, cut short before the lease runs out: no other worker may take the feed
        while this one still fetches it."""
        deadline = poll_deadline(self.lease)
        try:
            async with asyncio.timeout(deadline):
                return await super()._fetch(feed, state, now)
        except TimeoutError:
            raise FetchError(f"the poll took longer than its lease allows ({deadline:g} s)") from None

    @property
    def topics_ahead(self) -> tuple[Topic, ...]:
        """None: the inbox carries posts alone (the story worker matches and featurizes them)."""
        return ()

    async def _store_poll(self, posts: list[Post], state: FeedState, ahead: Precomputed | None) -> Processed:
        """The posts any topic matches (with the learned terms as stored) go to the inbox, those not
        stored yet; the story worker matches them again with its own learning."""
        now = self.clock()
        matched = [dated_by_fetch(p, now) for p in {(p.source, p.id): p for p in posts}.values()
                   if self._matcher.match(p)]
        done = await self._write(self.work.deliver, self.me.id, state, matched, now)
        self.me = replace(self.me, polls=self.me.polls + 1)
        return Processed(fresh=done.posts, stored=done.posts)

    async def tick(self) -> None:
        async with self._one_tick:  # the scheduler's tick and the refill below never overlap
            await super().tick()
        if self._stopping:
            return
        if time.monotonic() - self._learned_at >= LEARNED_SECONDS:
            self._learned_at = time.monotonic()
            await self._write(self._read_learned)
        if self._folding is None or self._folding.done():
            self._folding = asyncio.ensure_future(self._fold_often())
        if self._refilling is None or self._refilling.done():
            self._refilling = asyncio.ensure_future(self._refill())

    def _finished(self, name: str, task: asyncio.Task[None]) -> None:
        super()._finished(name, task)
        self._slot_free.set()

    async def _refill(self) -> None:
        """Lease again as soon as polls end, not at the next tick: a slot that waited for the tick
        would poll once a second at most, however fast the feeds answer."""
        while not self._stopping:
            await self._slot_free.wait()
            await asyncio.sleep(REFILL_SECONDS)  # the polls ending together share one lease
            self._slot_free.clear()
            if not self._stopping:
                await self.tick()

    def _read_learned(self) -> None:
        learned: dict[str, dict[str, float]] = {}
        for term in self.store.learned_terms():
            learned.setdefault(term.topic, {})[term.term] = term.weight
        if learned != self._learned:
            self._learned = learned
            self._matcher = self._compile(self.config)

    def _compile(self, config: Config) -> Matcher:
        return compile_topics(config.topics, self._learned, vocabulary(config.topics))

    # the story lock and the inbox

    async def _fold_often(self) -> None:
        """Fold every FOLD_SECONDS, not once a tick: a post waits in the inbox less than a tick."""
        while not self._stopping:
            await self.fold()
            await asyncio.sleep(FOLD_SECONDS)

    async def fold(self) -> None:
        """Take (or keep) the story lock; while held, fold the inbox until it is empty."""
        had = self.story_lock.held
        held = await self._story_write(self.story_lock.take)
        if held and not had:
            try:
                await self._story_write(self._take_over)
            except Exception as e:  # no pipeline to fold with: let another worker try
                log.warning("could not take over the stories: %s", e)
                await self._story_write(self.story_lock.release)
                return
        elif had and not held:
            log.warning("lost the story lock (its database session ended); another worker folds the inbox")
        while held and not self._stopping:
            try:
                if not await self._story_write(self._fold_some):
                    return
            except Exception as e:  # a bad post or a lost connection: the pipeline rebuilt itself
                log.warning("folding the inbox: %s (tried again at the next tick)", e)
                return

    def _take_over(self) -> None:
        """Rebuild the pipeline from what the store holds now (the previous story worker wrote it)."""
        now = self.clock()
        self.pipeline = Pipeline(self.store, self.config.topics, now=now, alerts=self.config.alerts)
        self.me = replace(self.me, beat=now, clustering=True)
        self.work.beat(self.me)  # readers learn who clusters now, not at the next beat
        self.store.heartbeat(now)
        log.info("worker %s holds the story lock: folding the inbox", self.me.id)

    def _fold_some(self) -> int:
        """One transaction: the oldest inbox rows through the pipeline, and those rows deleted."""
        items = self.work.inbox(FOLD_BATCH)
        self._behind = len(items) == FOLD_BATCH
        if items:
            self.pipeline.process([item.post for item in items], now=self.clock(),
                                  inbox_done=[item.seq for item in items])
        return len(items)

    async def _story_write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """The pipeline runs on a thread of its own, so folding never waits behind this worker's polls."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._stories, lambda: fn(*args, **kwargs))

    # what the story worker alone does

    def _streamed(self) -> list[Feed]:
        return super()._streamed() if self.clustering else []

    async def send_alerts(self) -> None:
        if self.clustering:
            await super().send_alerts()

    async def heartbeat(self) -> None:
        try:
            await self._beat()
        except asyncio.CancelledError:
            if not self._stopping:
                raise  # cancelled by the stop: the worker's row says so in drain

    async def _beat(self) -> None:
        if self._stopping:
            return
        now = self.clock()
        self.me = replace(self.me, beat=now, clustering=self.clustering)
        await self._write(self.work.beat, self.me)
        if self.clustering:
            workers = await self._write(self.work.workers, now)
            self._others = sum(w.alive(now) and w.id != self.me.id for w in workers)
        if self.clustering:  # the daemon row names the story worker, for readers that know one daemon
            await self._write(self.store.heartbeat, now)

    async def apply(self, config: Config) -> ConfigChange:
        change = await super().apply(config)
        if change.added or change.readdressed:
            await self._write(self.work.set_hosts, self._hosts((*change.added, *change.readdressed)))
        if change.topics:
            self._matcher = self._compile(config)
        return change

    async def drain(self) -> None:
        """The daemon's drain (polls in flight delivered), then the story lock and the leases freed."""
        if self._drained:
            return
        self._drained = True
        self._stopping = True
        self._slot_free.set()  # the refill loop wakes, sees the stop and ends
        for loop in (self._folding, self._refilling):
            if loop is not None:
                await asyncio.gather(loop, return_exceptions=True)
        await super().drain()
        # What the last polls delivered is stored before the last worker goes (the lock is free by then).
        had = self.story_lock.held
        if await self._story_write(self.story_lock.take):
            try:
                if not had:
                    await self._story_write(self._take_over)
                while await self._story_write(self._fold_some):
                    pass
            except Exception as e:
                log.warning("folding the inbox: %s (the next story worker goes on from there)", e)
        self._stories.shutdown(wait=True)
        self.story_lock.release()
        try:
            self.work.stopped(self.me.id)
        except Exception as e:  # the database went away: the beats stop, and readers see it down
            log.warning("could not record this worker's stop: %s", e)
