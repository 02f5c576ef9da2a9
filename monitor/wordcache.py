"""wordfreq's tables kept as SQLite files in the user's cache folder, for processes that ask few words.

Reading a table into a dict costs ~0.1 s of CPU (English: 321k words gunzipped, unpacked and hashed),
a twelfth of a `monitor ingest` of 6,000 posts, which asks ~5,000 words. A word looked up in an
indexed file costs ~6 µs. So a process asks its first ASKED_OF_FILE words of the file and reads the
whole table only when it asks more (a daemon, a big ingest): at worst a process spends ~0.1 s more
than the dict alone would have cost, and a short one ~0.07 s less.

The file is made the first time a language is asked for (~0.5 s, once per machine and wordfreq
version: its name holds the source file's size and modification time), written under a temporary
name and renamed, so a process never reads half a file. Where the cache folder cannot be written or
read, the dict is read as before. The answers are the same either way (tests/test_wordcache.py).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

ASKED_OF_FILE = 15_000
"""Words a process asks of the file before it reads the whole table: ~6 µs each, ~0.09 s in all,
about what reading the table costs."""

Table = Mapping[str, float]


class WordLookup:
    """`get(word)` as the table's dict answers it: from the cache file, or past ASKED_OF_FILE words
    (or without a usable file) from the table itself."""

    def __init__(self, source: Path | None, read_table: Callable[[], Table], folder: Path | None) -> None:
        self._read_table = read_table
        self._table: Table | None = None
        self._asked = 0
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        path = _path(source, folder)
        if path is not None and path.exists():
            self._db = _connect(path)
        elif path is not None:  # the first process on this machine: it reads the table, the next ones need not
            _write(path, self._whole())

    def get(self, word: str) -> float | None:
        table = self._table
        if table is not None:
            return table.get(word)
        with self._lock:  # one connection, shared by the threads that featurize
            self._asked += 1
            if self._db is not None and self._asked <= ASKED_OF_FILE:
                row = self._db.execute("SELECT frequency FROM words WHERE word = ?", (word,)).fetchone()
                return None if row is None else float(row[0])
        return self._whole().get(word)

    def _whole(self) -> Table:
        with self._lock:
            if self._table is None:
                self._table = self._read_table()
                if self._db is not None:
                    self._db.close()
                    self._db = None
            return self._table


def cache_folder() -> Path | None:
    """Where the files live (platformdirs' user cache folder, `monitor/words`); None when unusable."""
    from platformdirs import user_cache_path

    folder = user_cache_path("monitor", appauthor=False) / "words"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


def _path(source: Path | None, folder: Path | None) -> Path | None:
    """The cache file of `source`, named for its size and time: a new wordfreq, a new file."""
    if source is None or folder is None:
        return None
    try:
        stat = source.stat()
    except OSError:
        return None
    return folder / f"{source.name.split('.')[0]}-{stat.st_size}-{stat.st_mtime_ns}.sqlite"


def _connect(path: Path) -> sqlite3.Connection | None:
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
        db.execute("SELECT frequency FROM words LIMIT 1").fetchone()  # a damaged file fails here
        return db
    except sqlite3.Error:
        with contextlib.suppress(OSError):
            path.unlink()  # made again by the next process
        return None


def _write(path: Path, table: Table) -> None:
    """`table` as a file at `path`, written under a temporary name and renamed: whole or not at all,
    whoever else is making it; nothing when the folder cannot be written."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        with contextlib.closing(sqlite3.connect(partial)) as db:
            db.execute("CREATE TABLE words (word TEXT PRIMARY KEY, frequency REAL NOT NULL) WITHOUT ROWID")
            db.executemany("INSERT INTO words VALUES (?, ?)", table.items())
            db.commit()
        os.replace(partial, path)
    except (OSError, sqlite3.Error):
        pass  # the table is in memory already; the next process tries again
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
