"""Relevance on the seed article: its own tweets match its topic, posts sharing one word do not."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config import Topic
from monitor.keywords import THRESHOLD, extract, query_for, topic_weights
from monitor.match import Matcher, compile_topics
from storage.types import Match, Post

PROBES = json.loads((Path(__file__).parent / "fixtures" / "seed_probes.json").read_text(encoding="utf-8"))
TWEETS: list[str] = PROBES["quoted"]
SHARE_ONE_WORD: list[str] = PROBES["share_one_word"]
STRONG_ALONE: list[str] = PROBES["strong_alone"]


def post(text: str) -> Post:
    return Post("1", "feed", "someone", "https://example.org/1", text, datetime(2023, 11, 16, tzinfo=UTC))


@pytest.fixture
def seed_topic(shared: Path) -> Matcher:
    keywords = extract((shared / "seed" / "article.txt").read_text(encoding="utf-8"), top=20)
    topic = Topic("seed", query=query_for(keywords), weights=topic_weights(keywords), threshold=THRESHOLD)
    return compile_topics([topic])


@pytest.mark.parametrize("text", TWEETS)
def test_the_tweets_the_article_quotes_match_its_topic(seed_topic: Matcher, text: str) -> None:
    (found,) = seed_topic.match(post(text))
    assert found.topic == "seed" and found.score >= THRESHOLD
    assert "Hamas" in found.terms  # the explanation names what counted


@pytest.mark.parametrize("text", SHARE_ONE_WORD)
def test_posts_that_merely_share_a_word_do_not(seed_topic: Matcher, text: str) -> None:
    assert seed_topic.match(post(text)) == ()


@pytest.mark.parametrize("text", STRONG_ALONE)
def test_one_strong_name_is_enough(seed_topic: Matcher, text: str) -> None:
    (found,) = seed_topic.match(post(text))
    assert len(found.terms) == 1 and found.score >= THRESHOLD


def test_generic_term_alone_falls_short_but_explains_itself() -> None:
    topic = Topic("t", query="Iran OR Hamas OR Haniyeh", threshold=1.0,
                  weights={"Iran": 0.25, "Hamas": 0.5, "Haniyeh": 1.0})
    matcher = compile_topics([topic])
    assert matcher.match(post("Iran 2-1 Japan")) == ()
    (found,) = matcher.match(post("Iran and Hamas, and Haniyeh"))
    assert found.terms == ("Haniyeh", "Hamas", "Iran") and found.score == 1.75


def test_topics_share_one_scan_and_keep_config_order() -> None:
    matcher = compile_topics([
        Topic("volcano", keywords=("Grindavik", "volcano")),
        Topic("quakes", query="earthquake* OR volcano"),
        Topic("other", query="bakery"),
    ])
    found = matcher.match(post("Volcano near Grindavík erupts; earthquakes felt"))
    assert [(m.topic, m.terms) for m in found] == [
        ("volcano", ("Grindavik", "volcano")), ("quakes", ("earthquake*", "volcano"))]


@pytest.mark.parametrize("text", ["Lava near Grindavik", "Ünïcödé wörds ✓", "", "#tag @someone http://x.org/1"])
def test_a_star_topic_matches_every_post_alike_beside_others_or_alone(text: str) -> None:
    stars = [Topic("all", query="*"), Topic("picky", query="*", threshold=2.0)]
    alone, mixed = compile_topics(stars), compile_topics([*stars, Topic("volcano", keywords=("Grindavik",))])
    expected = (Match("all", (), 1.0, True),)
    for _ in range(2):  # the first post and the ones after it
        assert alone.match(post(text)) == expected
        assert mixed.match(post(text))[:1] == expected
    assert [m.topic for m in mixed.match(post("Grindavik"))] == ["all", "volcano"]
    assert [m.topic for m in mixed.match(post("Reykjavik"))] == ["all"]


def test_core_rooms_do_not_import_io_libraries() -> None:
    import subprocess
    import sys

    code = ("import sys, monitor.match, monitor.keywords, monitor.query.pushdown; "
            "print(sorted(m for m in ('httpx', 'sqlalchemy', 'textual') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


ARTICLE = """Flash floods cut off Harrowgate, killing two

HARROWGATE, Westmark — Flash floods swept through the mountain town of Harrowgate on Tuesday after a
night of torrential rain, killing two people and cutting the only road to Pellby. The Wend burst its
banks below the old mill, and rescuers in boats carried residents from flooded homes.

Mayor Ilse Varnholt said the town had never flooded so fast. Westmark's governor declared an
emergency, and the flooding reached Pellby by evening, where the Wend bridge was closed.
"""


@pytest.fixture
def harrowgate() -> Matcher:
    keywords = extract(ARTICLE)
    return compile_topics([Topic("harrowgate", query=query_for(keywords), weights=topic_weights(keywords),
                                 threshold=THRESHOLD)])


@pytest.mark.parametrize("text", [
    "Harrowgate flooding: the road to Pellby is gone",  # another form of the article's "floods"
    "Praying for everyone in #HarrowgateFlood tonight",  # a hashtag joining two of its words
    "#harrowgateflood boats on the high street",  # the same, all lower case
    "Varnholt: never seen water rise like this",  # a rare name, the mayor's surname alone
    "Westmarkian volunteers head to Pellby",  # a place the article names, however written
])
def test_short_posts_in_the_forms_people_write_match(harrowgate: Matcher, text: str) -> None:
    assert harrowgate.match(post(text)), text


@pytest.mark.parametrize("text", [
    "Flooding on the M4 this morning, avoid the area",  # the event's kind, not this event
    "Our mill is open for tours again this weekend",  # one ordinary word in common
    "Boats for sale, good condition",
])
def test_one_chance_word_does_not_match(harrowgate: Matcher, text: str) -> None:
    assert harrowgate.match(post(text)) == (), text
