"""One writer at a time, and a killed writer never leaves a lock that blocks the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from storage.errors import StorageError
from storage.store import open_store
from tests.support.cli import wait_for
from tests.support.feeds import T0

ROOT = Path(__file__).resolve().parents[1]

HOLDER = """
import sys
from datetime import UTC, datetime
from storage.store import open_store
store = open_store(sys.argv[1])
store.lock_writer(datetime.now(UTC))
print("locked", flush=True)
sys.stdin.read()  # hold the lock until killed
"""


def test_a_second_writer_is_refused_with_the_first_ones_pid(database_url: str) -> None:
    with open_store(database_url) as first, open_store(database_url) as second:
        first.lock_writer(T0)
        first.lock_writer(T0)  # idempotent for the holder
        with pytest.raises(StorageError) as caught:
            second.lock_writer(T0)
        assert str(caught.value).startswith(f"another `monitor run` (pid {os.getpid()}) is already writing to ")
        first.close()
        second.lock_writer(T0)  # released by close


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
        store.lock_writer(T0)
        assert (tmp_path / "m.db.lock").read_text().strip() == str(os.getpid())
