"""monitor feeds list|add|remove|import|retry: the feeds without editing feeds.toml by hand (comments kept).

Every edit goes through monitor.feedsfile: only the edited table's lines change, the result is checked
like a hand edit, and it is written atomically. A running daemon notices the change at its next tick.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.clock import Clock, utc_now
from monitor.commands._common import config_of
from monitor.config import Config, Feed, load, parse_interval
from monitor.errors import UsageError
from monitor.textsafe import one_line

if TYPE_CHECKING:
    from storage.types import FeedState

NAME = "feeds"
HELP = "list, add, remove or import feeds (feeds.toml edited for you, comments kept); retry a failing one"
ADDRESSES = "a feed or web page URL, @user@host (Mastodon), @handle (Bluesky), r/NAME (Reddit)"
ADD_HELP = f"add a feed: {ADDRESSES}, or a kind (hackernews, x ...) with --topic"
FETCH_SECONDS = 20.0


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="each feed: name, type, where, interval, health")
    listing.add_argument("--json", action="store_true", help="a JSON list, one object per feed")
    add = sub.add_parser("add", help=ADD_HELP, description=ADD_HELP)
    add.add_argument("address", metavar="ADDRESS")
    add.add_argument("--name", help="the feed's name (default: its title, else what it reads)")
    add.add_argument("--interval", type=_interval, help='how often to poll, like "90s", "10m", "1h" (default 5m)')
    add.add_argument("--topic", help="search this topic (a kind's name or a search URL with {query})")
    remove = sub.add_parser("remove", help="remove a feed from feeds.toml (its stored posts stay)")
    remove.add_argument("name", metavar="NAME")
    opml = sub.add_parser("import", help="add the feeds of an OPML file (a feed reader's export; - for stdin)")
    opml.add_argument("file", metavar="FILE.opml")
    retry = sub.add_parser("retry", help="clear a feed's backoff: the daemon polls it at its next tick")
    retry.add_argument("name", metavar="NAME", help="the feed's name in feeds.toml")
    for action in (listing, add, remove, opml, retry):
        # Also after the action (`monitor feeds list --config f.toml`); SUPPRESS keeps the command's value.
        action.add_argument("--config", type=Path, default=argparse.SUPPRESS, metavar="PATH", help="feeds.toml to use")


def run(args: argparse.Namespace, clock: Clock = utc_now) -> int:
    if args.action == "retry":
        return retry(args, clock)
    actions = {"list": _list, "add": _add, "remove": _remove, "import": _import}
    return actions[args.action](args)


def _interval(value: str) -> str:
    if parse_interval(value) is None:
        raise argparse.ArgumentTypeError(f'{value[:40]!r} is not a duration like "90s", "5m" or "1h"')
    return value


# --- list -----------------------------------------------------------------------------------------------


def _list(args: argparse.Namespace) -> int:
    from monitor.config import format_interval
    from monitor.output import feed_json
    from monitor.textsafe import json_dumps

    config = config_of(args)
    states = _states(config)
    if args.json:
        print(json_dumps([feed_json(f, states.get(f.name)) | {"where": where(f), "options": dict(f.options)}
                          for f in config.feeds]))
        return 0
    rows = [[one_line(f.name), f.type, one_line(where(f)), format_interval(f.interval), _health(states.get(f.name))]
            for f in config.feeds]
    widths = [max(len(row[i]) for row in rows) for i in range(4)] if rows else []
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[4])
    if not rows:
        print(f"no feeds in {config.path} (`monitor feeds add URL` adds one)")
    return 0


def where(feed: Feed) -> str:
    """What the feed reads, in a few words: its URL, else its first select key and value."""
    if feed.url:
        return feed.url
    from monitor.sources import type_of

    key = next((k for k in type_of(feed.type).selects if k in feed.options), None)
    return f"{key} {feed.options[key]}" if key else ""


def _health(state: FeedState | None) -> str:
    from monitor.output import feed_health

    health = feed_health(state)
    if health == "failing" and state is not None and state.last_error:
        return f"failing: {one_line(state.last_error, 60)}"
    return "not polled yet" if health == "pending" else health


def _states(config: Config) -> dict[str, FeedState]:
    """Each feed's stored state; none before the first `monitor run` (the list is of feeds.toml)."""
    from storage.errors import NoDatabaseYet, StorageError
    from storage.store import open_store

    try:
        with open_store(config.storage_url, readonly=True) as store:
            return {s.name: s for s in store.feed_states()}
    except NoDatabaseYet:
        return {}
    except StorageError as e:  # an unreachable database: the list of feeds.toml is still worth showing
        print(f"monitor: health unknown: {one_line(str(e))}", file=sys.stderr)
        return {}


# --- add ------------------------------------------------------------------------------------------------


def _add(args: argparse.Namespace) -> int:
    from monitor import feedlist
    from monitor.feedsfile import add_feeds

    config = _config_or_none(args.config)
    feeds = config.feeds if config else ()
    kind, options, title, also = _resolve(args.address, args.topic)
    same = feedlist.find_same(kind, options, feeds)
    if same is not None:
        print(f'{one_line(args.address)} is already in {args.config} as "{one_line(same.name)}"; nothing changed')
        return 0
    taken = {f.name for f in feeds}
    if args.name and args.name in taken:
        raise UsageError(f'a feed named "{one_line(args.name)}" is already in {args.config} (choose another --name)')
    name = args.name or feedlist.unique_name(feedlist.default_name(kind, options, title), taken)
    add_feeds(args.config, [feedlist.table(name, kind, options, args.interval)])
    print(f'added "{one_line(name)}" ({one_line(_reads(feedlist.table(name, kind, options)))}) to {args.config}; '
          "a running daemon polls it at its next tick")
    for link in also:
        print(f"  the page names another feed too: {one_line(link)}")
    return 0


def _config_or_none(path: Path) -> Config | None:
    """The config, or None when feeds.toml does not exist yet (`feeds add` creates it)."""
    return load(path) if path.exists() else None


def _resolve(address: str, topic: str | None) -> tuple[str, dict[str, str], str, list[str]]:
    """The kind and keys of a feed address, its title where known, and other feeds a page names."""
    from monitor.sources import SOURCES, recognise

    if address in SOURCES:
        if topic is None:
            raise UsageError(f'"{address}" is a kind of feed: say what to search with --topic TOPIC')
        if SOURCES[address].TYPE.search is None:
            raise UsageError(f"a {address} feed cannot search a topic")
        return address, {"topic": topic}, "", []
    recognised = recognise(address)
    if recognised is None:
        raise UsageError(f"{one_line(address, 80)!r} is not a feed address: give {ADDRESSES}")
    kind, options = recognised
    if topic is not None:
        if "search_url" not in options:
            raise UsageError("--topic makes a search feed: give a search URL with {query} in it, or a kind "
                             f"({', '.join(k for k, s in SOURCES.items() if s.TYPE.search)})")
        return kind, {**options, "topic": topic}, "", []
    if "url" in options and kind == "rss":
        url, title, also = _discover(options["url"])
        return kind, {"url": url}, title, also
    return kind, options, "", []


def _discover(url: str) -> tuple[str, str, list[str]]:
    """`url` itself when it serves a feed; else the first feed its page names (autodiscovery), with
    the link's title and the other feeds named."""
    import asyncio

    from monitor.discovery import feed_links
    from monitor.pollerrors import FeedError
    from monitor.sources.rss import parse_feed

    body, final_url, content_type = asyncio.run(_fetch(url))
    try:
        parse_feed(body, url=final_url, source="feeds add", content_type=content_type)
        return url, "", []
    except FeedError as not_a_feed:
        links = feed_links(body, final_url)
        if not links:
            raise UsageError(f"{one_line(url)}: not a feed ({not_a_feed}), and the page names no feed "
                             '(no <link rel="alternate" type="application/rss+xml" …>)') from None
    return links[0].url, links[0].title, [link.url for link in links[1:]]


async def _fetch(url: str) -> tuple[bytes, str, str]:
    """The page's body, final URL and content type, through the daemon's own client and limits."""
    from monitor.fetch import Fetcher
    from monitor.pollerrors import PollError
    from monitor.sources.base import Request

    async with Fetcher(timeout=FETCH_SECONDS) as fetcher:
        try:
            fetched = await fetcher.fetch(Request(url, conditional=False))
        except PollError as e:
            raise UsageError(f"{one_line(url)}: {e}") from None
    if fetched.response is None:
        raise UsageError(f"{one_line(url)}: the server sent no body")
    response = fetched.response
    return response.body, response.url, response.headers.get("content-type", "")


# --- remove ---------------------------------------------------------------------------------------------


def _remove(args: argparse.Namespace) -> int:
    from monitor.feedsfile import remove_feed

    config = config_of(args)
    names = [f.name for f in config.feeds]
    if args.name not in names:
        listed = ", ".join(f'"{one_line(n)}"' for n in names) or "none"
        raise UsageError(f'no feed named "{one_line(args.name)}" in {config.path} (feeds: {listed})')
    remove_feed(config.path, args.name)
    print(f'removed "{one_line(args.name)}" from {config.path}; its stored posts stay')
    return 0


# --- import ---------------------------------------------------------------------------------------------


def _import(args: argparse.Namespace) -> int:
    from monitor import feedlist, opml
    from monitor.feedsfile import add_feeds

    try:
        outlines = opml.read(_read_bytes(args.file))
    except opml.OpmlError as e:
        raise UsageError(f"{args.file}: {e}") from None
    config = _config_or_none(args.config)
    feeds = config.feeds if config else ()
    topics = [t.name for t in config.topics] if config else []
    plan = feedlist.plan_import(outlines, feeds, topics, args.config)
    if plan.added:
        add_feeds(args.config, plan.added)
    for row in plan.added:
        print(f'added    "{one_line(row["name"])}"  {one_line(_reads(row))}')
    for skip in plan.skipped:
        print(f'skipped  "{one_line(skip.what, 80)}": {one_line(skip.reason)}')
    print(f"{_count(len(plan.added))} added to {args.config}, {len(plan.skipped)} skipped "
          f"({_count(len(outlines))} in {args.file})")
    return 0


def _reads(table: dict[str, str]) -> str:
    """What a new feed reads, in a few words: 'https://…', 'mastodon account @a@b'."""
    keys = {k: v for k, v in table.items() if k not in ("name", "type", "interval")}
    return keys["url"] if "url" in keys else f"{table['type']} " + ", ".join(f"{k} {v}" for k, v in keys.items())


def _count(n: int) -> str:
    return f"{n} feed" if n == 1 else f"{n} feeds"


def _read_bytes(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(file).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{file}: no such file") from None
    except OSError as e:
        raise UsageError(f"{file}: cannot read: {e.strerror or e}") from None



# --- retry ----------------------------------------------------------------------------------------------


def retry(args: argparse.Namespace, clock: Clock) -> int:
    """Due now, error count back to zero; the last error stays shown until the next poll replaces it.

    One small write beside the running daemon (it reads each feed's state afresh when it polls)."""
    from storage.store import open_store

    config = config_of(args)
    names = [f.name for f in config.feeds]
    if args.name not in names:
        raise UsageError(f'no feed named "{args.name}" in {config.path} (feeds: {", ".join(names) or "none"})')
    with open_store(config.storage_url) as store:
        store.retry_feed(args.name, clock())
    print(f"{one_line(args.name)}: backoff cleared; due now")
    return 0
