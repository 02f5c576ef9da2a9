"""Hearing the store change: one thread checks it every few tens of milliseconds and calls back only when
its revision moved (no Textual here).

Why a thread of its own: a Textual timer and worker per check cost the event loop ~2 ms, so checking that
often on the event loop would keep an idle dashboard busy, and checking seldom makes it late (a commit
waited half the poll: 250 ms on average at the old 500 ms). Why a hint: reading the revision costs ~0.5 ms
of CPU when done now and then (SQLAlchemy's checkout and a read transaction, with cold caches); a SQLite
store's files show a commit for ~0.05 ms (every commit writes the WAL, or the database file without one).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from storage.engine import normalize_url, sqlite_path
from storage.errors import StorageError

SURE_EVERY = 0.5  # seconds: the revision is read at least this often whatever the hint says

Hint = Callable[[], object]


def store_hint(url: str) -> Hint | None:
    """The hint of the store at `url`: its files' for SQLite; none for a server (its revision is read)."""
    path = sqlite_path(normalize_url(url))
    return file_hint(path) if path is not None else None


def file_hint(database: Path) -> Hint:
    """What a SQLite database's files look like now: it changes with every commit. Not a proof of no change
    (a file's time is coarse, and a reset WAL is rewritten at the same size): hence SURE_EVERY."""
    files = (database, database.with_name(database.name + "-wal"))

    def look() -> object:
        seen: list[tuple[int, int, int] | None] = []
        for path in files:
            try:
                st = os.stat(path)
            except OSError:
                seen.append(None)
                continue
            seen.append((st.st_mtime_ns, st.st_size, st.st_ino))
        return tuple(seen)

    return look


class RevisionWatch:
    """Calls `moved(revision)` from its thread when the revision differs from the last one read (the first
    read counts as a move), and `failed(error)` once per distinct error while the store cannot be read.
    With a `hint`, the revision is read only when the hint changed, or SURE_EVERY seconds after the last read."""

    def __init__(self, read: Callable[[], int], every: float, moved: Callable[[int], None],
                 failed: Callable[[str], None], *, hint: Hint | None = None) -> None:
        self._read = read
        self._every = every
        self._moved = moved
        self._failed = failed
        self._hint = hint
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="revision-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end; it does within one interval (it is a daemon: it never holds up an exit)."""
        self._stop.set()

    def _run(self) -> None:
        last: int | None = None
        error: str | None = None
        hinted: object = object()  # equal to no hint
        read_at = 0.0
        while not self._stop.wait(self._every):
            if self._hint is not None:
                hint = self._hint()  # before the read: a commit after it changes the next hint
                if hint == hinted and time.monotonic() - read_at < SURE_EVERY:
                    continue
                hinted = hint
            read_at = time.monotonic()
            try:
                revision = self._read()
            except StorageError as e:
                if str(e) != error:
                    error = str(e)
                    self._failed(error)
                last = None  # once readable again, the next read counts as a move
                continue
            error = None
            if revision != last:
                last = revision
                self._moved(revision)
