"""feeds.toml → frozen dataclasses. Strict: every error names the file, the table and the key."""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.query.parse import QuerySyntaxError
from monitor.query.parse import parse as parse_query
from monitor.sources import SOURCES

DEFAULT_INTERVAL = 300.0
MIN_INTERVAL = 1.0
MAX_INTERVAL = 30 * 86400.0
DEFAULT_LEASE = 120.0
"""Seconds a worker sharing PostgreSQL holds a feed it polls: longer than the fetcher lets a poll run."""
MIN_LEASE, MAX_LEASE = 5.0, 3600.0
"""A month: longer is a typo, and far longer overflows the scheduler's datetimes."""
FEED_KEYS = frozenset({"name", "type", "interval"})
"""Keys every feed has; the rest are its kind's (`SourceType` in monitor.sources)."""
TOPIC_KEYS = frozenset({"name", "query", "keywords", "weights", "threshold", "article", "learn", "forget"})
ALERT_KEYS = frozenset({"name", "topic", "on", "min_size", "notify", "notify_env", "exec", "max_per_hour"})
ALERT_EVENTS = ("new_story", "spike", "match")
CHANNEL_KEYS = ("notify", "notify_env", "exec")
MOST_PER_HOUR = 3600
"""One alert a second: more than anyone reads; a bound that only stops typos."""
MAX_STORY_SIZE = 1_000_000
HTTP = frozenset({"http", "https"})
WEBSOCKET = frozenset({"ws", "wss"})
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTERVAL = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigError(Exception):
    """A one-line description of what is wrong with feeds.toml, naming file, table and key."""


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    query: str | None = None
    keywords: tuple[str, ...] = ()
    weights: Mapping[str, float] = field(default_factory=dict)
    threshold: float | None = None
    article: str | None = None
    learn: bool = True  # a weighted topic learns terms from its confident matches (monitor/learning.py)
    forget: tuple[str, ...] = ()  # learned terms the user removed: never learned again


@dataclass(frozen=True, slots=True)
class Feed:
    name: str
    type: str
    interval: float
    options: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Secret name (token, password) → the environment variable holding it, as the feed names it."""

    @property
    def url(self) -> str | None:
        return self.options.get("url")


@dataclass(frozen=True, slots=True)
class AlertRule:
    """An [[alerts]] table: which story changes of which topic reach which channel, how often."""

    name: str
    on: tuple[str, ...]
    topic: str | None = None  # every topic when None
    min_size: int = 3
    notify: str | None = None  # an Apprise URL (it may hold a token: never logged, shown or stored)
    notify_env: str | None = None  # the environment variable holding the Apprise URL
    exec: tuple[str, ...] = ()  # a command that reads the alert as JSON on stdin
    max_per_hour: int = 20


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    storage_url: str
    topics: tuple[Topic, ...]
    feeds: tuple[Feed, ...]
    alerts: tuple[AlertRule, ...] = ()
    lease: float = DEFAULT_LEASE
    """Seconds a worker sharing PostgreSQL holds a feed it polls (`[storage] lease`; monitor.leases)."""


def default_path() -> Path:
    """$MONITOR_CONFIG, else ./feeds.toml, else the user's own (monitor.places)."""
    from monitor.places import default_config

    return default_config()


def load(path: Path, environ: Mapping[str, str] = os.environ) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (create one with `monitor init ARTICLE`)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    return parse(text, path, environ)


def parse(text: str, path: Path, environ: Mapping[str, str] = os.environ) -> Config:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    where = _Where(path)
    where.unknown(doc, {"storage", "topics", "feeds", "alerts"}, "")
    storage = where.table(doc.get("storage", {}), "[storage]")
    where.unknown(storage, {"url", "lease"}, "[storage]")
    url = environ.get("MONITOR_DATABASE_URL") or where.string(storage, "url", "[storage]")
    lease = _lease(where, storage)
    topics = tuple(_topic(where, raw, i) for i, raw in enumerate(where.array(doc, "topics")))
    feeds = tuple(_feed(where, raw, i) for i, raw in enumerate(where.array(doc, "feeds")))
    where.unique([t.name for t in topics], "topics")
    where.unique([f.name for f in feeds], "feeds")
    names = {t.name for t in topics}
    for f in feeds:
        _check_topic(path, f, names)
    alerts = tuple(_alert(where, raw, i, names) for i, raw in enumerate(where.array(doc, "alerts")))
    where.unique([a.name for a in alerts], "alerts")
    return Config(path, url or sqlite_url_beside(path), topics, feeds, alerts, lease)


def check_feed(table: Mapping[str, object], path: Path, topics: Collection[str]) -> Feed:
    """One [[feeds]] table checked as `parse` checks it, `topics` being the topic names it may name."""
    feed = _feed(_Where(path), dict(table), 0)
    _check_topic(path, feed, topics)
    return feed


def _check_topic(path: Path, feed: Feed, topics: Collection[str]) -> None:
    if "topic" in feed.options and feed.options["topic"] not in topics:
        raise ConfigError(f'{path}: [[feeds]] "{feed.name}": key "topic": no topic named "{feed.options["topic"]}"')


def sqlite_url_beside(path: Path) -> str:
    """The default database of the feeds.toml at `path`: monitor.db beside it (or, for the user's own
    feeds.toml, in the user data folder: monitor.places)."""
    from monitor.places import default_database

    return f"sqlite:///{default_database(path)}"


def parse_interval(value: str) -> float | None:
    """'90s', '5m', '1h', '1h30m', '2d' → seconds; None when it is not such a string."""
    m = _INTERVAL.fullmatch(value.strip())
    if not value.strip() or m is None:
        return None
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return float(((d * 24 + h) * 60 + mi) * 60 + s)


def format_interval(seconds: float) -> str:
    """Seconds → the shortest duration `parse_interval` reads back: 300 → '5m', 5400 → '1h30m'."""
    rest = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts) or "0s"


def _topic(where: _Where, raw: object, i: int) -> Topic:
    table, name, at = where.named(raw, "topics", i)
    where.unknown(table, TOPIC_KEYS, at)
    query = where.string(table, "query", at)
    if query is not None:
        where.query(query, at, "query")
    keywords = tuple(where.strings(table, "keywords", at))
    if query is None and not keywords:
        raise where.error(at, "query", 'a topic needs "query" or "keywords"')
    weights = where.table(table.get("weights", {}), f"{at}.weights")
    for term, w in weights.items():
        where.query(term, f"{at}.weights", term)
        if not _is_number(w) or not math.isfinite(w):
            raise where.error(f"{at}.weights", term, "must be a finite number")
    threshold = table.get("threshold")
    if threshold is not None and not _is_number(threshold):
        raise where.error(at, "threshold", "must be a number")
    if threshold is not None and not (math.isfinite(threshold) and threshold >= 0):
        raise where.error(at, "threshold", f"{threshold} is not a finite number of 0 or more")
    return Topic(
        name=name,
        query=query,
        keywords=keywords,
        weights={k: float(v) for k, v in weights.items()},
        threshold=None if threshold is None else float(threshold),
        article=where.string(table, "article", at),
        learn=where.boolean(table, "learn", at, default=True),
        forget=tuple(where.strings(table, "forget", at)),
    )


def _feed(where: _Where, raw: object, i: int) -> Feed:
    table, name, at = where.named(raw, "feeds", i)
    kind = where.string(table, "type", at) or "rss"
    if kind not in SOURCES:
        raise where.error(at, "type", f'unknown feed type "{kind}" (one of {", ".join(SOURCES)})')
    declared = SOURCES[kind].TYPE
    where.unknown(table, FEED_KEYS | declared.keys, at)
    options = {key: value for key in table if key not in FEED_KEYS and (value := where.string(table, key, at))}
    if declared.selects and not set(declared.selects) & options.keys():
        needs = sorted(declared.selects)
        raise where.error(at, needs[0], f"a {kind} feed needs one of: {', '.join(needs)}")
    for key in set(declared.urls) & options.keys():
        if not _is_url(options[key], HTTP):
            raise where.error(at, key, f'"{options[key]}" is not an http(s) URL')
    for key in set(declared.sockets) & options.keys():
        if not _is_url(options[key], WEBSOCKET | HTTP):
            raise where.error(at, key, f'"{options[key]}" is not a WebSocket (wss://) URL')
    secrets = {secret: options[key] for secret, key in declared.secrets.items() if key in options}
    for secret, variable in secrets.items():
        if not _VARIABLE.fullmatch(variable):  # a pasted token: never repeat it
            message = "must be the name of an environment variable (letters, digits and _) holding the"
            raise where.error(at, declared.secrets[secret], f"{message} {secret}, not the {secret} itself")
    return Feed(name, kind, _interval(where, table, at), options, secrets)


def _alert(where: _Where, raw: object, i: int, topics: set[str]) -> AlertRule:
    table, name, at = where.named(raw, "alerts", i)
    where.unknown(table, ALERT_KEYS, at)
    topic = where.string(table, "topic", at)
    if topic is not None and topic not in topics:
        raise where.error(at, "topic", f'no topic named "{topic}"')
    on = where.strings(table, "on", at) if "on" in table else ["new_story", "spike"]
    if not on:
        raise where.error(at, "on", f"needs at least one event ({', '.join(ALERT_EVENTS)})")
    for event in on:
        if event not in ALERT_EVENTS:
            raise where.error(at, "on", f'unknown event "{event}" (one of {", ".join(ALERT_EVENTS)})')
    return AlertRule(
        name=name,
        topic=topic,
        on=tuple(dict.fromkeys(on)),
        min_size=where.whole(table, "min_size", at, default=3, most=MAX_STORY_SIZE),
        max_per_hour=where.whole(table, "max_per_hour", at, default=20, most=MOST_PER_HOUR),
        **_channel(where, table, at),
    )


def _channel(where: _Where, table: Mapping[str, Any], at: str) -> dict[str, Any]:
    """Exactly one of notify, notify_env and exec. Error messages never quote a URL: it may hold a token."""
    given = [key for key in CHANNEL_KEYS if key in table]
    if not given:
        raise where.error(at, "notify", 'an alert needs one of "notify" (an Apprise URL), "notify_env" or "exec"')
    if len(given) > 1:
        others = f'this alert has "{given[0]}" too'
        raise where.error(at, given[1], f'give only one of "notify", "notify_env" and "exec" ({others})')
    key = given[0]
    if key == "exec":
        argv = table["exec"]
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) and a for a in argv):
            raise where.error(at, "exec", "must be a command as a list of strings, like [\"notify-send\", \"monitor\"]")
        return {"exec": tuple(argv)}
    value = table[key]
    if key == "notify_env":
        if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
            raise where.error(at, key, "must be the name of an environment variable, like ALERT_URL")
        return {"notify_env": value}
    if not isinstance(value, str) or not _URL_SCHEME.match(value.strip()):
        raise where.error(at, key, 'must be an Apprise URL, like "ntfy://ntfy.sh/my-topic"')
    return {"notify": value.strip()}


def _interval(where: _Where, table: Mapping[str, Any], at: str) -> float:
    raw = table.get("interval")
    if raw is None:
        return DEFAULT_INTERVAL
    seconds = parse_interval(raw) if isinstance(raw, str) else None
    if seconds is None or seconds < MIN_INTERVAL:
        raise where.error(at, "interval", f'{raw!r} is not a duration like "90s", "5m" or "1h"')
    if seconds > MAX_INTERVAL:
        raise where.error(at, "interval", f"{raw!r} is longer than 30 days, the longest interval")
    return seconds


def _lease(where: _Where, storage: Mapping[str, Any]) -> float:
    raw = storage.get("lease")
    if raw is None:
        return DEFAULT_LEASE
    seconds = parse_interval(raw) if isinstance(raw, str) else None
    if seconds is None or not MIN_LEASE <= seconds <= MAX_LEASE:
        raise where.error("[storage]", "lease", f'{raw!r} is not a duration from "5s" to "1h", like "2m"')
    return seconds


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_url(value: str, schemes: frozenset[str]) -> bool:
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return False
    parts = urlsplit(value.replace("{query}", "q"))
    return parts.scheme in schemes and bool(parts.netloc)


class _Where:
    """Raises ConfigError with the file, the table and the key in one line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, table: str, key: str, message: str) -> ConfigError:
        place = f"{table}: " if table else ""
        return ConfigError(f'{self.path}: {place}key "{key}": {message}')

    def query(self, text: str, at: str, key: str) -> None:
        """A query that will not parse is an error here, not when the daemon first polls."""
        try:
            parse_query(text)
        except QuerySyntaxError as e:
            raise self.error(at, key, str(e)) from None

    def unknown(self, table: Mapping[str, Any], allowed: set[str] | frozenset[str], at: str) -> None:
        for key in table:
            if key not in allowed:
                raise self.error(at, key, f"unknown key (expected one of: {', '.join(sorted(allowed))})")

    def named(self, raw: object, array: str, i: int) -> tuple[dict[str, Any], str, str]:
        """The `i`th table of `[[array]]`, its required name, and how errors name it: '[[feeds]] "wire"'."""
        table = self.table(raw, f"[[{array}]] #{i + 1}")
        name = self.string(table, "name", f"[[{array}]] #{i + 1}", required=True)
        assert name is not None
        return table, name, f'[[{array}]] "{name}"'

    def table(self, value: object, at: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ConfigError(f"{self.path}: {at}: must be a table")
        return value

    def array(self, doc: Mapping[str, Any], key: str) -> list[Any]:
        value = doc.get(key, [])
        if not isinstance(value, list):
            raise self.error("", key, f"must be an array of tables ([[{key}]])")
        return value

    def string(self, table: Mapping[str, Any], key: str, at: str, required: bool = False) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                raise self.error(at, key, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(at, key, "must be a non-empty string")
        return value

    def boolean(self, table: Mapping[str, Any], key: str, at: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.error(at, key, "must be true or false")
        return value

    def strings(self, table: Mapping[str, Any], key: str, at: str) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(at, key, "must be a list of non-empty strings")
        return value

    def whole(self, table: Mapping[str, Any], key: str, at: str, *, default: int, most: int) -> int:
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
            raise self.error(at, key, f"must be a whole number from 1 to {most:,}")
        return value

    def unique(self, names: list[str], table: str) -> None:
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ConfigError(f'{self.path}: [[{table}]] "{name}": key "name": duplicate name')
            seen.add(name)
