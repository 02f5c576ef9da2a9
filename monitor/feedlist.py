"""Feeds as lists: what `feeds add` and `feeds import` would add to feeds.toml, what the OPML export writes.

Pure decisions over data (the commands read files and fetch pages): a new feed's name, whether it is
already there, which outlines of an OPML file become feeds and why the others do not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from monitor.config import DEFAULT_INTERVAL, ConfigError, Feed, check_feed, format_interval
from monitor.opml import ExportedFeed, Outline
from monitor.sources import type_of
from monitor.textsafe import one_line

MAX_NAME = 80
"""A longer title is cut: a name is typed on the command line and shown in a column."""

Table = dict[str, str]
"""A [[feeds]] table as feeds.toml holds it: name, type, the kind's keys, interval."""


@dataclass(frozen=True, slots=True)
class Skipped:
    what: str
    """The outline's title or URL, as the file had it."""
    reason: str


@dataclass(frozen=True, slots=True)
class ImportPlan:
    added: list[Table]
    skipped: list[Skipped]


def identity(kind: str, options: Mapping[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """What makes two feeds the same feed: the kind and what it reads (its select keys), URLs compared
    without the case of their scheme and host."""
    selects = type_of(kind).selects
    return kind, tuple(sorted((k, _canonical(v)) for k, v in options.items() if k in selects))


def _canonical(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if parts.scheme not in ("http", "https"):
        return value
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def find_same(kind: str, options: Mapping[str, str], feeds: Iterable[Feed]) -> Feed | None:
    wanted = identity(kind, options)
    return next((f for f in feeds if identity(f.type, f.options) == wanted), None)


def default_name(kind: str, options: Mapping[str, str], title: str = "") -> str:
    """A feed's title where it has one, else what it reads: a URL's host, an account, `r/NAME`."""
    if title.strip():
        return one_line(title, MAX_NAME)
    if "url" in options:
        host = urlsplit(options["url"]).hostname or options["url"]
        return one_line(host.removeprefix("www."), MAX_NAME)
    if "topic" in options:
        return one_line(f"{kind}-{options['topic']}", MAX_NAME)
    if "subreddit" in options:
        return one_line(f"r/{options['subreddit']}", MAX_NAME)
    return one_line(next(iter(options.values()), kind).lstrip("@"), MAX_NAME)


def unique_name(wanted: str, taken: Collection[str]) -> str:
    """`wanted`, or `wanted (2)`, `wanted (3)` ... whichever is free."""
    name, n = wanted, 1
    while name in taken:
        n += 1
        name = f"{wanted} ({n})"
    return name


def table(name: str, kind: str, options: Mapping[str, str], interval: str | None = None) -> Table:
    """The [[feeds]] table, keys in the order a person would write them."""
    rows: Table = {"name": name, "type": kind, **options}
    if interval is not None:
        rows["interval"] = interval
    return rows


def plan_import(outlines: Sequence[Outline], feeds: Sequence[Feed], topics: Collection[str], path: Path) -> ImportPlan:
    """Which outlines become feeds: each checked as feeds.toml checks a feed; duplicates (of a feed
    already there, or of an outline earlier in the file) skipped, each with its reason."""
    known = list(feeds)
    taken = {f.name for f in feeds}
    added: list[Table] = []
    skipped: list[Skipped] = []
    for outline in outlines:
        what = outline.title or outline.xml_url or "(untitled)"
        candidate = _candidate(outline, taken)
        try:
            feed = check_feed(candidate, path, topics)
        except ConfigError as e:
            skipped.append(Skipped(what, _reason(str(e))))
            continue
        same = find_same(feed.type, feed.options, known)
        if same is not None:
            skipped.append(Skipped(what, f'already there as "{same.name}"'))
            continue
        known.append(feed)
        taken.add(feed.name)
        added.append(candidate)
    return ImportPlan(added, skipped)


def _reason(error: str) -> str:
    """A ConfigError without the file and the table (the report names the outline): 'key "url": …'."""
    at = error.find('key "')
    return error[at:] if at >= 0 else error


def _candidate(outline: Outline, taken: Collection[str]) -> Table:
    """Our own export names the feed's kind and keys; any other reader's, an RSS URL."""
    keys = dict(outline.keys)
    kind = keys.pop("type", None) or "rss"
    interval = keys.pop("interval", None)
    options = keys if outline.keys else {"url": outline.xml_url or ""}
    return table(unique_name(default_name(kind, options, outline.title), taken), kind, options, interval)


def exported(feed: Feed) -> ExportedFeed:
    """The feed as the OPML export writes it: its feeds.toml keys and its plain RSS equivalent."""
    keys = {"type": feed.type, **feed.options}
    if feed.interval != DEFAULT_INTERVAL:
        keys["interval"] = format_interval(feed.interval)
    web_feed = type_of(feed.type).web_feed
    return ExportedFeed(feed.name, keys, web_feed(feed.options) if web_feed else None)
