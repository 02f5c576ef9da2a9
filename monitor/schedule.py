"""When is a feed next due: interval with jitter, backoff after errors, Retry-After and rate-limit floors.

Pure decisions over datetimes and header values; no I/O, stdlib only. Datetimes should be
timezone-aware (UTC); a naive `now` is read as UTC and naive results are returned to match it.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

SUCCESS_JITTER = 0.10
"""A healthy feed is polled at interval ± 10 %, so feeds added together drift apart."""
MAX_BACKOFF = 24 * 3600.0
"""Errors never push a feed further out than about a day: it is retried forever, never dropped."""
PERMANENT_START = 2 * 3600.0
"""401/403/404/410 wait 1-2 h at first, then longer: asking again in a minute only adds load."""
MAX_WAIT = 7 * 24 * 3600.0
"""A server's own Retry-After / reset is honoured up to a week; beyond that it is hostile or broken."""
RECONNECT_BASE = 1.0
MAX_RECONNECT = 300.0
"""A stream is tried again at least every five minutes, however often it failed."""
_EPOCH_THRESHOLD = 1_000_000_000
"""A reset value this large is a Unix time (X, GitHub), smaller ones are seconds from now (IETF, Reddit)."""
_MAX_EXPONENT = 60


def next_check(
    now: datetime,
    interval: float,
    *,
    errors: int = 0,
    retry_at: datetime | None = None,
    permanent: bool = False,
    rng: random.Random | None = None,
) -> datetime:
    """The time a feed is due again after a poll at `now` that ended with `errors` consecutive errors."""
    if interval <= 0:
        raise ValueError(f"interval must be positive, got {interval}")
    if errors < 0:
        raise ValueError(f"errors must be >= 0, got {errors}")
    rng = rng or random.Random()
    if permanent:
        delay = _backoff(max(interval, PERMANENT_START), max(errors, 1), rng)
    elif errors:
        delay = _backoff(interval, errors, rng)
    else:
        delay = interval * rng.uniform(1 - SUCCESS_JITTER, 1 + SUCCESS_JITTER)
    due = now + timedelta(seconds=delay)
    if retry_at is not None:
        due = max(due, _like(now, retry_at))
    return due


def reconnect_delay(
    failures: int, *, permanent: bool = False, retry_after: float | None = None, rng: random.Random | None = None
) -> float:
    """Seconds before a stream connects again after `failures` failed tries in a row.

    A connection that worked and then dropped (0 failures) comes back within a second, at a random
    point so that many clients dropped together do not all return at once; failed tries back off
    from one second, doubling, to MAX_RECONNECT (at once for a refused credential), or as the
    server's Retry-After says, up to MAX_WAIT."""
    rng = rng or random.Random()
    if failures <= 0:
        delay = rng.uniform(0.0, RECONNECT_BASE)
    elif permanent:
        delay = MAX_RECONNECT * rng.uniform(0.5, 1.0)
    else:
        delay = min(RECONNECT_BASE * 2.0 ** min(failures - 1, _MAX_EXPONENT), MAX_RECONNECT) * rng.uniform(0.5, 1.0)
    return max(delay, min(retry_after or 0.0, MAX_WAIT))


def _backoff(base: float, errors: int, rng: random.Random) -> float:
    """base * 2**(errors-1), capped, then jittered over its upper half.

    Half ("equal") jitter rather than full jitter: full jitter may retry a failing server almost at
    once, while the upper half still spreads feeds that failed together over a wide window.
    """
    ceiling = min(base * 2.0 ** min(errors - 1, _MAX_EXPONENT), max(MAX_BACKOFF, base))
    return ceiling * rng.uniform(0.5, 1.0)


def parse_retry_after(value: str, now: datetime) -> datetime | None:
    """A Retry-After value (delay-seconds or HTTP-date) as a datetime; None when unreadable."""
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return _after(now, float(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" or no zone: HTTP-dates are GMT
        when = when.replace(tzinfo=UTC)
    return _clamp(now, _like(now, when))


def rate_limit_reset(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """When an exhausted rate limit resets, from the response headers; None while calls remain.

    Reads `RateLimit-Remaining`/`-Reset` (IETF draft, seconds), the structured `RateLimit:
    remaining=0, reset=30` / `r=0;t=30` forms, `X-Ratelimit-Remaining`/`-Reset` (Reddit: seconds,
    GitHub: epoch) and `x-rate-limit-remaining`/`-reset` (X: epoch); Mastodon's reset is an ISO 8601 time.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    pairs = [
        (lower.get(f"{prefix}-remaining"), lower.get(f"{prefix}-reset"))
        for prefix in ("ratelimit", "x-ratelimit", "x-rate-limit")
    ]
    if "ratelimit" in lower:
        pairs.append(_structured(lower["ratelimit"]))
    resets = [_reset_time(reset, now) for remaining, reset in pairs if _exhausted(remaining) and reset is not None]
    found = [r for r in resets if r is not None]
    return max(found) if found else None


def _structured(value: str) -> tuple[str | None, str | None]:
    """(remaining, reset) from `RateLimit: limit=10, remaining=0, reset=5` or `"default";r=0;t=5`."""
    params = dict(re.findall(r"(?:^|[,;\s])([a-z]+)=\"?([0-9.]+)", value.lower()))
    return params.get("remaining", params.get("r")), params.get("reset", params.get("t"))


def _exhausted(remaining: str | None) -> bool:
    if remaining is None:
        return False
    try:
        return float(remaining.strip()) < 1
    except ValueError:
        return False


def _reset_time(value: str, now: datetime) -> datetime | None:
    try:
        number = float(value.strip())
    except ValueError:
        return _reset_date(value, now)
    if math.isnan(number) or number < 0:
        return None
    if number >= _EPOCH_THRESHOLD:
        try:
            return _clamp(now, _like(now, datetime.fromtimestamp(number, UTC)))
        except (OverflowError, OSError, ValueError):
            return _after(now, MAX_WAIT)
    return _after(now, number)


def _reset_date(value: str, now: datetime) -> datetime | None:
    """Mastodon's X-RateLimit-Reset is an ISO 8601 time (e.g. 2024-03-01T12:15:00.000Z)."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return _clamp(now, _like(now, when if when.tzinfo else when.replace(tzinfo=UTC)))


def _after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=min(seconds, MAX_WAIT))


def _clamp(now: datetime, when: datetime) -> datetime:
    """A server-given time, no earlier than now and no later than MAX_WAIT from now."""
    return min(max(when, now), now + timedelta(seconds=MAX_WAIT))


def _like(now: datetime, when: datetime) -> datetime:
    """`when` in the same awareness as `now`, so the two compare."""
    if now.tzinfo is None and when.tzinfo is not None:
        return when.astimezone(UTC).replace(tzinfo=None)
    if now.tzinfo is not None and when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when
