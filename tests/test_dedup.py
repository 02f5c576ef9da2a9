"""The dedup ladder: URL, title, near-duplicate text; different posts stay apart; memory follows the window."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.dedup import Deduper, _web_parts_by_urlsplit, canonical_url, estimated_jaccard, sketch, web_parts
from monitor.textfeatures import MAX_SHINGLE_WORDS, Featurizer
from storage.types import Post

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def post(
    pid: str, text: str = "", *, source: str = "feed", url: str = "", title: str = "", minutes: float = 0,
    author: str = "someone",
) -> Post:
    return Post(
        id=pid, source=source, author=author, url=url, text=text, title=title,
        published=T0 + timedelta(minutes=minutes),
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example.com/story/42?utm_source=tw&utm_medium=social", "https://news.example.com/story/42"),
        ("https://news.example.com/story/42?fbclid=abc&gclid=def", "https://news.example.com/story/42"),
        ("https://news.example.com/story/42#comments", "https://news.example.com/story/42"),
        ("http://www.news.example.com/story/42/", "https://news.example.com/story/42"),
        ("https://m.news.example.com/story/42", "https://news.example.com/story/42"),
        ("https://amp.news.example.com/story/42", "https://news.example.com/story/42"),
        ("https://news.example.com/story/42/amp", "https://news.example.com/story/42"),
        ("https://news.example.com/amp/story/42", "https://news.example.com/story/42"),
        ("https://NEWS.example.com/story/42?b=2&a=1", "https://news.example.com/story/42?a=1&b=2"),
    ],
)
def test_canonical_url_removes_tracking_and_mobile_variants(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_keeps_what_identifies_the_page() -> None:
    assert canonical_url("https://example.com/watch?v=abc") != canonical_url("https://example.com/watch?v=xyz")
    assert canonical_url("https://example.com/a") != canonical_url("https://example.com/b")


URL_PIECES = st.text(alphabet="abcAZ09.-_/?#&=:;@[]%+~ \t\n\x01é\\", max_size=30)


@given(st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "http:/", "//", " http://", ""]), URL_PIECES)
def test_a_url_is_cut_as_urlsplit_cuts_it(scheme: str, rest: str) -> None:
    """web_parts cuts plain URLs with string methods: the same host, path and query as urlsplit."""
    url = scheme + rest
    assert web_parts(url) == _web_parts_by_urlsplit(url)


@pytest.mark.parametrize("url", ["", "ftp://example.com/file", "not a url", "javascript:alert(1)", "http://[::1"])
def test_canonical_url_rejects_what_is_not_a_web_page(url: str) -> None:
    assert canonical_url(url) is None


def test_same_page_from_two_feeds_folds_under_the_first() -> None:
    deduper = Deduper()
    first = post("1", "Council approves budget", source="rss-a", url="https://city.example/news/budget?utm_source=rss")
    second = post(
        "x9", "Budget passes after long night", source="mastodon", url="https://m.city.example/news/budget/#top",
        minutes=5,
    )
    assert deduper.check(first) is None
    assert deduper.check(second) == ("rss-a", "1")


def test_same_title_from_two_publishers_folds() -> None:
    deduper = Deduper()
    first = post("1", title="Central bank holds interest rates steady - Reuters", url="https://a.example/1")
    second = post("2", title="Central Bank Holds Interest Rates Steady | Example Times", url="https://b.example/9")
    assert deduper.check(first) is None
    assert deduper.check(second) == ("feed", "1")


def test_retweet_folds_under_the_original() -> None:
    deduper = Deduper()
    original = post("100", "Huge fire at the old harbour warehouse, roads closed around the port", source="x")
    retweet = post("101", "RT @harbourwatch: Huge fire at the old harbour warehouse, roads closed around the port",
                   source="x", author="fan", minutes=1)
    assert deduper.check(original) is None
    assert deduper.check(retweet) == ("x", "100")


def test_quote_post_with_a_short_comment_folds() -> None:
    deduper = Deduper()
    original = post("1", "The city council has approved the new cycling lanes plan for the whole centre", source="bsky")
    quote = post("2", "Finally! The city council has approved the new cycling lanes plan for the whole centre",
                 source="bsky", author="cyclist", minutes=3)
    assert deduper.check(original) is None
    assert deduper.check(quote) == ("bsky", "1")


def test_syndicated_wire_copy_folds() -> None:
    deduper = Deduper()
    wire = ("Shares of the carmaker fell 8 percent on Tuesday after it cut its annual delivery forecast, "
            "citing weaker demand in Europe and China and rising costs for batteries.")
    first = post("a1", wire, source="wire", url="https://wire.example/a1", title="Carmaker cuts forecast")
    copy = post("z7", "(Reuters) - " + wire.replace("Tuesday", "Tuesday,"), source="paper",
                url="https://paper.example/business/77", title="Carmaker shares slide on weak outlook", minutes=30)
    assert deduper.check(first) is None
    assert deduper.check(copy) == ("wire", "a1")


def test_different_posts_on_the_same_subject_are_not_folded() -> None:
    deduper = Deduper()
    posts = [
        post("1", "Huge fire at the old harbour warehouse, roads closed around the port", url="https://a.example/1"),
        post("2", "Firefighters say the harbour blaze is under control after six hours", url="https://a.example/2"),
        post("3", "Harbour fire: residents told to keep windows shut because of the smoke", url="https://a.example/3"),
    ]
    assert [deduper.check(p) for p in posts] == [None, None, None]


def test_short_identical_texts_from_different_people_are_not_copies() -> None:
    deduper = Deduper()
    assert deduper.check(post("1", "Wow, unbelievable", author="a")) is None
    assert deduper.check(post("2", "Wow, unbelievable", author="b")) is None


def test_a_copy_of_a_copy_folds_under_the_first_post() -> None:
    deduper = Deduper()
    text = "Breaking: the national museum will reopen on Monday after two years of renovation work"
    assert deduper.check(post("1", text, url="https://museum.example/news")) is None
    assert deduper.check(post("2", "RT @museum: " + text, url="https://museum.example/news?utm_campaign=x")) == (
        "feed", "1")
    assert deduper.check(post("3", "RT @fan: RT @museum: " + text, source="other")) == ("feed", "1")


def test_a_redelivered_post_names_its_own_family() -> None:
    deduper = Deduper()
    first = post("1", "Council approves budget", url="https://city.example/budget")
    assert deduper.check(first) is None
    assert deduper.check(first) == ("feed", "1")


def test_memory_follows_the_window() -> None:
    deduper = Deduper(window=timedelta(hours=1))
    old = post("1", "Council approves budget", url="https://city.example/budget")
    deduper.check(old)
    later = post("2", "Something else entirely happened today in town", url="https://city.example/other", minutes=120)
    deduper.check(later)
    assert len(deduper) == 1  # the first post left the window when the clock passed it
    again = post("3", "Council approves budget", url="https://city.example/budget", minutes=121)
    assert deduper.check(again) is None


def test_restore_remembers_the_window_after_a_restart() -> None:
    history = [
        post("1", "Huge fire at the old harbour warehouse, roads closed around the port", url="https://a.example/1"),
        post("2", "Council approves budget", url="https://city.example/budget", minutes=2),
    ]
    restored = Deduper()
    restored.restore(reversed(history))
    assert restored.check(post("9", "Budget!", source="other", url="https://city.example/budget?fbclid=1")) == (
        "feed", "2")
    assert restored.check(post("10", "RT @port: Huge fire at the old harbour warehouse, roads closed around the port",
                               source="x")) == ("feed", "1")


def test_sketch_estimate_tracks_resemblance() -> None:
    a = sketch("the national museum will reopen on monday after two years of renovation")
    b = sketch("the national museum will reopen on monday after three years of renovation")
    c = sketch("shares of the carmaker fell sharply after it cut its delivery forecast")
    assert a is not None and b is not None and c is not None
    assert estimated_jaccard(a, a) == 1.0
    assert estimated_jaccard(a, b) > 0.5 > estimated_jaccard(a, c)
    assert sketch("too short") is None


def test_features_computed_once_give_the_same_answers_as_computed_afresh() -> None:
    text = "Breaking: the national museum will reopen on Monday after two years of renovation work"
    posts = [
        post("1", text, url="https://museum.example/news"),
        post("2", "RT @museum: " + text, source="x", minutes=1),
        post("3", title="Central bank holds interest rates steady - Reuters", url="https://a.example/1", minutes=2),
        post("4", title="Central Bank Holds Interest Rates Steady | Times", url="https://b.example/9", minutes=3),
        post("5", "Council approves budget", url="https://museum.example/news?utm_source=rss", minutes=4),
        post("6", "Something else entirely happened today in the town centre", minutes=5),
    ]
    featurizer = Featurizer()
    afresh, shared = Deduper(), Deduper(featurizer=featurizer)
    expected = [None, ("feed", "1"), None, ("feed", "3"), ("feed", "1"), None]
    assert [afresh.check(p) for p in posts] == expected
    assert [shared.check(p, featurizer(p)) for p in posts] == expected


def test_a_megabyte_post_is_judged_by_its_opening() -> None:
    deduper = Deduper()
    opening = " ".join(f"w{i}" for i in range(MAX_SHINGLE_WORDS))
    huge = post("1", opening + " tail" * 200_000)
    other_tail = post("2", opening + " different ending", source="mirror", minutes=1)
    assert deduper.check(huge) is None
    assert deduper.check(other_tail) == ("feed", "1")
    assert deduper.check(post("3", "An unrelated post about the harbour fire and the roads around it")) is None


def test_dedup_imports_no_heavy_room() -> None:
    code = (
        "import sys, monitor.dedup, monitor.storybuilder\n"
        "bad = [m for m in ('textual', 'httpx', 'sqlalchemy') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@given(st.text(alphabet="aB c-|:–—@#/.:hé\t\nRT", max_size=60))
def test_the_title_key_is_the_normalised_title_of_four_words_or_more(title: str) -> None:
    """The featurizer reuses its title tokens for the key: the same key as normalising the title anew."""
    from monitor.textfeatures import MIN_TITLE_WORDS, normalized_title

    normal = normalized_title(title)
    expected = normal if title and normal.count(" ") + 1 >= MIN_TITLE_WORDS else None
    assert Featurizer()(post("1", title=title)).title_key == expected
