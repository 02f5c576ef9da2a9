"""What every source kind shares: its declaration, the request it wants, the response it gets, the page it returns.

A source module is pure: `TYPE` declares what feeds.toml may say about a feed of its kind,
`first_request` says what to fetch, `parse` turns the fetched bytes into posts and says what to
remember. The fetcher and the daemon do the I/O in between.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from monitor.query.pushdown import Dialect
from storage.types import Post


@dataclass(frozen=True, slots=True)
class SourceType:
    """One kind of feed as feeds.toml, the daemon and pushdown see it.

    Besides name, type and interval, a feed may hold the keys named here and no others.
    """

    name: str
    """The `type = "..."` of feeds.toml."""
    selects: tuple[str, ...]
    """Keys that say what to read (a URL, a hashtag, a topic ...): a feed needs at least one."""
    options: tuple[str, ...] = ()
    """Other plain string keys."""
    urls: tuple[str, ...] = ()
    """Keys whose values must be http(s) URLs (they may also be in `selects`)."""
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Secret name (as `PollContext.secrets` holds it) → the key naming its environment variable."""
    search: Dialect | None = None
    """The search syntax of the API behind `topic = "..."`; None when the kind cannot search."""
    address: Callable[[str], dict[str, str] | None] | None = None
    """What `monitor feeds add` takes as a feed of this kind (a URL, `@user@host`, `r/NAME`): the text
    → the feed's keys, or None when the text is not such an address."""
    web_feed: Callable[[Mapping[str, str]], str | None] | None = None
    """The feed's keys → a plain RSS URL of the same posts that any feed reader reads (for the OPML
    export), or None where there is none (a search)."""

    @property
    def keys(self) -> frozenset[str]:
        return frozenset((*self.selects, *self.options, *self.urls, *self.secrets.values()))


@dataclass(frozen=True, slots=True)
class Validators:
    """What the last successful poll left behind; ETag and Last-Modified are opaque strings."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Request:
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "GET"
    json: Mapping[str, object] | None = None
    conditional: bool = True
    """Send the feed's stored ETag / Last-Modified and skip an unchanged body."""
    accept: frozenset[int] = frozenset()
    """Error statuses the source reads itself (an expired-token body) instead of failing the poll."""


@dataclass(frozen=True, slots=True)
class Response:
    url: str
    """The final URL, after redirects: relative links resolve against it."""
    status: int
    headers: Mapping[str, str]
    """Lower-cased header names."""
    body: bytes


@dataclass(frozen=True, slots=True)
class PollContext:
    """Everything a source may read when it builds a request or parses a response."""

    feed_name: str
    options: Mapping[str, str]
    """The feed's own keys from feeds.toml (url, hashtag, actor, base_url, ...)."""
    cursor: Mapping[str, str] = field(default_factory=dict)
    """What the last poll's `Page.cursor` said; stored in the database across restarts."""
    session: Mapping[str, str] = field(default_factory=dict)
    """What `Page.session` said; kept in memory only (access tokens are never stored)."""
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Values of the environment variables the feed names (token_env, password_env)."""
    query: str | None = None
    """The topic's query rendered for this API, where the feed searches a topic."""
    now: datetime | None = None
    """The poll's clock: when undated items arrived, whether a token has expired."""


@dataclass(frozen=True, slots=True)
class Page:
    posts: tuple[Post, ...] = ()
    cursor: Mapping[str, str] = field(default_factory=dict)
    session: Mapping[str, str] = field(default_factory=dict)
    next: Request | None = None
    """Fetch this too within the same poll (the next page, or the real call after a login)."""


class Source(Protocol):
    """A source module: see monitor/sources/__init__.py for the registry of them."""

    TYPE: SourceType

    def first_request(self, ctx: PollContext) -> Request: ...

    def parse(self, ctx: PollContext, response: Response) -> Page: ...
