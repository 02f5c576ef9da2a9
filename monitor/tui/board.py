"""What the dashboard shows, loaded from the store in a worker thread (no Textual here).

Every read is bounded: at most a screenful or two of rows, whatever the store's size.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from monitor.alerts import ChannelState, channel_states
from monitor.config import AlertRule
from monitor.storyreads import stories_at, story_at
from monitor.tui.prefs import Prefs
from monitor.workerlines import recent_workers
from storage.store import Store
from storage.types import Alert, DaemonInfo, FeedState, InboxLag, Stats, StoredPost, Story, WorkerInfo

STORY_ROWS = 50
POST_ROWS = 50
ALERT_ROWS = 100
TREND_POSTS = 64  # recent posts read per story for its sparkline
TREND_BUCKETS = 8


@dataclass(frozen=True, slots=True)
class StoryRow:
    """A story as the list shows it."""

    story: Story
    trend: tuple[int, ...]
    pinned: bool = False
    new: bool = False
    muted: bool = False  # listed only while muted things are shown, so that they can be unmuted
    alerted: bool = False  # some alert rule fired on it


@dataclass(frozen=True, slots=True)
class Health:
    """The status line's facts."""

    stats: Stats | None
    daemon: DaemonInfo | None
    now: datetime
    workers: tuple[WorkerInfo, ...] = ()
    """On PostgreSQL, the workers sharing it (recent ones); empty for one daemon."""
    lag: InboxLag | None = None

    @property
    def alive(self) -> bool:
        if self.workers:
            return self.workers_alive > 0
        return self.daemon is not None and self.daemon.alive(self.now)

    @property
    def workers_alive(self) -> int:
        return sum(worker.alive(self.now) for worker in self.workers)


@dataclass(frozen=True, slots=True)
class Board:
    """One consistent read of the main screen's story list."""

    revision: int
    topics: tuple[str, ...]
    topic: str | None
    stories: tuple[StoryRow, ...]
    health: Health


@dataclass(frozen=True, slots=True)
class PostQuery:
    """Which posts the lower pane shows: a story's (optionally filtered) or a search over all."""

    story: int | None = None
    text: str | None = None
    source: str | None = None
    search: str | None = None  # search every post (of the topic) instead of one story
    topic: str | None = None

    @property
    def empty(self) -> bool:
        return self.story is None and self.search is None


@dataclass(frozen=True, slots=True)
class PostRow:
    """A post, with the other sources that carried a near-duplicate of it."""

    post: StoredPost
    also_on: tuple[str, ...] = ()
    muted: bool = False  # by a muted author: listed only while muted things are shown


@dataclass(frozen=True, slots=True)
class AlertBoard:
    """The alerts screen's read: each rule's channel as the outbox tells it, and the last alerts, newest first."""

    channels: tuple[ChannelState, ...]
    alerts: tuple[Alert, ...]
    now: datetime

    @property
    def failing(self) -> int:
        return sum(c.failing for c in self.channels)


@dataclass
class BoardLoader:
    """Loads boards, post lists and feed states from the store; caches each story's sparkline until the
    story changes. `topics` are the configured ones, in feeds.toml's order: they come first, posts or not;
    `rules` the configured alert rules, whose channels the alerts screen shows."""

    store: Store
    topics: Sequence[str] = ()
    rules: Sequence[AlertRule] = ()
    _trends: dict[int, tuple[tuple[int, datetime], tuple[int, ...]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def revision(self) -> int:
        return self.store.revision()

    def health(self, now: datetime, stats: Stats | None = None) -> Health:
        stats = stats if stats is not None else self.store.stats(now)
        if not self.store.shared():
            return Health(stats, self.store.daemon(), now)
        work = self.store.work()
        return Health(stats, self.store.daemon(), now, tuple(recent_workers(work.workers(now), now)), work.lag())

    def feed_states(self) -> Sequence[FeedState]:
        return self.store.feed_states()

    def alerts(self, now: datetime) -> AlertBoard:
        """The last alerts and how each rule's channel is doing (bounded: the queue holds what is still to go)."""
        recent = self.store.recent_alerts(limit=ALERT_ROWS)
        channels = channel_states(self.rules, self.store.alert_queue(), self.store.last_sent())
        return AlertBoard(tuple(channels), tuple(recent), now)

    def board(self, topic: str | None, prefs: Prefs, now: datetime, revision: int, *, show_muted: bool = False
              ) -> Board:
        """The stories with the sparklines already known; `with_trends` fills in the rest. An unknown or
        missing `topic` is the first configured one."""
        stored = self.store.topics()
        topics = (*self.topics, *(t for t in stored if t not in self.topics))
        if topic not in topics:
            topic = topics[0] if topics else None
        rows = self._story_rows(topic, prefs, now, show_muted) if topic is not None else ()
        return Board(revision, topics, topic, rows, self.health(now))

    def missing_trends(self, board: Board) -> int:
        """How many of the board's sparklines are still to read."""
        return sum(not row.trend for row in board.stories)

    def with_trends(self, board: Board) -> Board:
        """`board` with every sparkline read: the changed stories' in one query."""
        stale = [r.story for r in board.stories if not r.trend]
        fresh = self.trends(stale)
        rows = tuple(dataclasses.replace(r, trend=r.trend or fresh[r.story.id]) for r in board.stories)
        return dataclasses.replace(board, stories=rows)

    def _story_rows(self, topic: str, prefs: Prefs, now: datetime, show_muted: bool) -> tuple[StoryRow, ...]:
        """Pinned stories first, then (when shown) the muted ones, newest first, then the most active."""
        muted = set(prefs.muted_stories)
        pinned = self._stories(topic, [i for i in prefs.pinned if i not in muted], now)
        shown_muted = self._stories(topic, sorted(muted, reverse=True)[:STORY_ROWS], now) if show_muted else []
        active = stories_at(self.store, now, topic=topic, limit=STORY_ROWS + len(muted) + len(pinned))
        listed = {s.id for s in pinned + shown_muted}
        rest = [s for s in active if s.id not in muted and s.id not in listed]
        pinned_ids = {s.id for s in pinned}
        shown = (pinned + shown_muted + rest)[:STORY_ROWS]
        alerted = self.store.alerted_stories([s.id for s in shown])
        return tuple(
            StoryRow(s, self.cached_trend(s), pinned=s.id in pinned_ids, new=prefs.is_new(s.id, s.size),
                     muted=s.id in muted, alerted=s.id in alerted)
            for s in shown
        )

    def _stories(self, topic: str, ids: Sequence[int], now: datetime) -> list[Story]:
        """The stories of `topic` among `ids` as of `now`, in that order (pins and mutes of other topics stay out)."""
        return [s for s in (story_at(self.store, i, now) for i in ids) if s is not None and s.topic == topic]

    def cached_trend(self, story: Story) -> tuple[int, ...]:
        """The sparkline if this story has not changed since it was read; () otherwise."""
        with self._lock:
            cached = self._trends.get(story.id)
        return cached[1] if cached is not None and cached[0] == (story.size, story.last_seen) else ()

    def trend(self, story: Story) -> tuple[int, ...]:
        """Posts per time slice over the story's recent life, oldest first (for the sparkline)."""
        return self.trends([story])[story.id]

    def trends(self, stories: Sequence[Story]) -> dict[int, tuple[int, ...]]:
        """The sparklines of `stories`; those changed since last read come from one store query."""
        found: dict[int, tuple[int, ...]] = {}
        stale: list[Story] = []
        for story in stories:
            cached = self.cached_trend(story)
            if cached:
                found[story.id] = cached
            else:
                stale.append(story)
        if stale:
            times = self.store.recent_published([s.id for s in stale], per_story=TREND_POSTS)
            with self._lock:
                for story in stale:
                    counts = buckets(times.get(story.id, []), story.last_seen, TREND_BUCKETS)
                    self._trends[story.id] = ((story.size, story.last_seen), counts)
                    found[story.id] = counts
        return found

    def posts(self, query: PostQuery, muted_authors: set[str], *, show_muted: bool = False) -> tuple[PostRow, ...]:
        if query.empty:
            return ()
        if query.search is not None:
            found = self.store.posts(topic=query.topic, text=query.search, source=query.source, limit=POST_ROWS)
        else:
            found = self.store.posts(story=query.story, text=query.text, source=query.source, limit=POST_ROWS)
        return fold_duplicates(found, muted_authors, show_muted=show_muted)


def buckets(times: Sequence[datetime], end: datetime, count: int) -> tuple[int, ...]:
    """How many of `times` fall in each of `count` equal slices from the earliest to `end`."""
    if not times:
        return (0,) * count
    start = min(times)
    span = max((end - start).total_seconds(), 1.0)
    counts = [0] * count
    for when in times:
        offset = (when - start).total_seconds() / span
        counts[min(count - 1, max(0, int(offset * count)))] += 1
    return tuple(counts)


def fold_duplicates(posts: Sequence[StoredPost], muted_authors: set[str], *, show_muted: bool = False
                    ) -> tuple[PostRow, ...]:
    """Duplicates fold under their original when it is listed ("also on ..."); muted authors' posts drop
    out, or with `show_muted` stay, marked."""
    listed = {(p.post.source, p.post.id) for p in posts}
    also: dict[tuple[str, str], list[str]] = {}
    for p in posts:
        if p.duplicate_of is not None and p.duplicate_of in listed:
            sources = also.setdefault(p.duplicate_of, [])
            if p.post.source not in sources and p.post.source != p.duplicate_of[0]:
                sources.append(p.post.source)
    rows = []
    for p in posts:
        if p.duplicate_of is not None and p.duplicate_of in listed:
            continue
        muted = p.post.author in muted_authors
        if muted and not show_muted:
            continue
        rows.append(PostRow(p, tuple(also.get((p.post.source, p.post.id), ())), muted=muted))
    return tuple(rows)
