"""Counts and rates of one stream, for `monitor status`. Pure: the runner brings the times."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from storage.types import StreamStatus

WINDOW = 10.0
"""Rates are over about the last ten seconds."""


@dataclass
class Meter:
    name: str
    frames: int = 0
    matched: int = 0
    posts: int = 0
    """Frames that held a post (matched or not)."""
    malformed: int = 0
    oversize: int = 0
    reconnects: int = 0
    connected_since: datetime | None = None
    last_sent: datetime | None = None
    """When the server sent the last frame that said."""
    lag: float | None = None
    """How far behind the server the stream was read when frames last came (a quiet stream keeps it)."""
    _marks: deque[tuple[float, int, int]] = field(default_factory=deque)

    def connected(self, now: datetime) -> None:
        if self.connected_since is None and self.frames:  # it read before: this is a reconnect
            self.reconnects += 1
        self.connected_since = now

    def disconnected(self) -> None:
        self.connected_since = None

    def status(self, now: datetime, moment: float, *, backlog: int = 0, full: bool = False) -> StreamStatus:
        """As of `now` (its wall clock) and `moment` (a monotonic clock in seconds, for the rates)."""
        if self.last_sent is not None and (not self._marks or self._marks[-1][1] != self.frames):
            self.lag = max((now - self.last_sent).total_seconds(), 0.0)
        self._marks.append((moment, self.frames, self.matched))
        while len(self._marks) > 1 and moment - self._marks[0][0] > WINDOW:
            self._marks.popleft()
        since, frames, matched = self._marks[0]
        span = moment - since
        return StreamStatus(
            name=self.name,
            updated=now,
            connected_since=self.connected_since,
            frames=self.frames,
            matched=self.matched,
            frames_per_s=(self.frames - frames) / span if span > 0 else 0.0,
            matched_per_s=(self.matched - matched) / span if span > 0 else 0.0,
            lag=self.lag,
            malformed=self.malformed,
            oversize=self.oversize,
            backlog=backlog,
            queue_full=full,
            reconnects=self.reconnects,
        )
