"""The `Store`: typed reads and one-transaction writes over the monitor database.

Every public method turns driver errors (sqlalchemy.exc.*) into a one-line StorageError here,
and nowhere else. The SQL lives in reads.py and writes.py; this module opens connections and
transactions around them. Times come from the caller (the command's clock), never the wall clock.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from storage import migrate, reads, writes
from storage.engine import display_url, make_engine, normalize_url, sqlite_path
from storage.errors import StorageError
from storage.lock import AdvisoryLock, FileLock, StoryLock, WriterLock
from storage.types import (
    Alert,
    Batch,
    DaemonInfo,
    FeedState,
    LearnedTerm,
    NewAlert,
    QueuedAlert,
    Stats,
    StoredPost,
    Story,
    StreamStatus,
)

if TYPE_CHECKING:
    from storage.work import SharedWork

P = ParamSpec("P")
R = TypeVar("R")


def one_line(exc: BaseException) -> str:
    """The driver's own message, first line only, without SQLAlchemy's SQL and parameter dump."""
    source = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(source).strip().splitlines()
    return lines[0].strip() if lines else type(source).__name__


def open_store(url: str, *, readonly: bool = False) -> Store:
    """Open (and, unless readonly, migrate) the database at `url`."""
    parsed = normalize_url(url)
    shown = display_url(parsed)
    try:
        engine = make_engine(parsed, readonly=readonly)
    except ImportError as exc:
        raise StorageError(f"cannot open {shown}: missing database driver ({exc.name})") from exc
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot open {shown}: {one_line(exc)}") from exc
    try:
        if readonly:
            migrate.check_readable(engine, shown)
        else:
            migrate.upgrade(engine, shown)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StorageError(f"cannot open database {shown}: {one_line(exc)}") from exc
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, url, parsed, readonly=readonly)


class Shown(Protocol):
    shown: str


S = TypeVar("S", bound=Shown)


def _wrapped(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Driver errors of a method of a store (or of its shared work) as one-line StorageErrors."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except SQLAlchemyError as exc:
            raise StorageError(f"database error on {self.shown}: {one_line(exc)}") from exc

    return wrapper


class Store:
    """The one door to the database. Driver errors come out as StorageError."""

    def __init__(self, engine: Engine, url: str, parsed: URL, *, readonly: bool) -> None:
        self.url = url
        self.shown = display_url(parsed)
        self.readonly = readonly
        self._engine = engine
        self._parsed = parsed
        self._lock: WriterLock | None = None
        self._started: datetime | None = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database; a writer first says it stopped (see DaemonInfo.stopped), then unlocks."""
        if self._lock is not None:
            # A full disk must not keep the lock: readers then fall back on the missed beats.
            with contextlib.suppress(SQLAlchemyError):
                self._write(writes.stopped)
            self._lock.release()
            self._lock = None
        self._engine.dispose()

    def _write(self, body: Callable[[Connection], R]) -> R:
        if self.readonly:
            raise StorageError(f"{self.shown} is open read-only")
        with self._engine.begin() as conn:
            return body(conn)

    def _read(self, body: Callable[[Connection], R]) -> R:
        with self._engine.connect() as conn:
            return body(conn)

    # single writer

    @_wrapped
    def lock_writer(self, now: datetime, holder: str = "") -> None:
        """Become the only writer until close(), or raise StorageError naming the current one.

        `holder` names this writer's command (`monitor ingest`) in the message another writer gets."""
        if self._lock is not None:
            return
        path = sqlite_path(self._parsed)
        if self._parsed.get_backend_name() == "sqlite":
            if path is not None:
                lock_file = Path(f"{path}.lock")
                try:
                    self._lock = FileLock(lock_file, self.shown, holder)
                except OSError as exc:
                    raise StorageError(f"cannot lock {lock_file}: {exc.strerror}") from exc
        else:
            self._lock = AdvisoryLock(self._engine, self.shown, holder, self._holder_pid)
        self.heartbeat(now)

    def _holder_pid(self) -> int | None:
        info = self.daemon()
        return info.pid if info else None

    @_wrapped
    def heartbeat(self, now: datetime) -> None:
        """Record that this process is alive (the daemon row); does not bump the revision."""
        self._started = self._started or now
        row = {"id": 1, "pid": os.getpid(), "host": socket.gethostname(), "started": self._started, "beat": now}
        self._write(lambda conn: writes.heartbeat(conn, row))

    @_wrapped
    def daemon(self) -> DaemonInfo | None:
        return self._read(reads.daemon)

    def shared(self) -> bool:
        """Whether several daemons may share this store (PostgreSQL) or one writes alone (SQLite)."""
        return self._parsed.get_backend_name() == "postgresql"

    def work(self) -> SharedWork:
        """The worker registry, feed leases and inbox of a shared store (storage/work.py)."""
        from storage.work import SharedWork

        return SharedWork(self)

    def transaction(self, body: Callable[[Connection], R]) -> R:
        """`body` in one write transaction (for storage/work.py; other callers use the methods)."""
        return self._write(body)

    def connection(self, body: Callable[[Connection], R]) -> R:
        """`body` over one read connection (for storage/work.py)."""
        return self._read(body)

    def story_lock(self, holder: str) -> StoryLock:
        """The story lock of a shared store: the writer lock's key, tried without waiting."""
        return StoryLock(self._engine, holder)

    # streams

    @_wrapped
    def save_streams(self, statuses: Sequence[StreamStatus]) -> None:
        """What the daemon says of its live streams now; does not bump the revision."""
        self._write(lambda conn: writes.save_streams(conn, statuses))

    @_wrapped
    def streams(self) -> list[StreamStatus]:
        """Each live stream as the daemon last reported it, by name."""
        return self._read(reads.streams)

    # feeds

    @_wrapped
    def sync_feeds(self, names: Sequence[str], now: datetime) -> None:
        """Rows for feeds not seen before, due at `now`; existing rows keep their state."""

        def body(conn: Connection) -> None:
            writes.sync_feeds(conn, names, now)
            writes.bump_revision(conn, now)

        self._write(body)

    @_wrapped
    def feed_states(self) -> list[FeedState]:
        return self._read(reads.feed_states)

    @_wrapped
    def feed_state(self, name: str) -> FeedState:
        """The stored state, or a fresh one for a feed never synced."""
        return self._read(lambda conn: reads.feed_state(conn, name)) or FeedState(name=name)

    @_wrapped
    def retry_feed(self, name: str, now: datetime) -> None:
        """The feed due at `now`, its backoff cleared (`monitor feeds retry`); a row is made if it has none."""

        def body(conn: Connection) -> None:
            writes.sync_feeds(conn, [name], now)
            writes.retry_feed(conn, name, now)

        self._write(body)

    @_wrapped
    def due_feeds(self, now: datetime, names: Sequence[str]) -> list[str]:
        """Those of `names` whose next check has come, soonest first; unknown names are due now."""
        checks = self._read(lambda conn: reads.next_checks(conn, names))
        due = [(checks.get(n) or now, n) for n in dict.fromkeys(names) if (checks.get(n) or now) <= now]
        return [name for _, name in sorted(due)]

    # writes

    @_wrapped
    def known(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (source, id) pairs among `keys` that are already stored."""
        wanted = list(keys)
        return set(self._read(lambda conn: writes.pks_of(conn, wanted)))

    @_wrapped
    def write(self, batch: Batch, now: datetime) -> int:
        """Store one poll's results in one transaction, as of `now` (posts' arrival, the last write);
        returns how many posts were new."""
        return self._write(lambda conn: writes.write_batch(conn, batch, now))

    # reads

    @_wrapped
    def posts(
        self,
        *,
        topic: str | None = None,
        story: int | None = None,
        limit: int | None = None,
        text: str | None = None,
        source: str | None = None,
        since: datetime | None = None,
    ) -> list[StoredPost]:
        """Newest first (published, then arrival); `story` includes the story's folded duplicates.

        `text` is a case-insensitive substring of text, title or author; `since` bounds `published`.
        """
        flt = reads.PostFilter(topic, story, limit, text, source, since)
        return self._read(lambda conn: reads.posts(conn, flt))

    @_wrapped
    def stories(
        self, *, topic: str | None = None, live_only: bool = False, limit: int | None = None,
        live_since: datetime | None = None, active_since: datetime | None = None,
    ) -> list[Story]:
        """Newest first (last_seen); merged-away stories never appear. With `live_only`, live stories,
        and with `live_since` only those with a post since then. With `active_since`, every story seen
        since then comes whatever `limit` says, and up to `limit` more after them.

        Their velocity and spike are not filled in: those depend on the time they are read at
        (monitor.storyreads gives stories most active first as of a time)."""
        flt = reads.StoryFilter(topic, live_only, live_since, limit, active_since)
        return self._read(lambda conn: reads.stories(conn, flt))

    @_wrapped
    def recent_published(self, story_ids: Sequence[int], *, per_story: int = 64) -> dict[int, list[datetime]]:
        """Each story's newest `per_story` publish times, newest first, in one query (sparklines).

        A story counts its posts and their folded duplicates, as `posts(story=...)` lists them;
        every id asked for is a key, with [] for a story without posts."""
        return self._read(lambda conn: reads.recent_published(conn, story_ids, per_story))

    @_wrapped
    def topic_counts(self) -> dict[str, tuple[int, int]]:
        """(matched posts, live stories) per stored topic."""
        return self._read(reads.topic_counts)

    @_wrapped
    def learned_terms(self, topic: str | None = None) -> list[LearnedTerm]:
        """What the learning topics have learned, heaviest first within each topic."""
        return self._read(lambda conn: reads.learned_terms(conn, topic))

    @_wrapped
    def story(self, story_id: int) -> Story | None:
        """The story by id, even a merged-away one (follow nothing: callers may show the merge)."""
        return self._read(lambda conn: reads.story_by_id(conn, story_id))

    @_wrapped
    def topics(self) -> list[str]:
        return self._read(reads.topics)

    @_wrapped
    def revision(self) -> int:
        """A counter every write bumps: poll it and re-read only when it changed."""
        return self._read(reads.revision)

    @_wrapped
    def stats(self, now: datetime) -> Stats:
        return self._read(lambda conn: reads.stats(conn, now))

    @_wrapped
    def live_window(self, since: datetime) -> list[StoredPost]:
        """Posts of live stories seen since `since`, oldest first, one per (post, topic) with its
        story as `story`: what the story builder and deduper rebuild their state from after a restart."""
        return self._read(lambda conn: reads.live_window(conn, since))

    @_wrapped
    def max_story_id(self) -> int:
        """The highest story id in use (0 when none), so new ids continue after a restart."""
        return self._read(reads.max_story_id)


    # the alerts outbox (written by the pipeline with the story changes, worked through by the sender)

    @_wrapped
    def fired_alerts(self) -> list[tuple[str, str, int]]:
        """(rule, event, story id) of the story alerts of stories still live."""
        return self._read(reads.fired_alerts)

    @_wrapped
    def alert_queue(self) -> list[QueuedAlert]:
        """Alerts still to go (pending, failing, held), oldest first, without their payloads."""
        return self._read(reads.alert_queue)

    @_wrapped
    def sent_since(self, since: datetime) -> dict[str, int]:
        """Per rule, the single alerts (not digests) delivered since `since`."""
        return self._read(lambda conn: reads.sent_since(conn, since))

    @_wrapped
    def last_sent(self) -> dict[str, datetime]:
        return self._read(reads.last_sent)

    @_wrapped
    def alerts(self, ids: Sequence[int]) -> list[Alert]:
        """The alerts with these ids, oldest first."""
        return self._read(lambda conn: reads.alerts_by_id(conn, ids))

    @_wrapped
    def recent_alerts(self, *, limit: int | None = None, rule: str | None = None) -> list[Alert]:
        """Newest first."""
        return self._read(lambda conn: reads.recent_alerts(conn, limit, rule))

    @_wrapped
    def alerted_stories(self, story_ids: Sequence[int]) -> set[int]:
        """Those of `story_ids` some rule alerted on."""
        return self._read(lambda conn: reads.alerted_stories(conn, story_ids))

    @_wrapped
    def hold_alerts(self, ids: Sequence[int], digest_at: datetime, now: datetime) -> None:
        """Past the hourly budget: these wait for a digest due at `digest_at`."""
        self._outbox(lambda conn: writes.hold_alerts(conn, ids, digest_at), now)

    @_wrapped
    def fold_into_digest(self, held: Sequence[int], digest: NewAlert, now: datetime) -> int | None:
        """Add `digest` (pending) and mark the `held` alerts as carried by it; its id."""
        return self._outbox(lambda conn: writes.fold_into_digest(conn, held, digest, now), now)

    @_wrapped
    def alert_sent(self, alert_id: int, answer: str, now: datetime) -> None:
        self._outbox(lambda conn: writes.alert_sent(conn, alert_id, answer, now), now)

    @_wrapped
    def alert_failed(self, alert_id: int, answer: str, retry_at: datetime, now: datetime) -> None:
        self._outbox(lambda conn: writes.alert_failed(conn, alert_id, answer, retry_at), now)

    def _outbox(self, body: Callable[[Connection], R], now: datetime) -> R:
        """A change of delivery state, which readers (the dashboard) see through the revision."""

        def both(conn: Connection) -> R:
            result = body(conn)
            writes.bump_revision(conn, now)
            return result

        return self._write(both)
