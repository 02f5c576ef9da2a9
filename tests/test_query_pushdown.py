"""Pushdown renders a SUPERSET: whatever the local query matches, the API query asks for too.

Each feed type's search syntax is the `Dialect` its source module declares (monitor.sources)."""

from __future__ import annotations

import pytest

from monitor.query.pushdown import Dialect, render, render_each
from monitor.sources import SOURCES, UnknownSource, source_for


def dialect(kind: str) -> Dialect:
    declared = source_for(kind).TYPE.search
    assert declared is not None, f"{kind} declares no search syntax"
    return declared


@pytest.mark.parametrize(("kind", "expected"), [
    ("rss", 'Iran OR ("axis of resistance" -football)'),  # Google News search
    ("x", 'Iran OR ("axis of resistance" -football)'),
    ("reddit", 'Iran OR ("axis of resistance" AND NOT football)'),
    ("mastodon", None), ("bluesky", None), ("hackernews", None),  # no OR there: see render_each
])
def test_each_api_gets_its_own_syntax(kind: str, expected: str | None) -> None:
    assert render('Iran OR "axis of resistance" -football', dialect(kind)) == expected


def test_apis_without_or_get_one_search_per_branch() -> None:
    assert render_each('Iran OR "axis of resistance" -football', dialect("bluesky")) == ["Iran", '"axis of resistance"']
    assert render_each("Iran OR Hamas", dialect("hackernews")) == ["Iran", "Hamas"]


@pytest.mark.parametrize("kind", [kind for kind, module in SOURCES.items() if module.TYPE.search])
def test_what_cannot_be_said_is_widened_not_narrowed(kind: str) -> None:
    assert render("(Hezb* OR Hamas) NEAR/3 Israel", dialect(kind)) == "Israel"  # prefix dropped, NEAR → AND
    assert render("*", dialect(kind)) is None
    assert render("NOT Hezb*", dialect(kind)) is None  # NOT over a widened part would narrow: dropped
    assert render("Iran author:someone", dialect(kind)) == "Iran"


def test_hashtags_and_fields_where_the_api_has_them() -> None:
    assert render("#Hamas lang:en", dialect("x")) == "#Hamas lang:en"
    assert render("#Hamas lang:en", dialect("rss")) == "Hamas"
    assert render("#Hamas", dialect("mastodon")) == "#Hamas"


def test_unknown_feed_type_is_an_error() -> None:
    with pytest.raises(UnknownSource, match='unknown feed type "altavista"'):
        source_for("altavista")
