"""The query language as a user writes it: parsing, errors with columns, and what matches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.config import ConfigError, Topic
from monitor.match import compile_topics
from monitor.query.parse import QuerySyntaxError, parse
from monitor.query.tree import And, Everything, Field, Near, Not, Or, Phrase, Tag, Word, to_text
from storage.types import Post


def post(text: str, **fields: str) -> Post:
    values = {"author": "someone", "source": "feed", "url": "https://example.org/1", **fields}
    return Post("1", values["source"], values["author"], values["url"], text, datetime(2024, 1, 1, tzinfo=UTC),
                lang=fields.get("lang", ""))


def matches(query: str, text: str, **fields: str) -> tuple[str, ...] | None:
    found = compile_topics([Topic("t", query=query)]).match(post(text, **fields))
    return found[0].terms if found else None


def test_parse_builds_the_tree_a_reader_expects() -> None:
    assert parse('Iran OR "axis of resistance" -football') == Or((
        Word("Iran"), And((Phrase("axis of resistance"), Not(Word("football")))),
    ))
    hezbollah = Or((Word("Hezb", True), Word("Hizb", True)))
    assert parse("(Hezb* OR Hizb*) NEAR/3 Israel") == Near(hezbollah, Word("Israel"), 3)
    assert parse('#Hamas @BryanLeibFL author:"Bryan Leib" lang:en') == And((
        Tag("#", "Hamas"), Tag("@", "BryanLeibFL"), Field("author", "Bryan Leib"), Field("lang", "en"),
    ))
    assert parse("*") == Everything()
    assert parse("war and peace") == And((Word("war"), Word("and"), Word("peace")))  # lower-case is a word


@pytest.mark.parametrize(("query", "column", "says"), [
    ("Iran AND", 9, "expected a term"),
    ('Iran "axis of', 6, "unclosed quote"),
    ("(Iran OR Hamas", 15, "missing ')'"),
    ("Iran )", 6, "unexpected ')'"),
    ("Iran NEAR Hamas", 6, "NEAR/3"),
    ("a NEAR/2 NOT b", 10, "expected a term"),
    ("lang: Iran", 1, "needs a value"),
    ("", 1, "empty query"),
    ("Iran !!!", 6, "nothing to search for"),
    ("author:x NEAR/2 b", 10, "NEAR joins"),
])
def test_syntax_errors_name_the_column(query: str, column: int, says: str) -> None:
    with pytest.raises(QuerySyntaxError) as error:
        parse(query)
    assert error.value.column == column
    assert says in str(error.value) and f"column {column}" in str(error.value)


def test_a_bad_query_in_feeds_toml_is_a_config_error_naming_the_topic() -> None:
    with pytest.raises(ConfigError, match=r'\[\[topics\]\] "t": column 6'):
        compile_topics([Topic("t", query="Iran )")])


def test_printing_keeps_grouping() -> None:
    tree = parse("(a OR b) c NOT (d e) x NEAR/2 (y OR z)")
    assert to_text(tree) == "(a OR b) AND c AND NOT (d AND e) AND (x NEAR/2 (y OR z))"
    assert parse(to_text(tree)) == tree


def test_whole_words_only_case_accent_and_width_insensitive() -> None:
    assert matches("Hezbollah", "HÉZBOLLAH fired rockets") == ("Hezbollah",)
    assert matches("iran", "Ｉｒａｎ says") == ("iran",)
    assert matches("Iran", "Iran's leader") == ("Iran",)
    assert matches("Iran", "Iranian leader") is None
    assert matches("Nova", "Casanova returns") is None
    assert matches("café", "the CAFE opened") == ("café",)


def test_phrases_prefixes_hashtags_and_mentions() -> None:
    assert matches('"axis of resistance"', 'the "Axis of Resistance," said') == ('"axis of resistance"',)
    assert matches('"axis of resistance"', "resistance on the axis of") is None
    assert matches("Hezb*", "Hezbollah's flag") == ("Hezb*",)
    assert matches("Hamas", "support of #Hamas.") == ("Hamas",)  # a word finds its hashtag
    assert matches("#Hamas", "Hamas said") is None  # a hashtag wants the hashtag
    assert matches("#Hamas", "so #HAMAS") == ("#Hamas",)
    assert matches("@BryanLeibFL", "— Bryan E. Leib (@BryanLeibFL)") == ("@BryanLeibFL",)
    assert matches("@example", "mail bryan@example.org") is None  # an address is not a mention


def test_boolean_operators_and_exclusions() -> None:
    assert matches("Iran AND Hamas", "Iran and Hamas") == ("Iran", "Hamas")
    assert matches("Iran AND Hamas", "Iran alone") is None
    assert matches("Iran -football", "Iran 2-1 Japan football") is None
    assert matches("Iran -football", "Iran sends a message") == ("Iran",)
    assert matches("NOT football", "anything at all") == ()
    assert matches("*", "anything at all") == ()


def test_near_counts_the_words_between() -> None:
    assert matches("Haniyeh NEAR/2 Khamenei", "Haniyeh met with Khamenei") == ("Haniyeh", "Khamenei")
    assert matches("Haniyeh NEAR/2 Khamenei", "Khamenei, then Haniyeh") is not None  # either order
    assert matches("Haniyeh NEAR/1 Khamenei", "Haniyeh met with Khamenei") is None
    assert matches('"Ali Khamenei" NEAR/0 leader', "leader Ali Khamenei") is not None


def test_fields() -> None:
    assert matches('author:"Bryan Leib"', "x", author="Bryan E. Leib") is None
    assert matches('author:"Leib"', "x", author="Bryan E. Leib (@BryanLeibFL)") is not None
    assert matches("source:bbc-middle-east", "x", source="bbc-middle-east") is not None
    assert matches("url:reuters.com Iran", "Iran", url="https://www.Reuters.com/world") == ("Iran",)
    assert matches("lang:en", "x", lang="en-GB") is not None
    assert matches("lang:en", "x", lang="fr") is None


def test_keywords_topic_any_of_with_terms_recorded() -> None:
    keywords = ("#Hamas", "Hezbollah", "axis of resistance")
    matcher = compile_topics([Topic("k", keywords=keywords), Topic("all", query="*")])
    found = matcher.match(post("Iran's HAMAS and Hézbollah; the Axis of Resistance"))
    assert [(m.topic, m.terms, m.score) for m in found] == [
        ("k", ("#Hamas", "Hezbollah", "axis of resistance"), 3.0), ("all", (), 1.0)]
    assert [m.topic for m in matcher.match(post("Hamasville"))] == ["all"]


def test_weights_and_threshold_decide_and_explain() -> None:
    topic = Topic("w", query="Iran OR Khamenei OR Tehran", threshold=1.0,
                  weights={"Iran": 0.25, "Tehran": 0.4, '"Ali Khamenei" OR Khamenei': 1.0})
    matcher = compile_topics([topic])
    assert matcher.match(post("Iran 2-1 Japan")) == ()
    (found,) = matcher.match(post("Khamenei spoke in Tehran"))
    assert found.terms == ("Khamenei", "Tehran") and found.score == 1.4  # the forms the post holds


# Most posts are rejected by a cheap first-word screen over loosely folded text; these are the
# shapes that screen must not lose (punctuation between phrase words, title and text, prefixes,
# width-folded terms) and the ones it must not let through (a tag when the post has no tag).
@pytest.mark.parametrize(("query", "text"), [
    ('"axis of resistance"', "The axis,  of -- resistance!"),
    ('"axis of resistance"', "The AXIS\n\nof\tresistance"),
    ("Hezb*", "Hezbollah said"),
    ("Ｉｒａｎ", "IRAN today"),
    ('"Ismail Haniyeh"', "Ismail... Haniyeh"),
    ("#Hamas", "a post about #Hamas"),
    ('"Hamas attack"', "#Hamas attack"),
])
def test_loosely_spaced_and_folded_posts_still_match(query: str, text: str) -> None:
    assert matches(query, text) is not None


@pytest.mark.parametrize(("query", "text"), [
    ("#Hamas", "a post about Hamas"),
    ("@BryanLeibFL", "BryanLeibFL wrote"),
    ('"axis of resistance"', "axis of the resistance"),
    ("Hezb*", "the xHezbollah, a Hiz-bollah"),
    ("حماس", "Hamas"),
])
def test_the_screen_lets_nothing_through_that_does_not_match(query: str, text: str) -> None:
    assert matches(query, text) is None


def test_a_phrase_may_run_from_the_title_into_the_text() -> None:
    topic = compile_topics([Topic("t", query='"axis of resistance"')])
    title_and_text = Post("1", "feed", "a", "u", "of resistance, analysts say", datetime(2024, 1, 1, tzinfo=UTC),
                          title="The axis")
    assert [m.terms for m in topic.match(title_and_text)] == [('"axis of resistance"',)]


def test_the_written_table_of_combining_marks_is_what_unicodedata_says() -> None:
    """monitor/query/marks.py spares every start 14 ms by keeping the ranges of its Unicode version."""
    import unicodedata

    from monitor.query import marks

    if unicodedata.unidata_version != marks.UNICODE_VERSION:
        pytest.skip(f"this Python has Unicode {unicodedata.unidata_version}: the ranges are worked out")
    assert marks.computed() == marks.RANGES
