"""Pushdown renders a SUPERSET: whatever the local query matches, the API query asks for too."""

from __future__ import annotations

import pytest

from monitor.query.pushdown import APIS, render, render_each


@pytest.mark.parametrize(("api", "expected"), [
    ("google-news", 'Iran OR ("axis of resistance" -football)'),
    ("x", 'Iran OR ("axis of resistance" -football)'),
    ("reddit", 'Iran OR ("axis of resistance" AND NOT football)'),
    ("mastodon", None), ("bluesky", None), ("hn", None),  # no OR there: see render_each
])
def test_each_api_gets_its_own_syntax(api: str, expected: str | None) -> None:
    assert render('Iran OR "axis of resistance" -football', api) == expected


def test_apis_without_or_get_one_search_per_branch() -> None:
    assert render_each('Iran OR "axis of resistance" -football', "bluesky") == ["Iran", '"axis of resistance"']
    assert render_each("Iran OR Hamas", "hn") == ["Iran", "Hamas"]


@pytest.mark.parametrize("api", APIS)
def test_what_cannot_be_said_is_widened_not_narrowed(api: str) -> None:
    assert render("(Hezb* OR Hamas) NEAR/3 Israel", api) == "Israel"  # prefix dropped, NEAR → AND
    assert render("*", api) is None
    assert render("NOT Hezb*", api) is None  # NOT over a widened part would narrow: dropped
    assert render("Iran author:someone", api) == "Iran"


def test_hashtags_and_fields_where_the_api_has_them() -> None:
    assert render("#Hamas lang:en", "x") == "#Hamas lang:en"
    assert render("#Hamas lang:en", "google-news") == "Hamas"
    assert render("#Hamas", "mastodon") == "#Hamas"


def test_unknown_api_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown search API"):
        render("Iran", "altavista")
