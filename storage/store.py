"""The `Store`: typed reads and one-transaction writes over the monitor database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType

from storage.types import Batch, DaemonInfo, FeedState, Stats, StoredPost, Story


def open_store(url: str, *, readonly: bool = False) -> Store:
    """Open (and, unless readonly, migrate) the database at `url`."""
    raise NotImplementedError


class Store:
    """The one door to the database. Driver errors come out as StorageError."""

    url: str

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError

    def lock_writer(self) -> None:
        raise NotImplementedError

    def heartbeat(self, now: datetime) -> None:
        raise NotImplementedError

    def daemon(self) -> DaemonInfo | None:
        raise NotImplementedError

    def sync_feeds(self, names: Sequence[str], now: datetime) -> None:
        raise NotImplementedError

    def feed_states(self) -> list[FeedState]:
        raise NotImplementedError

    def feed_state(self, name: str) -> FeedState:
        raise NotImplementedError

    def due_feeds(self, now: datetime, names: Sequence[str]) -> list[str]:
        raise NotImplementedError

    def known(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        raise NotImplementedError

    def write(self, batch: Batch) -> int:
        raise NotImplementedError

    def posts(
        self,
        *,
        topic: str | None = None,
        cluster: int | None = None,
        limit: int | None = None,
        text: str | None = None,
        source: str | None = None,
        since: datetime | None = None,
    ) -> list[StoredPost]:
        raise NotImplementedError

    def stories(
        self, *, topic: str | None = None, live_only: bool = False, limit: int | None = None
    ) -> list[Story]:
        raise NotImplementedError

    def story(self, story_id: int) -> Story | None:
        raise NotImplementedError

    def topics(self) -> list[str]:
        raise NotImplementedError

    def revision(self) -> int:
        raise NotImplementedError

    def stats(self, now: datetime) -> Stats:
        raise NotImplementedError

    def live_window(self, since: datetime) -> list[StoredPost]:
        raise NotImplementedError

    def max_story_id(self) -> int:
        raise NotImplementedError
