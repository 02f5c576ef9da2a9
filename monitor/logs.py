"""Where the log goes: stderr for the commands, a rotating file while the dashboard owns the terminal.

Libraries are quiet by default: APScheduler announces every tick at INFO (2.5 lines a second),
Alembic every migration context, httpx every URL with its query (a token may be in it). The
daemon's own log says one line per poll.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(message)s"
QUIET = ("apscheduler", "alembic", "httpx", "httpcore")
LOG_BYTES = 5 * 2**20
"""One log file's size before it is rotated: a week of polls of a few dozen feeds."""
LOG_FILES = 3
"""Rotated files kept beside the current one (monitor.log.1 … .3): at most 20 MB in all."""


def to_stderr(verbose: bool = False, *, as_json: bool = False) -> None:
    """The log goes to stderr, one line per event (under systemd, the journal keeps each as a record),
    as text or as JSON objects (unless the process already set up its own handlers, as a test may)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(FORMAT))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    _quiet_libraries()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, and the traceback if any.

    Eight lines, not a dependency: these five fields are all a log shipper needs from us."""

    def format(self, record: logging.LogRecord) -> str:
        event = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False)


def to_file(path: Path, *, max_bytes: int = LOG_BYTES, backups: int = LOG_FILES) -> None:
    """The log goes to `path` only, rotated at `max_bytes` with `backups` old files kept."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    from logging.handlers import RotatingFileHandler  # only the dashboard logs to a file: spared elsewhere

    handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _quiet_libraries()


def _quiet_libraries() -> None:
    for name in QUIET:  # even with --verbose: httpx at DEBUG quotes request headers
        logging.getLogger(name).setLevel(logging.WARNING)
