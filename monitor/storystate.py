"""One live story's running state: centroid, members, activity clock, label candidates.

Kept apart from the clusterer's decisions so each piece stays small; pure stdlib.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right, insort
from collections import deque
from dataclasses import dataclass, field
from itertools import repeat
from operator import mul

HOUR = 3600.0
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


@dataclass(slots=True)
class Activity:
    """Post times within the last `horizon` seconds, sorted, for velocity and spikes."""

    horizon: float
    times: list[float] = field(default_factory=list)

    def add(self, ts: float) -> None:
        if not self.times or ts >= self.times[-1]:
            self.times.append(ts)
        else:
            insort(self.times, ts)
        self.trim(self.times[-1])

    def trim(self, now: float) -> None:
        cut = bisect_left(self.times, now - self.horizon)
        if cut:
            del self.times[:cut]

    def count_between(self, start: float, end: float) -> int:
        """Posts with start < time <= end."""
        return bisect_right(self.times, end) - bisect_right(self.times, start)

    def merge(self, other: Activity) -> None:
        self.times = sorted(self.times + other.times)


@dataclass(slots=True)
class StoryState:
    """A live story as the clusterer sees it."""

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
        ranked = sorted(self.centroid.items(), key=lambda item: (-item[1], item[0]))
        dropped = [term for term, _ in ranked[keep:]]
        self.centroid = dict(ranked[:keep])
        self.norm2 = sum(v * v for v in self.centroid.values())
        self.length = math.sqrt(max(self.norm2, 1e-12))
        return dropped

    def cosine(self, vector: dict[str, float]) -> float:
        """Cosine between the centroid and a normalised vector."""
        # map() keeps the loop in C: this runs for every candidate of every post.
        dot: float = sum(map(mul, vector.values(), map(self.centroid.get, vector, repeat(0.0))))
        return dot / self.length

    def shared_terms(self, terms: list[str]) -> int:
        """How many of `terms` the centroid also holds."""
        return sum(map(self.centroid.__contains__, terms))

    def offer_label(self, score: float, line: str, vector: dict[str, float], limit: int) -> None:
        if not line:
            return
        self.candidates.append((score, line, vector))
        if len(self.candidates) > limit:
            self.candidates.sort(key=lambda c: -c[0])
            del self.candidates[limit:]

    def label(self) -> str:
        if not self.candidates:
            return ""
        return max(self.candidates, key=lambda c: (self.cosine(c[2]), -len(c[1])))[1]


def centroid_cosine(a: StoryState, b: StoryState) -> float:
    small, large = (a, b) if len(a.centroid) <= len(b.centroid) else (b, a)
    dot: float = sum(map(mul, small.centroid.values(), map(large.centroid.get, small.centroid, repeat(0.0))))
    return dot / (a.length * b.length)


def spike_reason(
    activity: Activity, now: float, window: float, min_posts: int, ratio: float
) -> str | None:
    """'12 posts in 10 min, 4× its previous hour' when the last `window` runs hot, else None."""
    recent = activity.count_between(now - window, now)
    if recent < min_posts:
        return None
    before = activity.count_between(now - window - HOUR, now - window)
    minutes = round(window / 60)
    if before == 0:
        return f"{recent} posts in {minutes} min, none in the hour before"
    # Compare like with like: the previous hour's rate scaled down to the window.
    factor = recent / (before * window / HOUR)
    if factor < ratio:
        return None
    return f"{recent} posts in {minutes} min, {factor:.0f}× its previous hour"
