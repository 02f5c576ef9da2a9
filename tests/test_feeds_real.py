"""Conformance on every real-world feed in ../shared/data/feeds/real (skips where ../shared is absent).

Expectations were read from the files themselves: item count, the first item's id, link and date.
`None` as a date means the first item has none (or none a parser can read, like uolNoticias'
Portuguese "Seg, 24 Set 2018"): it gets the parse time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.pollerrors import FeedError
from monitor.sources.rss import parse_feed

FEED_URL = "https://feeds.example/dir/feed.xml"
REDDIT = "https://ud.reddit.com/r/homelab/comments/157kyrd/any_reason_to_keep_1g_connections_to_my_servers/"
GUARDIAN = "https://www.theguardian.com/us-news/2018/jan/31/donald-trump-state-of-the-union-address-unity-discord"
INFLUX = "https://www.influxdata.com/blog/influxdb-outperforms-graphite-in-time-series-data-metrics-benchmark"
CRAIGSLIST = "http://sfbay.craigslist.org/eby/apa/6186664607.html"
HERALD = "http://www.oreilly.com/example/001.html"
REDDIT_OLD = "https://www.reddit.com/r/funny/comments/3skxqc/the_water_is_too_deep_so_he_improvises/"

# file: (posts, first id, first link, first date in UTC or None)
EXPECTED: dict[str, tuple[int, str, str, str | None]] = {
    "feed-rs-atom_mediarss_reddit_1.xml": (25, "t3_157kyrd", REDDIT, "2023-07-23T17:38:30"),
    "feed-rs-atom_mediarss_youtube_1.xml": (
        1,
        "yt:video:0A1ouV7iD8o",
        "https://www.youtube.com/watch?v=0A1ouV7iD8o",
        "2020-12-22T19:15:01",
    ),
    "feed-rs-jsonfeed_elastic_1.1.json": (3, INFLUX, INFLUX, "2019-05-31T19:17:58"),
    "feed-rs-rss_1.0_debian.xml": (
        1,
        "https://www.debian.org/News/2022/20221217",
        "https://www.debian.org/News/2022/20221217",
        "2022-12-17T00:00:00",
    ),
    "feed-rs-rss_2.0_bbc.xml": (
        1,
        "urn:bbc:podcast:m000sjxt",
        "http://www.bbc.co.uk/programmes/m000sjxt",
        "2021-02-25T10:15:00",
    ),
    "feed-rs-rss_2.0_cloudflare.xml": (
        1,
        "6166e7e065133e02a961145d",
        "https://blog.cloudflare.com/privacy-preserving-compromised-credential-checking/",
        "2021-10-14T12:59:53",
    ),
    "feed-rs-rss_2.0_reddit.xml": (
        1,
        "t3_qksbf1",
        "https://www.reddit.com/r/kevincox/comments/qksbf1/announcing_feedmail/",
        "2021-11-02T00:46:08",
    ),
    "reader-10.json": (0, "", "", None),
    "reader-empty.rss": (1, "7bd204c6-1655-4c27-aeee-53f933c5395f", "", None),
    "reader-empty.json": (1, "1", "", None),
    "reader-full.atom": (
        5,
        "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
        "http://example.org/2003/12/13/atom03",
        "2003-12-13T17:17:51",
    ),
    "reader-full.json": (2, "2", "https://example.org/second-item", "2020-01-02T21:00:00"),
    "reader-full.rss": (
        5,
        "7bd204c6-1655-4c27-aeee-53f933c5395f",
        "http://www.example.com/blog/post/1",
        "2009-09-06T16:20:00",
    ),
    "reader-relative.atom": (
        1,
        "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
        "https://feeds.example/dir/entries/entry.html",
        None,
    ),
    "reader-relative.rss": (1, "7bd204c6-1655-4c27-aeee-53f933c5395f", "https://feeds.example/dir/blog/post/1", None),
    "rss-parser-craigslist.rss": (25, CRAIGSLIST, CRAIGSLIST, "2017-06-21T17:33:10"),
    "rss-parser-guardian.rss": (55, GUARDIAN, GUARDIAN, "2018-01-31T07:26:05"),
    "rss-parser-heise.atom": (
        15,
        "http://heise.de/-3088438",
        "http://www.heise.de/developer/meldung/Java-Anwendungsserver-Red-Hat-gibt-WildFly-10-frei-3088438.html"
        "?wt_mc=rss.developer.beitrag.atom",
        "2016-02-01T16:22:00",
    ),
    "rss-parser-heraldsun.rss": (2, HERALD, HERALD, None),
    "rss-parser-incomplete-fields.atom": (0, "", "", None),  # one <entry> with only an empty <author>
    "rss-parser-reddit-home.rss": (
        24,
        "t3_42tizy",
        "https://www.reddit.com/r/funny/comments/42tizy/how_the_british_as_seen_by_americans_and_europeans/",
        "2016-01-26T20:31:34",
    ),
    "rss-parser-reddit.rss": (24, REDDIT_OLD, REDDIT_OLD, "2015-11-12T21:16:39"),
}


def real_dir(shared: Path) -> Path:
    return shared / "data" / "feeds" / "real"


def test_every_real_file_gives_posts_or_a_feed_error(shared: Path) -> None:
    files = sorted(p for p in real_dir(shared).iterdir() if p.is_file())
    assert len(files) >= 30
    for path in files:
        try:
            posts = parse_feed(path.read_bytes(), url=FEED_URL, source=path.stem)
        except FeedError as error:
            assert path.name == "feed-rs-rss_2.0_invalid_1.xml", f"{path.name}: {error}"
            continue
        for post in posts:
            assert post.id, path.name
            assert post.source == path.stem
            assert post.published.utcoffset() == timedelta(0), path.name
            assert post.url == "" or post.url.startswith(("http://", "https://")), (path.name, post.url)
            assert "<" not in post.title or ">" not in post.title, (path.name, post.title)
            assert not any(ord(c) < 32 and c not in "\n\t" for c in post.text), path.name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_first_item_matches_the_file(shared: Path, name: str) -> None:
    count, first_id, first_link, first_date = EXPECTED[name]
    before = datetime.now(UTC)
    posts = parse_feed((real_dir(shared) / name).read_bytes(), url=FEED_URL, source="real")
    assert len(posts) == count
    if not count:
        return
    first = posts[0]
    assert (first.id, first.url) == (first_id, first_link)
    if first_date is None:
        assert first.published >= before
    else:
        assert first.published == datetime.fromisoformat(first_date).replace(tzinfo=UTC)


def test_text_or_title_is_there_where_the_feed_has_one(shared: Path) -> None:
    guardian = parse_feed((real_dir(shared) / "rss-parser-guardian.rss").read_bytes(), url=FEED_URL, source="g")
    assert all(p.title and p.text.startswith(p.title) for p in guardian)
    assert guardian[0].author == "David Smith in Washington"
    uol = parse_feed((real_dir(shared) / "rss-parser-uolNoticias.rss").read_bytes(), url=FEED_URL, source="u")
    assert "simulações" in uol[0].title  # undeclared latin-1, read as such
    relative = parse_feed((real_dir(shared) / "reader-relative.rss").read_bytes(), url=FEED_URL, source="r")
    assert relative[0].text == "one two three"


def test_invalid_json_feed_keeps_the_items_a_lenient_reader_can_use(shared: Path) -> None:
    posts = parse_feed((real_dir(shared) / "reader-invalid.json").read_bytes(), url=FEED_URL, source="j")
    assert [p.id for p in posts] == [
        "2",
        "3.1415",
        "author name",
        "author url",
        "author name fallback",
        "author empty dict",
        "author empty list",
        "second author is good",
    ]
    assert posts[1].text == "float id"
    assert posts[-1].author == "Jane"
    assert all(p.url == "" for p in posts)  # "url": 1.2 is no link


def test_truncated_rss_is_a_feed_error_naming_the_xml_problem(shared: Path) -> None:
    body = (real_dir(shared) / "feed-rs-rss_2.0_invalid_1.xml").read_bytes()
    with pytest.raises(FeedError, match=r"^malformed XML: "):
        parse_feed(body, url=FEED_URL, source="x")
