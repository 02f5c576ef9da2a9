"""Matched posts read from a stream and not yet stored, and where the stream stands. Pure.

Between a stream and the single writer: a stream reads faster than any store writes during a
hiccup, so what waits must be bounded. Unmatched frames never take a place: each only moves the
position on (they are what is dropped first, and at once). When `capacity` matched posts wait, the
backlog is full and the reader stops reading until the store catches up: a matched post is never
dropped, and the server keeps the rest (a stream that falls too far behind is dropped by its server
and resumes from its cursor).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.sources.jsonapi import is_newer
from storage.types import Post


@dataclass(frozen=True, slots=True)
class Waiting:
    post: Post
    position: str
    """Where the stream stood once the post was read: the cursor to store with it."""


class Backlog:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.position = ""
        """The newest position read (ids of federated posts may come out of order: the newest counts)."""
        self._waiting: deque[Waiting] = deque()

    def __len__(self) -> int:
        return len(self._waiting)

    @property
    def full(self) -> bool:
        return len(self._waiting) >= self.capacity

    def read(self, position: str) -> None:
        """A frame was read that moves the stream to `position` ("" moves nothing)."""
        if position and is_newer(position, self.position):
            self.position = position

    def add(self, post: Post) -> None:
        """A matched post, read with the last frame."""
        self._waiting.append(Waiting(post, self.position))

    def take(self, limit: int) -> tuple[list[Waiting], str]:
        """Up to `limit` of the oldest waiting posts, and the cursor to store with them: the position
        read last when nothing is left waiting, else the one read with the last post taken (what
        still waits is read again after a crash, never skipped)."""
        taken = [self._waiting.popleft() for _ in range(min(limit, len(self._waiting)))]
        return taken, (taken[-1].position if self._waiting else self.position)

    def put_back(self, taken: Sequence[Waiting]) -> None:
        """Posts a failed write did not store: first in line again."""
        self._waiting.extendleft(reversed(taken))
