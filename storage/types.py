"""The plain values that cross the storage boundary.

Stdlib only: the core rooms (sources, dedup, stories, query) build and read these without
pulling in SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from operator import attrgetter
from typing import TypeVar

ALIVE_WITHIN = timedelta(seconds=15)
T = TypeVar("T")


def _pickled_as_fields(cls: type[T]) -> type[T]:
    """`cls` pickled as its fields in order: the parser process (monitor/parsing.py) sends the daemon
    thousands of posts and matches a second, and dataclasses' pickling of a slotted class looks the
    fields up again for each one (a third of the cost of unpickling a post)."""
    values = attrgetter(*(f.name for f in fields(cls)))  # type: ignore[arg-type]

    def reduce(self: T) -> tuple[type[T], tuple[object, ...]]:
        return cls, values(self)

    setattr(cls, "__reduce__", reduce)  # noqa: B010 (mypy: no assigning a method)
    return cls


@_pickled_as_fields
@dataclass(frozen=True, slots=True)
class Post:
    """One item from a feed or an API, as a source adapter produced it.

    `id` is unique within `source` (the feed's name). `published` is timezone-aware UTC. A date
    more than a day after the post was fetched becomes the fetch time; `claimed_published` keeps
    the date the source gave.
    """

    id: str
    source: str
    author: str
    url: str
    text: str
    published: datetime
    title: str = ""
    kind: str = ""
    lang: str = ""
    claimed_published: datetime | None = None


LEARNED = " (learned)"  # how a learned term is marked among the terms that matched


@_pickled_as_fields
@dataclass(frozen=True, slots=True)
class Match:
    """Why a post belongs to a topic: the terms that matched and the relevance score."""

    topic: str
    terms: tuple[str, ...]
    score: float = 1.0
    confident: bool = True  # the topic's own terms reach the threshold without learned ones


@dataclass(frozen=True, slots=True)
class LearnedTerm:
    """A word or hashtag a topic learned from the posts its own terms matched (monitor/learning.py)."""

    topic: str
    term: str  # folded, as the learner counts it: "#coflood", "alluvione"
    weight: float
    posts: float  # how many confident posts held it lately (counts halve with time)
    since: datetime  # when it was learned
    seen: datetime  # the last confident post that held it


@dataclass(frozen=True, slots=True)
class StoredPost:
    """A matched post as read back from the store."""

    post: Post
    topics: tuple[str, ...]
    matched: tuple[str, ...]
    score: float
    story: int | None  # shown as the post's `cluster` field in JSON output
    duplicate_of: tuple[str, str] | None = None
    seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the daemon remembers about one feed between polls (and restarts)."""

    name: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    cursor: dict[str, str] = field(default_factory=dict)
    next_check: datetime | None = None
    last_poll: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    error_count: int = 0
    retry_after: datetime | None = None
    posts_seen: int = 0
    posts_matched: int = 0


@dataclass(frozen=True, slots=True)
class Story:
    """A live or closed story (a group of matched posts about one happening) within one topic.

    `arrivals` is what the story keeps of its recent activity: posts per minute of arrival, as
    (minute since the epoch, posts), oldest first, over the 70 minutes up to its newest post.
    `velocity` (posts in the last hour) and `spike` (why it runs hot, or None) hold only as of one
    time: the story builder's clock for the stories it reports. The store keeps neither, as both change
    with time alone: readers bring a stored story to their own clock (monitor.storystate.as_of).
    """

    id: int
    topic: str
    label: str
    size: int
    first_seen: datetime
    last_seen: datetime
    live: bool = True
    sources: tuple[str, ...] = ()
    authors: int = 0
    velocity: float = 0.0
    spike: str | None = None
    merged_into: int | None = None  # set when this story was folded into another
    arrivals: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class NewPost:
    """A matched post on its way into the store, with its topics' story ids."""

    post: Post
    matches: tuple[Match, ...]
    stories: Mapping[str, int] = field(default_factory=dict)  # topic -> story id
    duplicate_of: tuple[str, str] | None = None  # (source, id) of the earlier post it folds under


@dataclass(frozen=True, slots=True)
class Batch:
    """Everything one poll (or one ingest chunk) writes, committed as one transaction."""

    posts: Sequence[NewPost] = ()
    feed: FeedState | None = None  # the polled feed's new state (ingest has none)
    feeds: Sequence[FeedState] = ()  # more feeds' new states: polls that brought no post, stored together
    stories: Sequence[Story] = ()  # upserted by id: new, grown, closed
    merged: Mapping[int, int] = field(default_factory=dict)  # story id -> the story it merged into
    learned: Mapping[str, Sequence[LearnedTerm]] | None = None  # topic -> all it has learned now (None: unchanged)
    alerts: Sequence[NewAlert] = ()  # into the outbox with the story change that caused them
    inbox_done: Sequence[int] = ()  # inbox rows (seq) whose posts this batch stores: deleted with it


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert on its way into the outbox. (rule, event, subject) is unique: a repeat is ignored."""

    rule: str
    event: str  # new_story | spike | match | digest
    subject: str  # what it is about: "story:12", a matched post's key, a digest's first alert
    topic: str | None
    story: int | None
    payload: str  # the alert's JSON, as an exec command reads it


@dataclass(frozen=True, slots=True)
class QueuedAlert:
    """An outbox row as the sender plans with it (no payload)."""

    id: int
    rule: str
    event: str
    state: str  # pending | held | sent | digested
    attempts: int
    next_attempt: datetime | None  # pending: when it may go; held: when its digest is due
    answer: str | None = None  # what the channel said at the last failed try


@dataclass(frozen=True, slots=True)
class Alert:
    """An outbox row with its delivery so far: what `monitor alerts` and the dashboard show."""

    id: int
    rule: str
    event: str
    topic: str | None
    story: int | None
    created: datetime
    state: str
    attempts: int
    next_attempt: datetime | None
    sent: datetime | None
    answer: str | None  # what the channel said last (an error while failing), secrets redacted
    digest: int | None  # the digest that carried it, once held alerts were folded
    payload: str


@dataclass(frozen=True, slots=True)
class DaemonInfo:
    """The running (or last) writer: who it is and when it last said it was alive."""

    pid: int
    host: str
    started: datetime
    beat: datetime
    stopped: bool = False
    """It exited and said so; one that was killed cannot, and is down three missed beats later."""

    def alive(self, now: datetime) -> bool:
        """The daemon beats every 5 s: three missed beats means it is down."""
        return not self.stopped and now - self.beat <= ALIVE_WITHIN


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """A live stream as the daemon reading it last reported it (every few seconds): `monitor status`."""

    name: str
    """The feed's name."""
    updated: datetime
    connected_since: datetime | None = None
    """None while it is not connected (it is reconnecting, or was never connected)."""
    frames: int = 0
    """Frames read since the daemon started."""
    matched: int = 0
    """Posts among them that matched a topic."""
    frames_per_s: float = 0.0
    matched_per_s: float = 0.0
    lag: float | None = None
    """Seconds from the time the last frame was sent to `updated`: how far behind the stream it reads."""
    malformed: int = 0
    oversize: int = 0
    backlog: int = 0
    """Matched posts read but not yet stored."""
    queue_full: bool = False
    """The backlog is full: the stream is not read until the store catches up."""
    reconnects: int = 0


@dataclass(frozen=True, slots=True)
class Stats:
    """Headline counts for `monitor status` and the dashboard's header."""

    posts_total: int
    posts_last_hour: int
    feeds_ok: int
    feeds_failing: int
    last_write: datetime | None


@dataclass(frozen=True, slots=True)
class LeaseCandidate:
    """A due feed no worker holds, as the lease decider (monitor.leases) chooses among them."""

    name: str
    host: str | None
    next_check: datetime | None


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """One `monitor run` sharing a PostgreSQL database: who, when it last beat, what it does now."""

    id: str
    host: str
    pid: int
    started: datetime
    beat: datetime
    stopped: bool = False
    clustering: bool = False
    """It said it holds the story lock (true only while it is alive: see `clusters`)."""
    leased: int = 0
    """Feeds it holds a lease on now."""
    polls: int = 0
    """Polls it delivered since it started."""

    def alive(self, now: datetime) -> bool:
        """A worker beats every 5 s: three missed beats means it is down."""
        return not self.stopped and now - self.beat <= ALIVE_WITHIN

    def clusters(self, now: datetime) -> bool:
        return self.clustering and self.alive(now)


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A matched post waiting in the inbox for the worker that folds posts into stories."""

    seq: int
    feed: str
    at: datetime
    """When the worker that fetched it polled."""
    post: Post


@dataclass(frozen=True, slots=True)
class InboxLag:
    """How far the story worker is behind the fetchers: rows waiting, and when the oldest arrived."""

    waiting: int
    oldest: datetime | None

    def seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.oldest).total_seconds()) if self.oldest is not None else 0.0


@dataclass(frozen=True, slots=True)
class Delivered:
    """What a worker's delivery of one poll stored."""

    state: bool
    """The feed's new state was stored (False: its lease had run out and another worker holds it)."""
    posts: int
    """Matched posts put in the inbox (those not stored already)."""
