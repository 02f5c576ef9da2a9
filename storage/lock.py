"""The single-writer lock: a flock beside a SQLite file, an advisory lock on PostgreSQL.

Both die with their process, so a SIGKILLed daemon never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from storage.errors import StorageError


class WriterLock(Protocol):
    def release(self) -> None: ...


def refusal(holder: str | None, pid: int | None, shown: str) -> StorageError:
    who = f"`{holder}`" if holder else "another monitor process"
    return StorageError(f"{who} (pid {pid or 'unknown'}) is already writing to {shown}")


class FileLock:
    """An exclusive flock on `<db>.lock`; the file holds the owner's pid and command for the refusal message."""

    def __init__(self, path: Path, shown: str, holder: str) -> None:
        self.path = path
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, other = _read_owner(self._fd)
            os.close(self._fd)
            self._fd = None
            raise refusal(other, pid, shown) from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()} {holder}\n".encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            # Closing drops the flock; the file stays (removing it would race a new owner).
            os.close(self._fd)
            self._fd = None


def _read_owner(fd: int) -> tuple[int | None, str | None]:
    """(pid, command) from a lock file's "PID COMMAND" line; None for what it lacks."""
    pid, _, holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip().partition(" ")
    return (int(pid) if pid.isdigit() else None), (holder or None)


# An advisory lock on one bigint below 2**32 shows in pg_locks as classid 0, objid the key, objsubid 1.
_HOLDER_NAME = text(
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid::bigint = :k AND l.objsubid = 1"
)


def writer_key(connection: Connection) -> int:
    """The advisory lock key of the one writer (or, with workers, the one story worker) of a schema."""
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    return zlib.crc32(f"monitor-writer:{schema}".encode())


class AdvisoryLock:
    """pg_try_advisory_lock on a connection kept open until release; keyed by schema.

    The holding session's application_name names its command, for the refusal message."""

    def __init__(self, engine: Engine, shown: str, holder: str, holder_pid: Callable[[], int | None]) -> None:
        self._connection: Connection | None = engine.connect()
        other: str | None = None
        try:
            key = writer_key(self._connection)
            got = self._connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
            if got:
                self._connection.execute(text("SELECT set_config('application_name', :h, false)"), {"h": holder})
            else:
                other = self._connection.execute(_HOLDER_NAME, {"k": key}).scalar()
            self._connection.commit()  # session-level lock: it outlives this transaction
        except BaseException:
            self.release()
            raise
        if not got:
            self.release()
            raise refusal(other, holder_pid(), shown)

    def release(self) -> None:
        if self._connection is not None:
            # Closing the session (not returning it to the pool) releases the advisory lock.
            self._connection.invalidate()
            self._connection.close()
            self._connection = None


class StoryLock:
    """The story lock of workers sharing PostgreSQL: whoever holds it folds the inbox into stories.

    The writer lock's key, so `monitor ingest` (a writer on its own) and the story worker exclude each
    other. Tried at every tick, never waited for: a worker without it goes on polling. It dies with
    its session, so a SIGKILLed holder frees it at once and the next try of another worker takes it."""

    def __init__(self, engine: Engine, holder: str) -> None:
        self._engine = engine
        self._holder = holder
        self._connection: Connection | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None

    def take(self) -> bool:
        """Hold the lock if it is free (or check that it is still ours); whether it is held now."""
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1")).scalar_one()  # a lost session lost the lock
                self._connection.commit()  # not left idle in a transaction
                return True
            except SQLAlchemyError:
                self.release()
                return False
        # `held` is read from other threads: the connection is ours to keep only once the lock is got.
        connection = self._engine.connect()
        try:
            key = writer_key(connection)
            got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one())
            if got:
                connection.execute(text("SELECT set_config('application_name', :h, false)"), {"h": self._holder})
            connection.commit()  # session-level lock: it outlives this transaction
        except SQLAlchemyError:
            got = False
        if got:
            self._connection = connection
        else:
            _close(connection)
        return got

    def release(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            _close(connection)


def _close(connection: Connection) -> None:
    """Close the session itself (not back to the pool): that releases any advisory lock it holds."""
    try:
        connection.invalidate()
        connection.close()
    except SQLAlchemyError:
        pass
