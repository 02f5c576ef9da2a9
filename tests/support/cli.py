"""`python -m monitor.cli` as a real subprocess, the way a user runs it, and what it stored.

Shared by the tests that drive the command line end to end, so each one states only what it checks.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import IO, Literal, overload

ROOT = Path(__file__).resolve().parents[2]


HOME_FOLDERS = Path(tempfile.mkdtemp(prefix="monitor-tests-"))
"""The user config and data folders the commands under test see: never the developer's own."""


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without MONITOR_* settings (a developer's database URL or token must not reach
    the command under test) and with user folders of its own (no feeds.toml of the developer's is
    found by default), with the checkout importable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    folders = {"XDG_CONFIG_HOME": str(HOME_FOLDERS / "config"), "XDG_DATA_HOME": str(HOME_FOLDERS / "data")}
    return env | folders | {"PYTHONPATH": str(ROOT)} | extra


@overload
def monitor(*argv: str, cwd: Path, env: dict[str, str] | None = None, input: str | None = None,
            text: Literal[True] = True, timeout: float = 120) -> subprocess.CompletedProcess[str]: ...


@overload
def monitor(*argv: str, cwd: Path, env: dict[str, str] | None = None, input: bytes | None = None,
            text: Literal[False], timeout: float = 120) -> subprocess.CompletedProcess[bytes]: ...


def monitor(
    *argv: str, cwd: Path, env: dict[str, str] | None = None, input: str | bytes | None = None, text: bool = True,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str] | subprocess.CompletedProcess[bytes]:
    """Run `monitor *argv` to the end in `cwd`; the caller checks the exit code (a failure is often the point).

    `text=False` keeps stdout and stderr as the raw bytes a terminal would receive."""
    return subprocess.run([sys.executable, "-m", "monitor.cli", *argv], check=False, capture_output=True,
                          input=input, text=text, env=clean_env() if env is None else env, cwd=cwd, timeout=timeout)


def start_daemon(config: Path, env: dict[str, str] | None = None,
                 stderr: int | IO[bytes] = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """Start `monitor run --config config` in the config's directory (where its monitor.db goes)."""
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=stderr, env=clean_env() if env is None else env,
                            cwd=config.parent)


def wait_for(condition: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout:g} s")
        time.sleep(0.05)


def stored_keys(db: Path) -> list[tuple[str, str]]:
    """Every stored post's (source, post_id), one row per stored row (so duplicates show), read-only."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return [(source, post_id) for source, post_id in conn.execute("SELECT source, post_id FROM posts")]
