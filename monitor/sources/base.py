"""What every source kind shares: the request it wants, the response it gets, the page it returns.

A source module is pure: `first_request` says what to fetch, `parse` turns the fetched bytes into
posts and says what to remember. The fetcher and the daemon do the I/O in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from storage.types import Post


class FeedError(Exception):
    """The response could not be turned into posts; the message says why, in one line."""


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


@dataclass(frozen=True, slots=True)
class Page:
    posts: tuple[Post, ...] = ()
    cursor: Mapping[str, str] = field(default_factory=dict)
    session: Mapping[str, str] = field(default_factory=dict)
    next: Request | None = None
    """Fetch this too within the same poll (the next page, or the real call after a login)."""


class Source(Protocol):
    def first_request(self, ctx: PollContext) -> Request: ...

    def parse(self, ctx: PollContext, response: Response) -> Page: ...
