"""One writer at a time, and a killed writer never leaves a lock that blocks the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from storage.errors import StorageError
from storage.store import open_store
from tests.support.cli import monitor, wait_for
from tests.support.feeds import T0

ROOT = Path(__file__).resolve().parents[1]

HOLDER = """
import sys
from datetime import UTC, datetime
from storage.store import open_store
store = open_store(sys.argv[1])
store.lock_writer(datetime.now(UTC), holder=sys.argv[2] if len(sys.argv) > 2 else "")
print("locked", flush=True)
sys.stdin.read()  # hold the lock until killed
"""


def test_a_second_writer_is_refused_with_the_first_ones_command_and_pid(database_url: str) -> None:
    with open_store(database_url) as first, open_store(database_url) as second:
        first.lock_writer(T0, holder="monitor ingest")
        first.lock_writer(T0, holder="monitor ingest")  # idempotent for the holder
        with pytest.raises(StorageError) as caught:
            second.lock_writer(T0, holder="monitor run")
        assert str(caught.value).startswith(f"`monitor ingest` (pid {os.getpid()}) is already writing to ")
        first.close()
        second.lock_writer(T0)  # released by close


def test_the_command_line_names_the_command_holding_the_lock(tmp_path: Path) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text('[[topics]]\nname = "v"\nkeywords = ["v"]\n\n'
                      '[[feeds]]\nname = "f"\ntype = "rss"\nurl = "http://127.0.0.1:9/f"\n')
    (tmp_path / "p.jsonl").write_text('{"id": "1", "text": "v", "published": "2024-03-01T12:00:00Z"}\n')
    with holding(f"sqlite:///{tmp_path / 'monitor.db'}", "monitor ingest") as holder:
        refused = monitor("run", "--once", "--config", str(config), cwd=tmp_path)
        assert refused.returncode == 2
        assert refused.stderr.startswith(f"monitor: `monitor ingest` (pid {holder.pid}) is already writing to "), \
            refused.stderr
        also = monitor("ingest", "p.jsonl", "--config", str(config), cwd=tmp_path)
        assert also.returncode == 2 and "`monitor ingest`" in also.stderr, also.stderr


@contextmanager
def holding(url: str, command: str) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the writer lock as `command`, until the block ends."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url, command], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()
        for stream in (holder.stdin, holder.stdout):
            if stream is not None:
                stream.close()


def test_a_sigkilled_writer_does_not_block_the_next(database_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database_url],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with open_store(database_url) as store:
            with pytest.raises(StorageError, match=f"pid {holder.pid}"):
                store.lock_writer(T0)
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=10)

            def acquired() -> bool:
                try:
                    store.lock_writer(T0)
                except StorageError:
                    return False
                return True

            wait_for(acquired, timeout=10, what="the lock freed by the killed holder")
            info = store.daemon()
            assert info is not None and info.pid == os.getpid()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        for stream in (holder.stdin, holder.stdout):
            if stream is not None:
                stream.close()


def test_the_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    with open_store(f"sqlite:///{db}") as store:
        store.lock_writer(T0, holder="monitor run")
        assert (tmp_path / "m.db.lock").read_text() == f"{os.getpid()} monitor run\n"
