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

from storage.errors import StorageError


class WriterLock(Protocol):
    def release(self) -> None: ...


def refusal(pid: int | None, shown: str) -> StorageError:
    who = f"pid {pid}" if pid else "pid unknown"
    return StorageError(f"another `monitor run` ({who}) is already writing to {shown}")


class FileLock:
    """An exclusive flock on `<db>.lock`; the file holds the owner's pid for the refusal message."""

    def __init__(self, path: Path, shown: str) -> None:
        self.path = path
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(self._fd)
            os.close(self._fd)
            self._fd = None
            raise refusal(pid, shown) from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            # Closing drops the flock; the file stays (removing it would race a new owner).
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> int | None:
    raw = os.pread(fd, 32, 0).strip()
    return int(raw) if raw.isdigit() else None


class AdvisoryLock:
    """pg_try_advisory_lock on a connection kept open until release; keyed by schema."""

    def __init__(self, engine: Engine, shown: str, holder_pid: Callable[[], int | None]) -> None:
        self._connection: Connection | None = engine.connect()
        try:
            schema = self._connection.execute(text("SELECT current_schema()")).scalar_one()
            key = zlib.crc32(f"monitor-writer:{schema}".encode())
            got = self._connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
            self._connection.commit()  # session-level lock: it outlives this transaction
        except BaseException:
            self.release()
            raise
        if not got:
            self.release()
            raise refusal(holder_pid(), shown)

    def release(self) -> None:
        if self._connection is not None:
            # Closing the session (not returning it to the pool) releases the advisory lock.
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
