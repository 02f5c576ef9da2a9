"""`monitor feeds list|add|remove|import`: feeds without editing TOML, the rest of the file untouched.

Addresses are recognised through the source registry; web pages are read over a real socket on
127.0.0.1 (autodiscovery: relative links, several feeds, none).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.config import load
from monitor.discovery import feed_links
from monitor.sources import SOURCES, recognise
from tests.support.feeds import rss
from tests.support.inprocess import run_cli
from tests.support.server import FixtureServer, Reply

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}

COMMENTED = """\
# My feeds.toml: every comment here must survive every `monitor feeds` edit.
[storage]
url = "sqlite:///monitor.db"   # beside me

# The one topic.
[[topics]]
name = "quake"  # short
keywords = ["earthquake", "tremor"]
# a comment inside the topic

# --- news desks ---
[[feeds]]
name = "first"   # keep this
type = "rss"
url = "https://first.example/rss"
# a comment after the first feed's keys

[[feeds]]
name = "second"
type = "rss"
# between keys
url = "https://second.example/rss"
interval = "10m"

# heads the third feed
[[feeds]]
name = "third"
type = "reddit"
subreddit = "earthquakes"

# the end of the file
"""
SECOND = """
[[feeds]]
name = "second"
type = "rss"
# between keys
url = "https://second.example/rss"
interval = "10m"
"""


def _config(tmp_path: Path, text: str = COMMENTED) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(text)
    return path


# --- addresses, through the registry ---------------------------------------------------------------------


@pytest.mark.parametrize(("address", "kind", "keys"), [
    ("https://news.example/feed.xml", "rss", {"url": "https://news.example/feed.xml"}),
    ("https://search.example/rss?q={query}", "rss", {"search_url": "https://search.example/rss?q={query}"}),
    ("@ann@masto.example", "mastodon", {"account": "@ann@masto.example"}),
    ("@ann.example.com", "bluesky", {"actor": "ann.example.com"}),
    ("Ann.bsky.social", "bluesky", {"actor": "ann.bsky.social"}),
    ("did:plc:ewvi7nxzyoun6zhxrhs64oiz", "bluesky", {"actor": "did:plc:ewvi7nxzyoun6zhxrhs64oiz"}),
    ("r/earthquakes", "reddit", {"subreddit": "earthquakes"}),
    ("/r/earthquakes/", "reddit", {"subreddit": "earthquakes"}),
])
def test_the_registry_recognises_each_kind_of_address(address: str, kind: str, keys: dict[str, str]) -> None:
    assert recognise(address) == (kind, keys)


@pytest.mark.parametrize("address", ["news.example", "ann@masto.example", "ftp://x.example/f", "r/", "hello world",
                                     "http://[::1/feed"])
def test_what_is_no_address_is_recognised_by_no_kind(address: str) -> None:
    assert recognise(address) is None


def test_every_address_a_kind_takes_makes_a_feed_its_kind_accepts(tmp_path: Path) -> None:
    for address in ["@ann@masto.example", "@ann.example.com", "r/earthquakes"]:
        config = _config(tmp_path, '[[topics]]\nname = "quake"\nkeywords = ["earthquake"]\n')
        code, _, err = run_cli("feeds", "add", address, "--config", str(config))
        assert code == 0, err
        (feed,) = load(config).feeds
        assert feed.type in SOURCES and recognise(address) == (feed.type, dict(feed.options))


# --- add ---------------------------------------------------------------------------------------------------


def test_add_a_feed_url_inserts_only_its_table_after_the_last_feed(tmp_path: Path, server: FixtureServer) -> None:
    server.routes["/quakes.xml"] = Reply(200, rss([("1", "earthquake")]), RSS)
    config = _config(tmp_path)
    code, out, _ = run_cli("feeds", "add", server.url("/quakes.xml"), "--name", "quakes", "--interval", "90s",
                           "--config", str(config))
    assert code == 0 and 'added "quakes"' in out
    block = f'\n[[feeds]]\nname = "quakes"\ntype = "rss"\nurl = "{server.url("/quakes.xml")}"\ninterval = "90s"\n'
    at = COMMENTED.index("\n\n# the end of the file")
    assert config.read_text() == COMMENTED[:at + 1] + block + COMMENTED[at + 1:]


def test_a_page_with_a_relative_feed_link_adds_the_absolute_feed(tmp_path: Path, server: FixtureServer) -> None:
    server.routes["/blog/"] = Reply(200, b'<!doctype html><html><head><title>Blog</title>'
                                    b'<link rel="alternate" type="application/rss+xml" title="Quake Blog" '
                                    b'href="feed.xml"></head><body>hi</body></html>', HTML)
    config = _config(tmp_path)
    code, out, _ = run_cli("feeds", "add", server.url("/blog/"), "--config", str(config))
    assert code == 0, out
    added = load(config).feeds[-1]
    assert (added.name, added.type, added.url) == ("Quake Blog", "rss", server.url("/blog/feed.xml"))


def test_a_page_naming_several_feeds_adds_the_first_and_names_the_others(
        tmp_path: Path, server: FixtureServer) -> None:
    server.routes["/"] = Reply(200, b"""<html><head><base href="/site/">
        <link rel="stylesheet" href="x.css">
        <link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
        <link rel="alternate" type="application/atom+xml" title="Posts" href="/atom.xml">
        <link rel="alternate" type="application/rss+xml" title="Comments" href="comments.rss">
        </head></html>""", HTML)
    config = _config(tmp_path)
    code, out, _ = run_cli("feeds", "add", server.url("/"), "--config", str(config))
    assert code == 0
    assert load(config).feeds[-1].url == server.url("/atom.xml")
    assert f"another feed too: {server.url('/site/comments.rss')}" in out


def test_a_page_naming_no_feed_is_one_line_and_changes_nothing(tmp_path: Path, server: FixtureServer) -> None:
    server.routes["/plain"] = Reply(200, b"<html><head><title>No feeds</title></head><body>x</body></html>", HTML)
    config = _config(tmp_path)
    for url in (server.url("/plain"), server.url("/missing")):
        code, _, err = run_cli("feeds", "add", url, "--config", str(config))
        assert code == 2 and err.count("\n") == 1 and err.startswith("monitor: "), err
    assert "names no feed" in run_cli("feeds", "add", server.url("/plain"), "--config", str(config))[2]
    assert config.read_text() == COMMENTED


def test_add_twice_changes_nothing_and_a_taken_name_is_refused(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, out, _ = run_cli("feeds", "add", "r/earthquakes", "--config", str(config))
    assert code == 0 and 'already in' in out and '"third"' in out
    code, _, err = run_cli("feeds", "add", "r/volcanoes", "--name", "first", "--config", str(config))
    assert code == 2 and "already" in err
    code, _, err = run_cli("feeds", "add", "r/volcanoes", "--interval", "soon", "--config", str(config))
    assert code == 2 and "duration" in err
    assert config.read_text() == COMMENTED


def test_a_kind_with_topic_is_a_search_feed(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, _, _ = run_cli("feeds", "add", "hackernews", "--topic", "quake", "--config", str(config))
    assert code == 0
    feed = load(config).feeds[-1]
    assert (feed.name, feed.type, dict(feed.options)) == ("hackernews-quake", "hackernews", {"topic": "quake"})
    code, _, err = run_cli("feeds", "add", "hackernews", "--topic", "nope", "--config", str(config))
    assert code == 2 and 'no topic named "nope"' in err


def test_add_creates_feeds_toml_when_there_is_none(tmp_path: Path) -> None:
    config = tmp_path / "new" / "feeds.toml"
    code, _, _ = run_cli("feeds", "add", "r/earthquakes", "--config", str(config))
    assert code == 0 and [f.name for f in load(config).feeds] == ["r/earthquakes"]


# --- remove, import ----------------------------------------------------------------------------------------


def test_remove_takes_out_only_the_table_and_keeps_every_comment(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, out, _ = run_cli("feeds", "remove", "second", "--config", str(config))
    assert code == 0 and "stored posts stay" in out
    assert config.read_text() == COMMENTED.replace(SECOND, "", 1)
    code, _, err = run_cli("feeds", "remove", "second", "--config", str(config))
    assert code == 2 and '"first", "third"' in err


def test_import_inserts_the_new_tables_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "list.opml").write_text('<opml version="2.0"><body><outline text="Cat">'
                                        '<outline text="A" xmlUrl="https://a.example/rss"/>'
                                        '<outline text="first" xmlUrl="https://b.example/rss"/>'
                                        "</outline></body></opml>")
    config = _config(tmp_path)
    code, _, _ = run_cli("feeds", "import", str(tmp_path / "list.opml"), "--config", str(config))
    assert code == 0
    block = ('\n[[feeds]]\nname = "A"\ntype = "rss"\nurl = "https://a.example/rss"\n'
             '\n[[feeds]]\nname = "first (2)"\ntype = "rss"\nurl = "https://b.example/rss"\n')
    at = COMMENTED.index("\n\n# the end of the file") + 1
    assert config.read_text() == COMMENTED[:at] + block + COMMENTED[at:]


def test_a_layout_it_cannot_edit_safely_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    """A [[feeds]] header inside a multi-line string: the edit would be unsafe, so it is not made."""
    text = COMMENTED.replace('keywords = ["earthquake", "tremor"]',
                             'keywords = ["earthquake"]\narticle = """\n[[feeds]]\nnot a table\n"""')
    config = _config(tmp_path, text)
    code, _, err = run_cli("feeds", "remove", "second", "--config", str(config))
    assert code == 2 and "cannot edit" in err and "unchanged" in err
    assert config.read_text() == text


def test_edits_keep_the_files_mode_and_write_through_a_symlink(tmp_path: Path) -> None:
    real = _config(tmp_path)
    real.chmod(0o640)
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    assert run_cli("feeds", "remove", "third", "--config", str(link))[0] == 0
    assert link.is_symlink() and real.stat().st_mode & 0o777 == 0o640
    assert 'name = "third"' not in real.read_text()


# --- list ---------------------------------------------------------------------------------------------------


def test_list_shows_name_type_where_interval_and_health(tmp_path: Path, server: FixtureServer) -> None:
    server.routes["/ok.xml"] = Reply(200, rss([("1", "earthquake in the hills")]), RSS)
    config = _config(tmp_path, '[[topics]]\nname = "quake"\nkeywords = ["earthquake"]\n'
                     f'[[feeds]]\nname = "ok"\nurl = "{server.url("/ok.xml")}"\ninterval = "10m"\n'
                     f'[[feeds]]\nname = "broken"\nurl = "{server.url("/gone.xml")}"\n'
                     '[[feeds]]\nname = "tag"\ntype = "mastodon"\nhashtag = "quake"\n')
    code, out, _ = run_cli("feeds", "list", "--config", str(config))
    assert code == 0 and out.count("not polled yet") == 3
    server.routes["/api/v1/timelines/tag/quake"] = Reply(200, b"[]", {"Content-Type": "application/json"})
    config.write_text(config.read_text() + f'base_url = "{server.base}"\n')
    assert run_cli("run", "--once", "--config", str(config))[0] == 0
    code, out, _ = run_cli("feeds", "list", "--config", str(config))
    rows = [line.split() for line in out.splitlines()]
    assert rows[0][:5] == ["ok", "rss", server.url("/ok.xml"), "10m", "ok"]
    assert rows[1][:5] == ["broken", "rss", server.url("/gone.xml"), "5m", "failing:"] and "404" in out
    assert rows[2][:5] == ["tag", "mastodon", "hashtag", "quake", "5m"]
    code, out, _ = run_cli("feeds", "list", "--json", "--config", str(config))
    listed = json.loads(out)
    assert [(f["name"], f["type"], f["where"], f["interval"], f["health"]) for f in listed] == [
        ("ok", "rss", server.url("/ok.xml"), 600.0, "ok"),
        ("broken", "rss", server.url("/gone.xml"), 300.0, "failing"),
        ("tag", "mastodon", "hashtag quake", 300.0, "ok"),
    ]


def test_feed_links_is_pure_and_reads_only_alternate_feed_links() -> None:
    page = (b'<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">'
            b'<link rel="Alternate" type="application/feed+json; charset=utf-8" href="//cdn.example/f.json">'
            b'<link rel="alternate" type="application/rss+xml" href="https://a.example/x" title="\x1b[31mred">')
    links = feed_links(page, "https://site.example/page")
    assert [(link.url, link.title) for link in links] == [("https://cdn.example/f.json", ""),
                                                          ("https://a.example/x", "red")]
