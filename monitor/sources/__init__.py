"""The registry of source kinds: one module per kind, each pure (`TYPE`, `first_request`, `parse`).

A module's `TYPE` (a `SourceType`) is all the rest of the program knows of a kind: feeds.toml's keys
and which of them name secrets (monitor.config), the secrets to read and redact (monitor.daemon),
and the API's search syntax (monitor.query.pushdown).

To add a kind: write `monitor/sources/NAME.py` with `TYPE`, `first_request` and `parse`, and add
the module to `_MODULES` below. Nothing else changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.sources import bluesky, hackernews, mastodon, reddit, rss, x
from monitor.sources.base import Source, SourceType

_MODULES: tuple[Source, ...] = (rss, mastodon, bluesky, reddit, hackernews, x)

SOURCES: Mapping[str, Source] = {module.TYPE.name: module for module in _MODULES}
"""Feed type (as feeds.toml names it) → its source module."""


class UnknownSource(LookupError):
    """A feed type no module is registered for."""


def source_for(kind: str) -> Source:
    """The source module for a feed type from feeds.toml (rss, mastodon, bluesky, ...)."""
    try:
        return SOURCES[kind]
    except KeyError:
        raise UnknownSource(f'unknown feed type "{kind}" (one of {", ".join(SOURCES)})') from None


def type_of(kind: str) -> SourceType:
    return source_for(kind).TYPE


def recognise(address: str) -> tuple[str, dict[str, str]] | None:
    """The kind and feeds.toml keys of a feed address (`@user@host`, `r/NAME`, a URL ...), as the
    first kind whose `SourceType.address` takes it says; None when no kind does."""
    for module in _MODULES:
        keys = module.TYPE.address(address) if module.TYPE.address else None
        if keys:
            return module.TYPE.name, keys
    return None
