"""How fast the store takes posts: Store.write (bulk executemany per poll) against the obvious
alternative, one INSERT statement per post and per match, in the same run on the same machine.

    .venv/bin/python bench/store_write.py [--posts 20000] [--batch 50] [--url postgresql://...]

With --url (PostgreSQL), the bench works in a scratch schema it drops afterwards.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, create_engine, select, text

from storage import tables as t
from storage.engine import normalize_url
from storage.store import Store, open_store
from storage.types import Batch, Match, NewPost, Post, Story
from storage.writes import INDEX_NEW_POSTS

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def batches(total: int, size: int, source: str) -> list[Batch]:
    out = []
    for start in range(0, total, size):
        posts = [
            NewPost(
                Post(
                    f"{source}-{i}",
                    source,
                    f"author{i % 97}",
                    f"https://example.org/{i}",
                    f"Ceasefire talks resume, report number {i} " * 4,
                    T0 + timedelta(seconds=i),
                ),
                (Match("gaza", ("ceasefire", "talks"), 0.9),),
                {"gaza": 1 + i // 200},
            )
            for i in range(start, min(start + size, total))
        ]
        stories = [Story(1 + start // 200, "gaza", "ceasefire talks", size, T0, T0)]
        out.append(Batch(posts=posts, stories=stories))
    return out


def per_row(conn: Connection, batch: Batch) -> None:
    """The obvious way: one statement per post, a lookup for its pk, one per match."""
    for item in batch.posts:
        p = item.post
        exists = conn.execute(
            select(t.posts.c.pk).where(t.posts.c.source == p.source, t.posts.c.post_id == p.id)
        ).first()
        if exists:
            continue
        inserted = conn.execute(
            t.posts.insert().values(
                source=p.source,
                post_id=p.id,
                author=p.author,
                url=p.url,
                title=p.title,
                text=p.text,
                published=p.published,
                seen=T0,
                kind="",
                lang="",
            )
        ).inserted_primary_key
        assert inserted is not None
        pk = inserted[0]
        if conn.dialect.name == "sqlite":  # the search index, as the store fills it (migration 0011)
            conn.exec_driver_sql(INDEX_NEW_POSTS, (pk - 1,))
        for m in item.matches:
            conn.execute(
                t.matches.insert().values(
                    post_pk=pk,
                    topic=m.topic,
                    terms=json.dumps(m.terms),
                    score=m.score,
                    story=item.stories.get(m.topic),
                )
            )


def run(url: str, total: int, size: int) -> None:
    with open_store(url) as store:
        store.write(Batch(stories=[Story(1, "gaza", "seed", 0, T0, T0)]), T0)  # creates the topic row
        work = batches(total, size, "bulk")
        started = time.perf_counter()
        for batch in work:
            store.write(batch, T0)
        bulk = time.perf_counter() - started

        work = batches(total, size, "rowwise")
        engine = store._engine  # the alternative needs raw statements
        started = time.perf_counter()
        for batch in work:
            with engine.begin() as conn:
                per_row(conn, batch)
        rowwise = time.perf_counter() - started

        started = time.perf_counter()
        for batch in batches(total, size, "bulk"):  # a re-poll of everything: all ignored
            store.write(batch, T0)
        repoll = time.perf_counter() - started
        report(store, total, size, bulk, rowwise, repoll)


def report(store: Store, total: int, size: int, bulk: float, rowwise: float, repoll: float) -> None:
    print(f"{store.shown}: {total} posts in batches of {size}")
    print(f"  Store.write (bulk)      {total / bulk:10,.0f} posts/s  ({bulk:.2f} s)")
    print(f"  per-row statements      {total / rowwise:10,.0f} posts/s  ({rowwise:.2f} s)")
    print(f"  re-poll, all known      {total / repoll:10,.0f} posts/s  ({repoll:.2f} s)")
    print(f"  bulk / per-row speed-up {rowwise / bulk:10.1f}x")


@contextmanager
def scratch_schema(url: str) -> Iterator[str]:
    """A throw-away PostgreSQL schema, so the bench never touches real tables."""
    parsed = normalize_url(url)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(parsed)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    if args.url:
        with scratch_schema(args.url) as url:
            run(url, args.posts, args.batch)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.posts, args.batch)


if __name__ == "__main__":
    main()
