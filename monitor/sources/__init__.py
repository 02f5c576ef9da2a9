"""The registry of source kinds: one module per kind, each pure (`TYPE`, `first_request`, `parse`).

A module's `TYPE` (a `SourceType`) is all the rest of the program knows of a kind: feeds.toml's keys
and which of them name secrets (monitor.config), the secrets to read and redact (monitor.daemon),
and the API's search syntax (monitor.query.pushdown).

To add a kind: write `monitor/sources/NAME.py` with `TYPE`, `first_request` and `parse`, and add
its name to `KINDS` below. Nothing else changes. (A kind named with a dash, `bluesky-stream`,
lives in `bluesky_stream.py`.) A kind that streams declares `TYPE.live`: the daemon's stream runner
(monitor/streams) reads it instead of the scheduler's tick.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import cast

from monitor.sources.base import Source, SourceType

KINDS = ("rss", "mastodon", "bluesky", "reddit", "hackernews", "x", "bluesky-stream", "mastodon-stream")
"""Every feed type feeds.toml may name, in the order `recognise` asks them."""


class _Registry(Mapping[str, Source]):
    """Feed type → its source module, imported the first time it is asked for: a feeds.toml of RSS
    feeds does not pay for importing the seven other kinds at every start."""

    def __getitem__(self, kind: str) -> Source:
        if kind not in KINDS:
            raise KeyError(kind)
        return cast(Source, importlib.import_module(f"{__name__}.{kind.replace('-', '_')}"))

    def __contains__(self, kind: object) -> bool:
        return kind in KINDS

    def __iter__(self) -> Iterator[str]:
        return iter(KINDS)

    def __len__(self) -> int:
        return len(KINDS)


SOURCES: Mapping[str, Source] = _Registry()
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


def is_live(kind: str) -> bool:
    """Whether feeds of this kind are streamed rather than polled."""
    return type_of(kind).live is not None


def recognise(address: str) -> tuple[str, dict[str, str]] | None:
    """The kind and feeds.toml keys of a feed address (`@user@host`, `r/NAME`, a URL ...), as the
    first kind whose `SourceType.address` takes it says; None when no kind does."""
    for module in SOURCES.values():
        keys = module.TYPE.address(address) if module.TYPE.address else None
        if keys:
            return module.TYPE.name, keys
    return None
