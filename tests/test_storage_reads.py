"""The dashboard's reads on a big store (migration 0002): kept counts, indexed search, one-query
sparklines, index-walked story ranking. SQLite file, and PostgreSQL where configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine, event, insert, text

from storage import migrate
from storage import tables as t
from storage.engine import normalize_url
from storage.store import Store, open_store
from storage.types import Batch, Match, NewPost, Post, Story

T0 = datetime(2025, 3, 1, 12, 0, 30, tzinfo=UTC)  # half a minute past: the hour's cut falls inside a minute


def post(pid: str, minutes: float = 0, *, text: str = "ceasefire talks", author: str = "Reporter", title: str = "",
         source: str = "rss-a") -> Post:
    return Post(pid, source, author, f"https://example.org/{pid}", text, T0 + timedelta(minutes=minutes), title)


def new(p: Post, story: int | None = None, topic: str = "gaza", dup: tuple[str, str] | None = None) -> NewPost:
    return NewPost(p, (Match(topic, ("ceasefire",)),), {topic: story} if story is not None else {}, dup)


def story(sid: int, size: int = 1, minutes: int = 0) -> Story:
    seen = T0 + timedelta(minutes=minutes)
    return Story(sid, "gaza", f"story {sid}", size, seen, seen, True, ("rss-a",), 1)


def ids(store: Store, **filters: Any) -> list[str]:
    return [sp.post.id for sp in store.posts(**filters)]


def test_stats_count_the_hour_exactly_across_minute_edges(store: Store) -> None:
    cut = T0 - timedelta(hours=1)
    arrivals = {
        "before the hour, same minute as the cut": cut - timedelta(seconds=1),
        "just inside, same minute as the cut": cut + timedelta(seconds=1),
        "on the cut": cut,
        "ten minutes ago": T0 - timedelta(minutes=10),
        "two hours ago": T0 - timedelta(hours=2),
        "in the future (a skewed clock)": T0 + timedelta(minutes=5),
    }
    for n, seen in enumerate(arrivals.values()):
        store.write(Batch(posts=[new(post(str(n)))]), seen)
    store.write(Batch(posts=[new(post("0"))]), T0)  # a re-poll: nothing new, nothing counted twice
    stats = store.stats(T0)
    in_hour = sum(1 for seen in arrivals.values() if seen >= cut)
    assert (stats.posts_total, stats.posts_last_hour) == (len(arrivals), in_hour) == (6, 4)
    assert store.stats(T0 + timedelta(hours=3)).posts_last_hour == 0


def test_search_is_a_case_insensitive_substring_of_text_title_or_author(store: Store) -> None:
    store.write(Batch(posts=[
        new(post("1", 0, text="Ceasefire talks resume in CAIRO")),
        new(post("2", 1, text="Rafah crossing", title="Cairo update")),
        new(post("3", 2, text="nothing here", author="cairolive")),
        new(post("4", 3, text="Ceasefire in cairo", source="other"), topic="israel"),
        new(post("5", 4, text="ÉLAN vital, Überblick")),
    ]), T0)
    assert ids(store, text="aIr") == ["4", "3", "2", "1"]
    assert ids(store, text="cairo", topic="gaza") == ["3", "2", "1"]
    assert ids(store, text="cairo", topic="gaza", limit=2) == ["3", "2"]
    assert ids(store, text="cairo", source="other") == ["4"]
    assert ids(store, text="ai", topic="gaza") == ["3", "2", "1"]  # under three letters: no trigram, a scan
    assert ids(store, text="talks resume") == ["1"]
    assert ids(store, text="resume talks") == []  # a substring, not a bag of words
    assert ids(store, text="überblick") == ["5"]


def test_search_text_is_never_query_syntax(store: Store) -> None:
    store.write(Batch(posts=[new(post("1", text='say "hi" OR bye*')), new(post("2", text="hi there"))]), T0)
    for needle in ('"hi" OR', 'hi" OR bye', "bye*", "NEAR(hi", "-hi", "text:hi", "^hi", '""""'):
        expected = ["1"] if needle.lower() in 'say "hi" or bye*' else []
        assert ids(store, text=needle) == expected, needle


def test_search_finds_the_needle_itself_not_its_pieces_scattered(store: Store) -> None:
    # The SQLite index (0010) only knows which posts hold each three-letter piece: these posts hold
    # every piece of "harbour" (har arb rbo bou our), apart or split between text and author.
    store.write(Batch(posts=[
        new(post("apart", 0, text="har arbo rbou our")),
        new(post("split", 1, text="the harb", author="bour")),
        new(post("inside", 2, text="Reykjavik HARBOURMASTER speaks")),
        new(post("title", 3, text="x", title="Old harbour")),
        new(post("fold", 4, text="Ärzte in ÅRHUS")),
    ]), T0)
    assert ids(store, text="harbour") == ["title", "inside"]
    assert ids(store, text="arbou") == ["title", "inside"]
    assert ids(store, text="årh") == ["fold"]
    assert ids(store, text="ärzte in å") == ["fold"]
    assert ids(store, text="our our") == []


def test_a_common_needle_gives_the_same_newest_page_as_a_rare_one_would(store: Store) -> None:
    # Past text_search.COMMON candidates SQLite walks posts newest first instead of sorting them all.
    from storage.text_search import COMMON

    count = COMMON + 100
    store.write(Batch(posts=[
        new(post(f"h{n}", (n * 7919) % count, text=f"harbour report {n}", source=f"rss-{n % 2}"),
            topic="gaza" if n % 3 else "israel")
        for n in range(count)
    ] + [new(post(f"x{n}", n, text="nothing")) for n in range(50)]), T0)
    everything = ids(store, text="HARBOUR")
    assert len(everything) == count
    assert ids(store, text="harbour", limit=7) == everything[:7]
    in_gaza = ids(store, text="arbour rep", topic="gaza")
    assert ids(store, text="arbour rep", topic="gaza", limit=5) == in_gaza[:5]
    assert ids(store, text="harbour report 2", source="rss-0", limit=3) == ids(store, text="harbour report 2",
                                                                              source="rss-0")[:3]


def test_search_on_sqlite_asks_the_trigram_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with open_store(url) as store:
        store.write(Batch(posts=[new(post("1", text="harbour"))]), T0)
        statements: list[str] = []
        event.listen(store._engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        assert ids(store, text="harbour", topic="gaza", limit=5) == ["1"]
    assert any("posts_fts MATCH" in s for s in statements)


def test_known_posts_are_found_by_the_unique_index_not_a_scan(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with open_store(url) as store:
        store.write(Batch(posts=[new(post(str(n), source=f"rss-{n % 3}")) for n in range(30)]), T0)
        statements: list[tuple[str, Any]] = []
        event.listen(store._engine, "before_cursor_execute", lambda *a: statements.append((a[2], a[3])))
        asked = {(f"rss-{n % 3}", str(n)) for n in range(20, 40)} | {("rss-9", "1")}
        assert store.known(asked) == {(f"rss-{n % 3}", str(n)) for n in range(20, 30)}
        sql, params = next((s, p) for s, p in statements if "FROM k JOIN posts" in s)
        with store._engine.connect() as conn:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "SEARCH posts USING COVERING INDEX" in plan and "SCAN posts" not in plan


def test_a_merge_finds_the_stories_it_repoints_by_an_index_not_a_scan(tmp_path: Path) -> None:
    """issue 17: re-pointing the stories merged into the one that goes read every story, per merge."""
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with open_store(url) as store:
        store.write(Batch(stories=[story(i) for i in range(1, 6)], merged={1: 2}), T0)
        statements: list[str] = []
        event.listen(store._engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        store.write(Batch(merged={2: 3}), T0)
        chained = store.story(1)
        assert chained is not None and chained.merged_into == 3
        updates = [sql for sql in statements if sql.startswith("UPDATE stories")]
        with store._engine.connect() as conn:
            plans = [conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", (2,) * sql.count("?")).all() for sql in updates]
    assert len(plans) == 2 and not any("SCAN" in str(row[-1]) for plan in plans for row in plan)


def test_recent_published_gives_each_storys_newest_posts_in_one_query(store: Store) -> None:
    store.write(Batch(
        posts=[new(post(f"a{i}", i), story=1) for i in range(5)] + [new(post("b0", 30), story=2)],
        stories=[story(1, 5), story(2)],
    ), T0)
    copy = new(post("copy", 50, source="rss-b"), dup=("rss-a", "a0"))  # folded under a story-1 post
    store.write(Batch(posts=[copy]), T0)
    statements: list[str] = []
    event.listen(store._engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    found = store.recent_published([1, 2, 99], per_story=3)
    assert len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]) == 1
    assert found == {
        1: [T0 + timedelta(minutes=m) for m in (50, 4, 3)],
        2: [T0 + timedelta(minutes=30)],
        99: [],
    }
    assert [sp.post.published for sp in store.posts(story=1, limit=3)] == found[1]
    assert store.recent_published([]) == {}


def test_top_stories_are_an_index_walk_in_the_order_asked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with open_store(url) as store:
        store.write(Batch(stories=[story(i, minutes=i % 3) for i in range(1, 7)]), T0)
        assert [s.id for s in store.stories(topic="gaza", limit=4)] == [5, 2, 4, 1]
        query = "SELECT * FROM stories WHERE merged_into IS NULL AND topic = 'gaza' " \
                "ORDER BY last_seen DESC, id DESC LIMIT 50"
        with store._engine.connect() as conn:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}"))
    assert "ix_stories_topic_recent" in plan and "TEMP B-TREE" not in plan


def test_a_store_written_before_0002_is_counted_and_searchable_after_it(database_url: str) -> None:
    engine = create_engine(normalize_url(database_url))
    with engine.begin() as conn:
        config = migrate._config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(insert(t.topics), [{"name": "gaza"}])
        rows = [
            {"source": "rss", "post_id": str(n), "author": "a", "url": "", "title": "", "text": f"old post {n} Cairo",
             "published": T0, "seen": T0 - timedelta(minutes=n * 45), "kind": "", "lang": ""}
            for n in range(3)
        ]
        conn.execute(insert(t.posts), rows)
        conn.execute(text("INSERT INTO matches (post_pk, topic, terms, score) SELECT pk, 'gaza', '[]', 1 FROM posts"))
    engine.dispose()
    with open_store(database_url) as store:
        stats = store.stats(T0)
        assert (stats.posts_total, stats.posts_last_hour) == (3, 2)
        assert ids(store, text="cairo", topic="gaza") == ["2", "1", "0"]
        store.write(Batch(posts=[new(post("new", text="new in Cairo"))]), T0)
        assert store.stats(T0).posts_total == 4
        assert ids(store, text="new in cairo") == ["new"]
