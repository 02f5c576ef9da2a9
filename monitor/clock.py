"""The one clock. Commands pass `utc_now` down; tests pass a fake; nothing else reads the wall clock.

Pure functions take `now` as an argument. Where a pure function keeps a default for callers that
have no clock (a benchmark, a quick test), the default is `utc_now` from here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""A source of timezone-aware UTC datetimes."""


def utc_now() -> datetime:
    return datetime.now(UTC)
