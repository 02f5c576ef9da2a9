"""Source adapters, one module per feed type, each pure: `first_request` and `parse`."""

from __future__ import annotations

import importlib
from typing import cast

from monitor.sources.base import Source


def source_for(kind: str) -> Source:
    """The adapter module for a feed type from feeds.toml (rss, mastodon, bluesky, ...)."""
    return cast(Source, importlib.import_module(f"{__name__}.{kind}"))
