"""The dashboard's revision watch against a real SQLite file that another connection commits to."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.tui.watch import RevisionWatch, store_hint
from storage.errors import StorageError
from storage.store import open_store
from tests.support.dashboard import T0, db_url, new_post, write

WAIT = 10.0  # seconds: a bound on waiting for the watch's thread, not a pause


@contextmanager
def watching(read: object, url: str, every: float = 0.01) -> Iterator[queue.Queue[tuple[str, object]]]:
    heard: queue.Queue[tuple[str, object]] = queue.Queue()
    watch = RevisionWatch(read, every, lambda r: heard.put(("moved", r)),  # type: ignore[arg-type]
                          lambda e: heard.put(("failed", e)), hint=store_hint(url))
    watch.start()
    try:
        yield heard
    finally:
        watch.stop()


def test_a_commit_is_heard_once(tmp_path: Path) -> None:
    """The first read counts as a move; a commit by another connection is heard, and only once."""
    url = db_url(tmp_path)
    with open_store(url) as writer, open_store(url, readonly=True) as reader, watching(reader.revision, url) as heard:
        first = heard.get(timeout=WAIT)
        assert first == ("moved", reader.revision())
        write(writer, now=T0, posts=[new_post("p1", "quake", at=T0)])
        assert heard.get(timeout=WAIT) == ("moved", reader.revision())
        assert first[1] != reader.revision()
        write(writer, now=T0, posts=[new_post("p2", "quake", at=T0)])
        assert heard.get(timeout=WAIT) == ("moved", reader.revision())
        assert heard.empty()


def test_an_unreadable_store_is_told_once_and_heard_again(tmp_path: Path) -> None:
    """While reads fail, one failure per distinct error; once readable, the revision counts as a move."""
    url = db_url(tmp_path)
    failing = iter([True, True])

    with open_store(url) as store:
        def read() -> int:
            if next(failing, False):
                raise StorageError("the disk is gone")
            return store.revision()

        with watching(read, url, every=0.001) as heard:
            assert heard.get(timeout=WAIT) == ("failed", "the disk is gone")
            assert heard.get(timeout=WAIT) == ("moved", store.revision())


def test_no_hint_for_a_server() -> None:
    assert store_hint("postgresql+psycopg://u@127.0.0.1:5432/x") is None
