"""OPML: a feed reader's list comes in (the real corpus, nested categories, hostile files), ours goes out
valid for any reader and comes back as the same feeds."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from lxml import etree

from monitor import opml
from monitor.config import load
from tests.support.cli import monitor
from tests.support.inprocess import run_cli

TOPICS = '[[topics]]\nname = "quake"\nkeywords = ["earthquake"]\n'
OUTLINE_WITH_XMLURL = re.compile(rb"<outline\b[^>]*\sxmlUrl\s*=\s*([\"'])(.*?)\1", re.DOTALL)


def _opml_files(shared: Path) -> list[Path]:
    corpus = shared / "data" / "feeds" / "corpus"
    return sorted(p for p in corpus.rglob("*") if p.is_file() and b"<opml" in p.read_bytes()[:4096].lower())


def test_every_opml_file_of_the_corpus_imports_its_feeds_and_nothing_crashes(shared: Path, tmp_path: Path) -> None:
    """Each file: exit 0 (or exit 2 in one line for a file that is not OPML); every outline with an
    xmlUrl is either added or reported as skipped; feeds.toml holds one feed per distinct URL."""
    files = _opml_files(shared)
    assert len(files) >= 30
    with_feeds = 0
    for n, file in enumerate(files):
        config = tmp_path / f"feeds{n}.toml"
        config.write_text(TOPICS)
        code, out, err = run_cli("feeds", "import", str(file), "--config", str(config))
        urls = [m.group(2).strip() for m in OUTLINE_WITH_XMLURL.finditer(file.read_bytes())]
        if code == 2:  # twittergram.xml mentions <opml> but is RSS
            assert urls == [] and err.count("\n") == 1 and "not an OPML file" in err, (file, err)
            continue
        assert code == 0 and err == "", (file, err)
        added, skipped = (int(x) for x in re.search(r"(\d+) feeds? added .*?, (\d+) skipped", out).groups())
        assert added + skipped == len(urls), (file, out)
        assert len(load(config).feeds) == added == len(set(urls)), (file, out)
        with_feeds += bool(urls)
    assert with_feeds >= 5


def test_a_readers_export_nested_in_categories_keeps_titles_as_names(tmp_path: Path) -> None:
    """Outlines at any depth are feeds; titles become names (made unique), duplicates and non-http
    URLs are skipped with their reason, and an unescaped & does not stop the import."""
    (tmp_path / "reader.opml").write_text("""<?xml version="1.0" encoding="ISO-8859-1"?>
<opml version="1.0"><head><title>my reader</title></head><body>
  <outline text="News">
    <outline text="World" title="World news" type="rss" xmlUrl="https://news.example/world.xml"/>
    <outline text="Deeper">
      <outline text="Science &amp; Café" type="rss" xmlUrl="https://science.example/rss"/>
    </outline>
  </outline>
  <outline text="World news" type="rss" xmlUrl="https://other.example/world.xml"/>
  <outline text="Again" type="rss" xmlUrl="HTTPS://NEWS.EXAMPLE/world.xml"/>
  <outline text="Relative" type="rss" xmlUrl="/feed.xml"/>
  <outline text="Tom & Jerry" type="rss" xmlUrl="https://toons.example/feed"/>
  <outline text="" type="rss" xmlUrl="https://untitled.example/feed.rss"/>
</body></opml>""", encoding="iso-8859-1")
    config = tmp_path / "feeds.toml"
    config.write_text(TOPICS)
    code, out, _ = run_cli("feeds", "import", str(tmp_path / "reader.opml"), "--config", str(config))
    assert code == 0
    feeds = {f.name: f.url for f in load(config).feeds}
    assert feeds == {
        "World news": "https://news.example/world.xml",
        "Science & Café": "https://science.example/rss",
        "World news (2)": "https://other.example/world.xml",
        "Tom Jerry": "https://toons.example/feed",  # the stray & is dropped by the XML recovery
        "untitled.example": "https://untitled.example/feed.rss",
    }
    assert 'skipped  "Again": already there as "World news"' in out
    assert 'skipped  "Relative": key "url": "/feed.xml" is not an http(s) URL' in out
    assert "5 feeds added" in out and "2 skipped" in out


def test_export_then_import_gives_the_same_feeds_of_every_kind(tmp_path: Path) -> None:
    source = tmp_path / "feeds.toml"
    source.write_text(TOPICS + """
[[feeds]]
name = "desk"
type = "rss"
url = "https://desk.example/feed.xml?a=1&b=2"
interval = "10m"

[[feeds]]
name = "news search"
type = "rss"
topic = "quake"
search_url = "https://search.example/rss?q={query}"

[[feeds]]
name = "tag"
type = "mastodon"
hashtag = "earthquake"
base_url = "https://masto.example"

[[feeds]]
name = "someone"
type = "mastodon"
account = "@someone@masto.example"

[[feeds]]
name = "masto search"
type = "mastodon"
topic = "quake"
token_env = "MASTO_TOKEN"

[[feeds]]
name = "sky"
type = "bluesky"
actor = "someone.bsky.social"
interval = "1h30m"

[[feeds]]
name = "r/earthquakes"
type = "reddit"
subreddit = "earthquakes"

[[feeds]]
name = "hn"
type = "hackernews"
topic = "quake"

[[feeds]]
name = "x"
type = "x"
topic = "quake"
token_env = "X_BEARER_TOKEN"
""")
    code, exported, _ = run_cli("export", "--format", "opml", "--config", str(source), binary=True)
    assert code == 0
    (tmp_path / "out.opml").write_bytes(exported)
    target = tmp_path / "other.toml"
    target.write_text(TOPICS)
    code, out, _ = run_cli("feeds", "import", str(tmp_path / "out.opml"), "--config", str(target))
    assert code == 0 and "9 feeds added" in out
    assert load(target).feeds == load(source).feeds
    # Imported again: every one is already there.
    code, out, _ = run_cli("feeds", "import", str(tmp_path / "out.opml"), "--config", str(target))
    assert "0 feeds added" in out and "9 skipped" in out


def test_the_export_is_opml_2_any_reader_subscribes_to(tmp_path: Path) -> None:
    """OPML 2.0: a head with title and dateCreated, each outline with text; an xmlUrl of type rss where
    the feed has a plain RSS equivalent (an account, a hashtag, a subreddit), none for a search."""
    config = tmp_path / "feeds.toml"
    config.write_text(TOPICS + '[[feeds]]\nname = "a"\nurl = "https://a.example/rss"\n'
                      '[[feeds]]\nname = "m"\ntype = "mastodon"\naccount = "@ann@masto.example"\n'
                      '[[feeds]]\nname = "r"\ntype = "reddit"\nsubreddit = "earthquakes"\n'
                      '[[feeds]]\nname = "h"\ntype = "hackernews"\ntopic = "quake"\n')
    out = monitor("export", "--format", "opml", "--config", str(config), cwd=tmp_path, text=False)
    assert out.returncode == 0
    root = etree.fromstring(out.stdout)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") and root.findtext("head/dateCreated")
    outlines = root.findall("body/outline")
    assert all(o.get("text") for o in outlines)
    assert {o.get("text"): o.get("xmlUrl") for o in outlines} == {
        "a": "https://a.example/rss",
        "m": "https://masto.example/@ann.rss",
        "r": "https://www.reddit.com/r/earthquakes/new/.rss",
        "h": None,
    }
    assert all(o.get("type") == "rss" for o in outlines if o.get("xmlUrl"))


def test_hostile_opml_expands_no_entities_and_reaches_the_terminal_as_text(tmp_path: Path) -> None:
    """A billion laughs in a title parses in no time into nothing; an external entity is not read;
    escape sequences in a title never reach feeds.toml or the terminal."""
    laughs = "".join(f'<!ENTITY l{i + 1} "{f"&l{i};" * 10}">' for i in range(9))
    (tmp_path / "evil.opml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY l0 "lol">{laughs}'
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<opml version="2.0"><body><outline text="laugh &l9; &xxe;" xmlUrl="https://a.example/rss"/>'
        '<outline text="\x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07link" xmlUrl="https://b.example/rss"/>'
        "</body></opml>")
    config = tmp_path / "feeds.toml"
    config.write_text(TOPICS)
    started = time.monotonic()
    code, out, _ = run_cli("feeds", "import", str(tmp_path / "evil.opml"), "--config", str(config))
    assert code == 0 and time.monotonic() - started < 5
    names = [f.name for f in load(config).feeds]
    assert "lol" not in " ".join(names) and "root:" not in " ".join(names)
    assert not any("\x1b" in n or "\x07" in n for n in names) and "\x1b" not in out


def test_a_file_that_is_not_opml_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text(TOPICS)
    (tmp_path / "page.html").write_text("<html><body>hello</body></html>")
    for file in ("page.html", "missing.opml"):
        out = monitor("feeds", "import", file, "--config", str(config), cwd=tmp_path)
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert config.read_text() == TOPICS


@pytest.mark.parametrize("data", [b"", b"\x00\xff\xfe", b"<html><body/></html>", b"<?xml version='1.0'?><rss/>"])
def test_read_refuses_what_is_not_opml(data: bytes) -> None:
    with pytest.raises(opml.OpmlError, match="not an OPML file"):
        opml.read(data)
