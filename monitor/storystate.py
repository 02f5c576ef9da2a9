"""One live story's running state (centroid, members, arrivals, label candidates), and what a story's
arrivals say at any time: its rate, whether it spikes, whether it has gone quiet.

Kept apart from the story builder's decisions so each piece stays small; pure stdlib. Readers (`clusters`,
the dashboard) bring stored stories to their own clock with `as_of`: a burst cools down as time passes
whether or not another post arrives.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import repeat
from operator import itemgetter, mul

from storage.types import Story

HOUR = 3600.0
MINUTE = 60.0
CLOSE_AFTER = timedelta(hours=12)  # a story this long without a post is closed
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
LABEL_LENGTH = 90


def first_line(title: str, text: str) -> str:
    """A one-line, length-capped headline for a post (title if any, else its text's first line)."""
    source = title.strip() or text.strip()
    line = source.splitlines()[0] if source else ""
    if "://" in line:
        line = _URL.sub("", line)
    line = " ".join(line.split())
    # Control and bidi characters from hostile text must not reach a terminal.
    if not line.isprintable():
        line = "".join(ch for ch in line if ch.isprintable())
    if len(line) > LABEL_LENGTH:
        line = line[: LABEL_LENGTH - 1].rstrip() + "…"
    return line


Arrivals = tuple[tuple[int, int], ...]
"""Posts per minute of arrival, (minute since the epoch, posts), oldest first: what a story keeps of its
recent activity, and all its rate and spike are computed from, as of any time."""


@dataclass(frozen=True, slots=True)
class SpikeRule:
    """A story spikes when its last `window` holds `min_posts` or more, and `ratio` times the rate of
    the hour before (or the hour before was silent)."""

    window: timedelta = timedelta(minutes=10)
    min_posts: int = 5
    ratio: float = 3.0

    @property
    def horizon(self) -> timedelta:
        """How far back an arrival can still count: posts older than this say nothing of now."""
        return self.window + timedelta(seconds=HOUR)


def minute_of(when: datetime | float) -> int:
    return int((when.timestamp() if isinstance(when, datetime) else when) // MINUTE)


def posts_between(arrivals: Arrivals, first: int, last: int) -> int:
    """Posts that arrived in the minutes `first` to `last`, both included."""
    return sum(count for minute, count in arrivals if first <= minute <= last)


def velocity(arrivals: Arrivals, now: datetime) -> float:
    """Posts in the hour up to `now` (to the minute: this minute and the 59 before it)."""
    minute = minute_of(now)
    return float(posts_between(arrivals, minute - 59, minute))


def spike(arrivals: Arrivals, now: datetime, rule: SpikeRule = SpikeRule()) -> str | None:
    """'12 posts in 10 min, 4× its previous hour' when the story spikes as of `now`, else None.

    The decision alerts hang on: a function of the arrivals and the time, so a burst cools down."""
    minute, window = minute_of(now), round(rule.window.total_seconds() / MINUTE)
    recent = posts_between(arrivals, minute - window + 1, minute)
    if recent < rule.min_posts:
        return None
    before = posts_between(arrivals, minute - window - 59, minute - window)
    if before == 0:
        return f"{recent} posts in {window} min, none in the hour before"
    factor = recent / (before * window / 60)  # the previous hour's rate scaled down to the window
    if factor < rule.ratio:
        return None
    return f"{recent} posts in {window} min, {factor:.0f}× its previous hour"


def as_of(story: Story, now: datetime, rule: SpikeRule = SpikeRule(), close_after: timedelta = CLOSE_AFTER) -> Story:
    """`story` as it stands at `now`: its rate and spike from its arrivals, closed once quiet for `close_after`."""
    return replace(
        story,
        velocity=velocity(story.arrivals, now),
        spike=spike(story.arrivals, now, rule),
        live=story.live and now - story.last_seen <= close_after,
    )


def most_active(stories: Iterable[Story]) -> list[Story]:
    """Fastest first, then the most recent: stories already brought to one time by `as_of`."""
    return sorted(stories, key=lambda s: (-s.velocity, -s.last_seen.timestamp(), -s.id))


@dataclass(slots=True)
class Activity:
    """A live story's arrivals in the `horizon` minutes up to its newest: at most that many entries,
    however busy the story."""

    horizon: int
    counts: dict[int, int] = field(default_factory=dict)
    newest: int = -(2**62)

    def add(self, ts: float) -> None:
        minute = minute_of(ts)
        if minute <= self.newest - self.horizon:
            return  # a backlog post too old to count towards any rate from now on
        self.counts[minute] = self.counts.get(minute, 0) + 1
        if minute > self.newest:
            self.newest = minute
            self._trim()

    def merge(self, other: Activity) -> None:
        for minute, posts in other.counts.items():
            self.counts[minute] = self.counts.get(minute, 0) + posts
        self.newest = max(self.newest, other.newest)
        self._trim()

    def arrivals(self) -> Arrivals:
        return tuple(sorted(self.counts.items()))

    def _trim(self) -> None:
        for minute in [m for m in self.counts if m <= self.newest - self.horizon]:
            del self.counts[minute]


@dataclass(slots=True)
class StoryState:
    """A live story as the story builder sees it."""

    id: int
    centroid: dict[str, float]
    norm2: float
    first_seen: float
    last_seen: float
    activity: Activity
    length: float = 1e-6  # sqrt(norm2), kept beside it: read for every candidate of every post
    size: int = 0
    sources: set[str] = field(default_factory=set)
    authors: set[str] = field(default_factory=set)
    keys: deque[tuple[float, tuple[str, str]]] = field(default_factory=deque)  # (time, post key), oldest first
    # (similarity when the post joined, its first line, its vector): the label is the candidate
    # closest to the centroid, so the label follows the story as it grows.
    candidates: list[tuple[float, str, dict[str, float]]] = field(default_factory=list)

    def add_vector(self, vector: dict[str, float], weight: float) -> None:
        """Adds `weight * vector` to the centroid."""
        centroid = self.centroid
        norm2 = self.norm2
        get = centroid.get
        for term, value in vector.items():
            old = get(term, 0.0)
            new = old + weight * value
            centroid[term] = new
            norm2 += new * new - old * old
        self.norm2 = norm2
        self.length = math.sqrt(max(norm2, 1e-12))

    def prune(self, keep: int) -> list[str]:
        """Drops all but the `keep` heaviest centroid terms; returns the dropped ones."""
        # Heaviest first, ties in term order: by term, then stably by weight (two sorts with keys in C
        # cost a fifth of one by a (-weight, term) key made in Python).
        ranked = sorted(sorted(self.centroid.items(), key=_TERM), key=_WEIGHT, reverse=True)
        dropped = [term for term, _ in ranked[keep:]]
        self.centroid = dict(ranked[:keep])
        weights = list(self.centroid.values())
        self.norm2 = sum(map(mul, weights, weights))
        self.length = math.sqrt(max(self.norm2, 1e-12))
        return dropped

    def cosine(self, vector: dict[str, float]) -> float:
        """Cosine between the centroid and a normalised vector."""
        # map() keeps the loop in C: this runs for every candidate of every post.
        dot: float = sum(map(mul, vector.values(), map(self.centroid.get, vector, repeat(0.0))))
        return dot / self.length

    def cosine_over(self, vector: dict[str, float], shared: list[str]) -> float:
        """`cosine(vector)` from `shared`: the vector's terms the centroid holds, in the vector's order.

        Bit for bit the same: every other term adds a product of +0.0 to a sum of products of positive
        weights, which leaves it as it is; the rest are added in the same order."""
        centroid = self.centroid
        dot: float = sum(map(mul, map(vector.__getitem__, shared), map(centroid.__getitem__, shared)))
        return dot / self.length

    def offer_label(self, score: float, line: str, vector: dict[str, float], limit: int) -> None:
        if not line:
            return
        self.candidates.append((score, line, vector))
        if len(self.candidates) > limit:
            self.candidates.sort(key=_SIMILARITY, reverse=True)  # stable, as by -similarity; a key in C
            del self.candidates[limit:]

    def label(self) -> str:
        if not self.candidates:
            return ""
        return max(self.candidates, key=lambda c: (self.cosine(c[2]), -len(c[1])))[1]


_SIMILARITY = itemgetter(0)  # a label candidate's similarity
_TERM, _WEIGHT = itemgetter(0), itemgetter(1)  # of a (term, weight) pair


def centroid_cosine(a: StoryState, b: StoryState) -> float:
    small, large = (a, b) if len(a.centroid) <= len(b.centroid) else (b, a)
    dot: float = sum(map(mul, small.centroid.values(), map(large.centroid.get, small.centroid, repeat(0.0))))
    return dot / (a.length * b.length)
