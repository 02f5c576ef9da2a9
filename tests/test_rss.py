"""The feed adapter on small hand-written feeds: every format, links, dates, text, hostile input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from monitor.pollerrors import FeedError
from monitor.sources import rss
from monitor.sources.base import PollContext, Response
from monitor.sources.text import html_to_text
from storage.types import Post

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
FEED_URL = "https://host.example/feeds/main.xml"


def posts_of(name: str, url: str = FEED_URL) -> list[Post]:
    return rss.parse_feed((FIXTURES / name).read_bytes(), url=url, source="test")


def test_rss2_items_become_posts_with_resolved_links_utc_dates_and_plain_text() -> None:
    ferry, lights, undated = posts_of("rss2.xml")
    assert ferry.id == "gazette-1001"
    assert ferry.url == "https://host.example/news/ferry-strike-ends"
    assert ferry.published == datetime(2024, 1, 2, 7, 30, tzinfo=UTC)
    assert ferry.author == "Ana Lopes"
    assert ferry.title == "Ferry strike ends after three days"
    assert ferry.text == "Ferry strike ends after three days. Crews return on Wednesday & timetables resume."
    assert (ferry.source, ferry.kind) == ("test", "rss")
    assert lights.author == "Sam Reed"  # "email (Name)" keeps the name only
    # The description repeats the title: the text does not say it twice.
    assert lights.text == "Harbour lights switched on - a small crowd watched."
    assert undated.url == ""
    assert undated.id.startswith("sha256:")


def test_rss1_rss091_atom03_and_atom10_all_parse() -> None:
    (rdf,) = posts_of("rss1.rdf")
    assert (rdf.id, rdf.url) == ("https://rdf.example/a", "https://rdf.example/a")
    assert rdf.published == datetime(2024, 3, 5, 19, 0, tzinfo=UTC)
    (old,) = posts_of("rss091.xml")
    assert old.text == "Bulletin board reopens. Dial in again."
    (legacy,) = posts_of("atom03.xml")
    assert legacy.url == "http://atom03.example/legacy"
    assert legacy.published == datetime(2004, 1, 1, 10, 0, tzinfo=UTC)
    port, updated_only = posts_of("atom.xml")
    assert port.id == "tag:atom.example,2024:port"
    assert port.url == "https://host.example/feeds/articles/port-reopens.html"  # not the enclosure
    assert port.published == datetime(2024, 5, 1, 6, 15, tzinfo=UTC)  # published wins over updated
    assert port.author == "Marie Curie"
    assert port.title == "Port reopens"  # type="html" title, escaped markup removed
    assert port.lang == "fr"
    assert updated_only.published == datetime(2024, 5, 2, 7, 0, tzinfo=UTC)
    assert updated_only.text == "Only updated. Body link"


def test_json_feed_1_1_and_1_0() -> None:
    bridge, note, no_id = posts_of("feed.json")
    assert bridge.id == "j-1"
    assert bridge.url == "https://host.example/feeds/posts/1"
    assert bridge.text == "Bridge closed. The old bridge is closed."
    assert bridge.published == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    assert (bridge.author, bridge.lang) == ("Kai", "de")
    assert (note.id, note.text, note.author) == ("42", "A title-less note", "Old Style")
    assert no_id.id == "https://json.example/posts/3"  # no id: the link stands in
    (v1,) = posts_of("feed10.json")
    assert (v1.id, v1.text) == ("a", "Hello. Summary text")


def test_a_feed_without_dates_gets_the_parse_time() -> None:
    before = datetime.now(UTC)
    (old,) = posts_of("rss091.xml")
    assert before <= old.published <= datetime.now(UTC)


def test_fallback_ids_are_stable_and_differ_between_items() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title>
      <item><title>One</title><description>first</description><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate></item>
      <item><title>Two</title><description>second</description></item></channel></rss>"""
    first = rss.parse_feed(body, url=FEED_URL, source="s")
    again = rss.parse_feed(body, url=FEED_URL, source="s")
    assert [p.id for p in first] == [p.id for p in again]
    assert len({p.id for p in first}) == 2
    assert all(p.id for p in first)


def test_html_page_instead_of_a_feed_is_a_feed_error() -> None:
    with pytest.raises(FeedError, match=r"^not a feed: looks like an HTML page$"):
        posts_of("page.html")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"   \n", "empty body"),
        (b"<rss version='2.0'><channel><title>cut", "malformed XML"),
        (b"just some words", "not a feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', "not a feed"),
        (b"{not json", "not a feed: invalid JSON"),
        (b"[" * 100_000, "not a feed"),
    ],
)
def test_broken_bodies_give_one_line_feed_errors(body: bytes, reason: str) -> None:
    with pytest.raises(FeedError) as caught:
        rss.parse_feed(body, url=FEED_URL, source="s")
    assert str(caught.value).startswith(reason)
    assert "\n" not in str(caught.value)


def test_oversize_body_is_refused_without_parsing() -> None:
    with pytest.raises(FeedError, match="feed too large"):
        rss.parse_feed(b" " * (rss.MAX_BODY_BYTES + 1), url=FEED_URL, source="s")


def test_entity_bomb_stays_inert_and_keeps_the_item() -> None:
    (post,) = posts_of("billion-laughs.xml")
    assert post.url == "https://bomb.example/1"
    assert len(post.text) < 100  # nothing expanded


def test_external_entity_is_not_read() -> None:
    (post,) = posts_of("xxe.xml")
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    assert post.url == "https://xxe.example/1"
    assert post.title == "Leak &secret;"
    assert not hostname or hostname not in post.text


def test_terminal_escape_sequences_and_bidi_overrides_are_stripped_whole() -> None:
    (post,) = posts_of("escapes.xml")
    assert post.title == "Alert red done evil"
    assert post.text == "Alert red done evil. tab here click me"


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    (post,) = posts_of("invalid-utf8.xml")
    assert post.title.startswith("Caf") and post.title.endswith("broken")


def test_undeclared_latin1_is_read_as_windows_1252() -> None:
    body = "<rss version='2.0'><channel><item><title>Notícias €</title><link>https://l.example/</link></item></channel></rss>"
    (post,) = rss.parse_feed(body.encode("cp1252"), url=FEED_URL, source="s")
    assert post.title == "Notícias €"


def test_html_named_entities_in_xml_do_not_cut_text() -> None:
    body = b"""<rss version="2.0"><channel><item><title>A&nbsp;B &eacute;t&eacute;</title>
      <link>https://e.example/1</link><description>one&hellip; two</description></item></channel></rss>"""
    (post,) = rss.parse_feed(body, url=FEED_URL, source="s")
    assert post.title == "A B été"
    assert post.text == "A B été. one… two"


def test_only_http_links_survive() -> None:
    body = b"""<rss version="2.0"><channel><item><title>x</title><guid>g1</guid>
      <link>javascript:alert(1)</link></item></channel></rss>"""
    (post,) = rss.parse_feed(body, url=FEED_URL, source="s")
    assert post.url == ""


def test_root_xml_base_is_used_for_relative_links() -> None:
    body = b"""<rss version="2.0" xml:base="https://other.example/news/"><channel>
      <item><title>x</title><link>story/1</link></item></channel></rss>"""
    (post,) = rss.parse_feed(body, url=FEED_URL, source="s")
    assert post.url == "https://other.example/news/story/1"
    assert post.id == post.url


def test_html_to_text_drops_scripts_decodes_entities_and_breaks_blocks() -> None:
    html = "<div><p>One &amp; <b>two</b></p><script>evil()</script><style>p{}</style><p>three<br>four</p></div>"
    assert html_to_text(html) == "One & two\nthree\nfour"
    assert html_to_text("plain   text\x00 with\u202e controls") == "plain text with controls"
    assert html_to_text('<img alt="a photo"> caption') == "a photo caption"
    assert html_to_text("a < b and c > d") == "a < b and c > d"


def test_html_to_text_bounds_huge_input() -> None:
    text = html_to_text("<p>" + "word " * 1_000_000)
    assert 0 < len(text) <= 1_000_000


def test_first_request_uses_the_url_or_the_google_news_search() -> None:
    direct = rss.first_request(PollContext("f", {"url": "https://a.example/feed"}))
    assert direct.url == "https://a.example/feed"
    search = rss.first_request(PollContext("g", {}, query='"Gaza ceasefire" OR Hamas'))
    parts = urlsplit(search.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "news.google.com", "/rss/search")
    assert parse_qs(parts.query)["q"] == ['"Gaza ceasefire" OR Hamas']
    assert parse_qs(parts.query)["hl"] == ["en-US"]
    custom = rss.first_request(PollContext("c", {"search_url": "https://s.example/?q={query}"}, query="a b"))
    assert custom.url == "https://s.example/?q=a+b"


def test_parse_reads_the_response_and_names_the_source() -> None:
    body = (FIXTURES / "rss2.xml").read_bytes()
    page = rss.parse(PollContext("gazette", {"url": FEED_URL}), Response(FEED_URL, 200, {}, body))
    assert [p.source for p in page.posts] == ["gazette"] * 3
