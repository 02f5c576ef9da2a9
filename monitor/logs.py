"""Where the log goes: stderr for the commands, a rotating file while the dashboard owns the terminal.

Libraries are quiet by default: APScheduler announces every tick at INFO (2.5 lines a second),
Alembic every migration context, httpx every URL with its query (a token may be in it). The
daemon's own log says one line per poll.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(message)s"
QUIET = ("apscheduler", "alembic", "httpx", "httpcore")
LOG_BYTES = 5 * 2**20
"""One log file's size before it is rotated: a week of polls of a few dozen feeds."""
LOG_FILES = 3
"""Rotated files kept beside the current one (monitor.log.1 … .3): at most 20 MB in all."""


def to_stderr(verbose: bool = False) -> None:
    """The log goes to stderr (unless the process already set up its own handlers, as a test may)."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=FORMAT, stream=sys.stderr)
    _quiet_libraries()


def to_file(path: Path, *, max_bytes: int = LOG_BYTES, backups: int = LOG_FILES) -> None:
    """The log goes to `path` only, rotated at `max_bytes` with `backups` old files kept."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _quiet_libraries()


def _quiet_libraries() -> None:
    for name in QUIET:  # even with --verbose: httpx at DEBUG quotes request headers
        logging.getLogger(name).setLevel(logging.WARNING)
