"""The write side: each function runs inside the caller's transaction."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, Dialect, Integer, Table, bindparam, update
from sqlalchemy.dialects import sqlite

from storage import tables as t
from storage.errors import StorageError
from storage.types import Batch, FeedState, LearnedTerm, NewAlert, NewPost, Story, StreamStatus

Key = tuple[str, str]
CHUNK = 500  # bound parameters per IN (...): well under SQLite's and PostgreSQL's limits


def _insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which has on_conflict_do_nothing / on_conflict_do_update."""
    return _dialect_insert(conn.dialect.name, table)


def _dialect_insert(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # loaded only where used: ~35 ms of a SQLite start

        return postgresql.insert(table)
    return sqlite.insert(table)


def _upsert(conn: Connection, table: Table, key: str, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    stmt = _insert(conn, table)
    columns = [c for c in rows[0] if c != key]
    stmt = stmt.on_conflict_do_update(index_elements=[key], set_={c: stmt.excluded[c] for c in columns})
    conn.execute(stmt, list(rows))


def _insert_returning_pks(conn: Connection, items: Iterable[NewPost], seen: datetime) -> dict[Key, int]:
    """Insert-or-ignore posts; the keys and primary keys of those actually inserted."""
    rows = [_post_values(item, seen) for item in items]
    if conn.dialect.name == "sqlite":
        return _insert_posts_sqlite(conn, rows)
    p = t.posts.c
    stmt = _insert(conn, t.posts).on_conflict_do_nothing().returning(p.pk, p.source, p.post_id)
    found = conn.execute(stmt, [dict(zip(POST_COLUMNS, row, strict=True)) for row in rows])
    return {(source, post_id): pk for pk, source, post_id in found}


def _insert_posts_sqlite(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> dict[Key, int]:
    """SQLite: one prepared insert-or-ignore stepped over every row. The rows it inserted are those
    past the largest primary key before it: posts.pk is the rowid, and this transaction is the only
    writer. Those rows go into the search index here, in one statement of this transaction (migration
    0011: a trigger per row cost ten times as much), so a post is never stored unindexed.

    When every row went in (a poll's posts are new but for the re-sent ones known() left out), their
    keys are not read back: SQLite gave each row in turn the largest rowid so far plus one, so the
    n-th row is `before` + n. Reading them back cost 17 M instructions of bench/poll.py's cold pass."""
    before = conn.exec_driver_sql("SELECT coalesce(max(pk), 0) FROM posts").scalar_one()
    inserted = _execute_plain(conn, t.posts, POST_COLUMNS, "ON CONFLICT DO NOTHING", rows)
    conn.exec_driver_sql(INDEX_NEW_POSTS, (before,))
    if inserted == len(rows):
        return {(row[0], row[1]): pk for pk, row in enumerate(rows, before + 1)}
    found = conn.exec_driver_sql("SELECT pk, source, post_id FROM posts WHERE pk > ?", (before,))
    return {(source, post_id): pk for pk, source, post_id in found}


INDEX_NEW_POSTS = (f"INSERT INTO {t.FTS_TABLE}(rowid, text, title, author) "
                   "SELECT pk, text, title, author FROM posts WHERE pk > ?")
"""SQLite: the search index entries of the posts past a primary key (storage/text_search.py)."""
POST_COLUMNS = ("source", "post_id", "author", "url", "title", "text", "published", "seen", "kind", "lang",
                "claimed_published")
"""The columns _post_values gives, in this order."""
MATCH_COLUMNS = ("post_pk", "topic", "terms", "score", "story")
STORY_COLUMNS = ("id", "topic", "label", "size", "first_seen", "last_seen", "live", "sources", "authors", "arrivals")
"""The columns story_values gives, in this order."""
Processor = Callable[[Any], Any]


def _execute_plain(
    conn: Connection, table: Table, columns: tuple[str, ...], conflict: str, rows: Sequence[tuple[Any, ...]]
) -> int:
    """SQLite: `rows` (values of `columns`, in order) by one prepared statement stepped over them all
    (executemany), each value through its column's bind processor; how many rows it changed.
    SQLAlchemy's own executemany binds each row's dict in Python: a third of a post's write, a tenth
    of a batch's."""
    if not rows:
        return 0
    sql, processors = _plain_insert(conn.dialect, table, columns, conflict)
    return conn.exec_driver_sql(sql, _bound(rows, processors) if processors else list(rows)).rowcount


def _bound(rows: Sequence[tuple[Any, ...]], processors: tuple[tuple[int, Processor], ...]) -> list[tuple[Any, ...]]:
    """`rows` with each processed column's values through its processor, column by column (zip and
    map run in C; a value repeated down a column, as a batch's arrival time, is processed once: equal
    values bind alike in these columns, times in UTC, floats and booleans)."""
    values = list(zip(*rows, strict=True))
    for i, proc in processors:
        column = values[i]
        bound = {value: proc(value) for value in set(column)}
        values[i] = tuple(map(bound.__getitem__, column))
    return list(zip(*values, strict=True))


@functools.cache
def _plain_insert(
    dialect: Dialect, table: Table, columns: tuple[str, ...], conflict: str
) -> tuple[str, tuple[tuple[int, Processor], ...]]:
    """The INSERT of `columns` into `table` with `conflict` after it, and the bind processor of each
    column that has one, by position (the dialect's own, so values are stored as SQLAlchemy stores them:
    on SQLite, only the times)."""
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks}) {conflict}"
    processors = ((i, _bind_processor(table.c[c].type, dialect)) for i, c in enumerate(columns))
    return sql, tuple((i, proc) for i, proc in processors if proc is not None)


def _bind_processor(column_type: Any, dialect: Dialect) -> Processor | None:
    """The type's bind processor on `dialect`; for a UTC time on SQLite, _sqlite_utc_text where it
    writes the same text for every probe (SQLAlchemy's chain, UTCDateTime's conversion then the
    dialect's DATETIME formatting with %, cost 2.6 us a post's time, this 1.5)."""
    proc: Processor | None = column_type.dialect_impl(dialect).bind_processor(dialect)
    if proc is None or dialect.name != "sqlite" or not isinstance(column_type, t.UTCDateTime):
        return proc
    return _sqlite_utc_text if all(proc(v) == _sqlite_utc_text(v) for v in _TIME_PROBES) else proc


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """A time as UTCDateTime stores it on SQLite: naive UTC, "YYYY-MM-DD HH:MM:SS.ffffff"."""
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.replace(tzinfo=None).isoformat(" ", "microseconds")


_TIME_PROBES = (None, datetime(1, 1, 1), datetime(999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
                datetime(2014, 3, 10, 16, 52, 50, 698_000, tzinfo=UTC), datetime(2024, 2, 29, 5, 6, 7),
                datetime(2030, 1, 1, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=-5, minutes=-30))))


@functools.lru_cache(maxsize=4096)
def _terms_json(terms: tuple[str, ...]) -> str:
    """A match's terms as stored: posts of a topic share a few sets of terms, each encoded once."""
    return json.dumps([without_nul(term) for term in terms], ensure_ascii=False)


def _insert_ignore(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        # executemany: one prepared statement (SQLite), one pipeline (psycopg).
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), list(rows))


def pks_of(conn: Connection, keys: Iterable[Key]) -> dict[Key, int]:
    """Primary keys of the stored posts among `keys`: one query per chunk, however many sources the
    keys come from. The keys are a VALUES list joined to posts, so each is one probe of the unique
    (source, post_id) index (SQLite plans `(source, post_id) IN (VALUES ...)` as a scan of every
    post, which made each poll slower as the store grew)."""
    wanted = _stored_keys(keys)
    found: dict[Key, int] = {}
    for start in range(0, len(wanted), CHUNK // 2):  # two bound parameters per key
        chunk = wanted[start : start + CHUNK // 2]
        sql = _pks_sql(conn.dialect.paramstyle, len(chunk))
        rows = conn.exec_driver_sql(sql, tuple(itertools.chain.from_iterable(chunk)))
        found.update({(source, post_id): pk for pk, source, post_id in rows})
    return found


def _stored_keys(keys: Iterable[Key]) -> list[Key]:
    """`keys` as stored (ids without NUL), each once, in the order given. Not sorted: sorting tuples
    of strings cost a third of known() (35 M instructions of 110 M for a cold poll's 10k keys), and
    the order of the probes changes nothing. Ids holding no NUL, all but a hostile feed's, are told
    by one scan in C instead of a call per id."""
    given = list(dict.fromkeys(keys))
    if "\x00" not in "".join(map(operator.itemgetter(1), given)):
        return given
    return list(dict.fromkeys((source, without_nul(post_id)) for source, post_id in given))


@functools.cache
def _pks_sql(paramstyle: str, keys: int) -> str:
    """The pks_of query for `keys` keys, written once: SQLAlchemy's values() construct is compiled
    anew on every call (30 ms of CPU for 250 keys), the database's own work is under 1 ms."""
    mark = "?" if paramstyle == "qmark" else "%s"
    rows = ", ".join([f"({mark}, {mark})"] * keys)
    return (f"WITH k(s, i) AS (VALUES {rows}) SELECT posts.pk, posts.source, posts.post_id "
            "FROM k JOIN posts ON posts.source = k.s AND posts.post_id = k.i")


def _upsert_rows(
    conn: Connection, table: Table, key: str, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """New rows inserted, known ones' other columns replaced (as on_conflict_do_update renders it);
    on SQLite by _execute_plain."""
    if conn.dialect.name != "sqlite":
        _upsert(conn, table, key, [dict(zip(columns, row, strict=True)) for row in rows])
        return
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    _execute_plain(conn, table, columns, f"ON CONFLICT ({key}) DO UPDATE SET {updates}", rows)


def heartbeat(conn: Connection, row: Mapping[str, Any]) -> None:
    """The one daemon row: who holds the writer lock and when it last said it was alive."""
    _upsert(conn, t.daemon, "id", [{**row, "stopped": False}])


def save_streams(conn: Connection, statuses: Sequence[StreamStatus]) -> None:
    """Each stream's row replaced by what the daemon says of it now (no revision bump: nothing a
    dashboard draws changed)."""
    _upsert(conn, t.streams, "name", [dataclasses.asdict(s) for s in statuses])


def stopped(conn: Connection) -> None:
    """The writer is exiting: readers stop calling it alive at once."""
    conn.execute(update(t.daemon).values(stopped=True))


# The statements every batch runs, built once with their parameters bound by name: building one per
# call (values given as literals) cost SQLAlchemy ~50 us of coercion and cache-key work each, 4 to 5
# times a batch; executing a built one ~13 us.
_BUMP_REVISION = update(t.meta).values(
    revision=t.meta.c.revision + 1, last_write=bindparam("now", type_=t.meta.c.last_write.type))
_COUNT_POSTS = update(t.meta).values(posts=t.meta.c.posts + bindparam("new", type_=t.meta.c.posts.type))
_GONE, _INTO = bindparam("b_gone", type_=Integer), bindparam("b_into", type_=Integer)
_MERGES = (
    update(t.matches).where(t.matches.c.story == _GONE).values(story=_INTO),
    update(t.stories).where(t.stories.c.id == _GONE).values(merged_into=_INTO, live=False),
    # Stories merged into `gone` earlier now point at the survivor, so chains never dangle.
    update(t.stories).where(t.stories.c.merged_into == _GONE).values(merged_into=_INTO),
)


def bump_revision(conn: Connection, now: datetime) -> None:
    conn.execute(_BUMP_REVISION, {"now": now})


def minute_of(when: datetime) -> int:
    """The post_minutes key of a time: whole minutes since the Unix epoch (naive means UTC)."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return int(aware.timestamp() // 60)


def count_new_posts(conn: Connection, new: int, seen: datetime) -> None:
    """Keep meta.posts and post_minutes equal to what count(*) over posts would say."""
    if new <= 0:
        return
    conn.execute(_COUNT_POSTS, {"new": new})
    conn.execute(_count_minute(conn.dialect.name), {"minute": minute_of(seen), "posts": new})


@functools.cache
def _count_minute(dialect: str) -> Any:
    """The post_minutes upsert adding a minute's new posts, built once per dialect."""
    stmt = _dialect_insert(dialect, t.post_minutes)
    added = t.post_minutes.c.posts + stmt.excluded.posts
    return stmt.on_conflict_do_update(index_elements=["minute"], set_={"posts": added})


def sync_feeds(conn: Connection, names: Sequence[str], now: datetime) -> None:
    _insert_ignore(conn, t.feeds, [{"name": name, "next_check": now} for name in names])


def retry_feed(conn: Connection, name: str, now: datetime) -> None:
    """Due at `now` with no backoff: errors forgotten, any Retry-After dropped (it ran out or was wrong)."""
    stmt = update(t.feeds).where(t.feeds.c.name == name).values(next_check=now, error_count=0, retry_after=None)
    conn.execute(stmt)
    bump_revision(conn, now)


FEED_COLUMNS = ("name", "etag", "last_modified", "body_hash", "cursor", "next_check", "last_poll", "last_status",
                "last_error", "error_count", "retry_after", "posts_seen", "posts_matched")
"""The columns feed_values gives, in this order."""
_JSON_TEXT = json.JSONEncoder(ensure_ascii=False)
_JSON_SORTED_TEXT = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
"""json.dumps with any option builds an encoder per call: a fifth of a story's row."""


def feed_values(state: FeedState) -> tuple[Any, ...]:
    """A feed's row, in FEED_COLUMNS order."""
    return (state.name, state.etag, state.last_modified, state.body_hash, _JSON_SORTED_TEXT.encode(dict(state.cursor)),
            state.next_check, state.last_poll, state.last_status, state.last_error, state.error_count,
            state.retry_after, state.posts_seen, state.posts_matched)


def feed_row(state: FeedState) -> dict[str, Any]:
    return dict(zip(FEED_COLUMNS, feed_values(state), strict=True))


def story_values(story: Story) -> tuple[Any, ...]:
    """A story's row, in STORY_COLUMNS order (JSON writes tuples as lists)."""
    return (story.id, story.topic, without_nul(story.label), story.size, story.first_seen, story.last_seen,
            story.live, _JSON_TEXT.encode(story.sources), story.authors, json.dumps(story.arrivals))


def without_nul(value: str) -> str:
    """Text from the internet may hold NUL, which PostgreSQL refuses in text columns."""
    return value.replace("\x00", "") if "\x00" in value else value


def _post_values(item: NewPost, seen: datetime) -> tuple[Any, ...]:
    """A post's row, in POST_COLUMNS order."""
    post = item.post
    return (post.source, without_nul(post.id), without_nul(post.author), without_nul(post.url),
            without_nul(post.title), without_nul(post.text), post.published, seen, post.kind, post.lang,
            post.claimed_published)


def key_of(item: NewPost) -> Key:
    return (item.post.source, without_nul(item.post.id))


def _dup_key(item: NewPost) -> Key | None:
    return (item.duplicate_of[0], without_nul(item.duplicate_of[1])) if item.duplicate_of else None


def _unique_posts(items: Sequence[NewPost]) -> dict[Key, NewPost]:
    """The first NewPost for each (source, id), by its key: a feed repeating an item must not fail
    the batch."""
    firsts: dict[Key, NewPost] = {}
    for item in items:
        firsts.setdefault(key_of(item), item)
    return firsts


def _topic_names(batch: Batch) -> list[dict[str, Any]]:
    names = {m.topic for item in batch.posts for m in item.matches} | {s.topic for s in batch.stories}
    names |= set(batch.learned or {})
    return [{"name": name} for name in sorted(names)]


def replace_learned(conn: Connection, learned: Mapping[str, Sequence[LearnedTerm]]) -> None:
    """Each topic's learned terms become exactly `learned[topic]`."""
    for topic, terms in learned.items():
        conn.execute(t.learned_terms.delete().where(t.learned_terms.c.topic == topic))
        rows = [{"topic": topic, "term": without_nul(x.term), "weight": x.weight, "posts": x.posts,
                 "since": x.since, "seen": x.seen} for x in terms]
        if rows:
            conn.execute(t.learned_terms.insert(), rows)


def write_posts(conn: Connection, items: Sequence[NewPost], seen: datetime) -> int:
    """Insert-or-ignore the posts and their matches; returns how many posts were new."""
    unique = _unique_posts(items)
    if not unique:
        return 0
    inserted = _insert_returning_pks(conn, unique.values(), seen)
    fresh = {key: item for key, item in unique.items() if key in inserted}
    # Usually every post is new and no lookup is left: only re-sent posts and folded originals.
    dups = [d for d in map(_dup_key, fresh.values()) if d and d not in inserted]
    wanted = [key for key in unique if key not in inserted] + dups
    pks = inserted | pks_of(conn, wanted) if wanted else inserted
    _link_duplicates(conn, fresh, pks)
    matches = [
        (pks[key], match.topic, _terms_json(match.terms), match.score, item.stories.get(match.topic))
        for key, item in unique.items()
        for match in item.matches
    ]
    if conn.dialect.name == "sqlite":
        _execute_plain(conn, t.matches, MATCH_COLUMNS, "ON CONFLICT DO NOTHING", matches)
    else:
        _insert_ignore(conn, t.matches, [dict(zip(MATCH_COLUMNS, row, strict=True)) for row in matches])
    return len(fresh)


def _link_duplicates(conn: Connection, fresh: Mapping[Key, NewPost], pks: Mapping[Key, int]) -> None:
    links = []
    for key, item in fresh.items():
        dup = _dup_key(item)
        # An original this store never kept (or the post itself) leaves the link empty.
        if dup is not None and dup != key and dup in pks:
            links.append({"b_pk": pks[key], "b_dup": pks[dup]})
    if links:
        stmt = update(t.posts).where(t.posts.c.pk == bindparam("b_pk"))
        conn.execute(stmt.values(duplicate_of=bindparam("b_dup")), links)


def apply_merges(conn: Connection, merged: Mapping[int, int]) -> None:
    """Move each merged-away story's matches to the story it joined, and retire it.

    Each statement runs over every pair (executemany), in the pairs' order: a chain merged within the
    batch (A into B, then B into C) ends as the pairs one by one would leave it, all of it in C."""
    pairs = [{"b_gone": gone, "b_into": into} for gone, into in merged.items() if gone != into]
    if not pairs:
        return
    for statement in _MERGES:
        conn.execute(statement, pairs)


def write_batch(conn: Connection, batch: Batch, now: datetime) -> int:
    _insert_ignore(conn, t.topics, _topic_names(batch))
    if batch.stories:
        _upsert_rows(conn, t.stories, "id", STORY_COLUMNS, [story_values(s) for s in batch.stories])
    new = write_posts(conn, batch.posts, now)
    count_new_posts(conn, new, now)
    feeds = [*([batch.feed] if batch.feed is not None else []), *batch.feeds]
    _upsert_rows(conn, t.feeds, "name", FEED_COLUMNS, [feed_values(feed) for feed in feeds])
    apply_merges(conn, batch.merged)
    if batch.learned is not None:
        replace_learned(conn, batch.learned)
    add_alerts(conn, batch.alerts, now)
    if batch.inbox_done:
        take_from_inbox(conn, batch.inbox_done)
    bump_revision(conn, now)
    return new


class InboxTaken(StorageError):
    """Inbox rows this batch stores were gone: another worker folded them (it took the story lock)."""


def take_from_inbox(conn: Connection, seqs: Sequence[int]) -> None:
    """Delete the inbox rows whose posts the batch stores, or fail the whole batch when any is gone:
    a post is folded into the stories exactly once, even by a worker that lost the story lock unseen."""
    gone = 0
    for start in range(0, len(seqs), CHUNK):
        chunk = list(seqs[start : start + CHUNK])
        gone += conn.execute(t.inbox.delete().where(t.inbox.c.seq.in_(chunk))).rowcount
    if gone != len(set(seqs)):
        raise InboxTaken(f"{len(set(seqs)) - gone} of {len(set(seqs))} inbox rows were folded by another worker")


# -- the alerts outbox -------------------------------------------------------------------------------


def add_alerts(conn: Connection, alerts: Sequence[NewAlert], now: datetime) -> list[int]:
    """Insert-or-ignore pending alerts, due now; the ids of those actually inserted (a (rule, event,
    subject) already in the outbox is ignored: one alert per rule, story and event, ever)."""
    if not alerts:
        return []
    rows = [
        {"rule": a.rule, "event": a.event, "subject": without_nul(a.subject), "topic": a.topic, "story": a.story,
         "payload": without_nul(a.payload), "created": now, "state": "pending", "attempts": 0, "next_attempt": now}
        for a in alerts
    ]
    stmt = _insert(conn, t.alerts).on_conflict_do_nothing().returning(t.alerts.c.id)
    return [row.id for row in conn.execute(stmt, rows)]


def hold_alerts(conn: Connection, ids: Sequence[int], digest_at: datetime) -> None:
    """Past the hourly budget: these wait for a digest, due at `digest_at`."""
    a = t.alerts.c
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        conn.execute(update(t.alerts).where(a.id.in_(chunk)).values(state="held", next_attempt=digest_at))


def fold_into_digest(conn: Connection, held: Sequence[int], digest: NewAlert, now: datetime) -> int | None:
    """One pending digest alert standing for the `held` ones, which now point at it."""
    ids = add_alerts(conn, [digest], now)
    if not ids:
        return None
    a = t.alerts.c
    for start in range(0, len(held), CHUNK):
        chunk = list(held[start : start + CHUNK])
        conn.execute(update(t.alerts).where(a.id.in_(chunk)).values(state="digested", digest=ids[0], next_attempt=None))
    return ids[0]


def alert_sent(conn: Connection, alert_id: int, answer: str, now: datetime) -> None:
    a = t.alerts.c
    conn.execute(update(t.alerts).where(a.id == alert_id).values(
        state="sent", sent=now, answer=answer, attempts=a.attempts + 1, next_attempt=None))


def alert_failed(conn: Connection, alert_id: int, answer: str, retry_at: datetime) -> None:
    a = t.alerts.c
    conn.execute(update(t.alerts).where(a.id == alert_id).values(
        answer=answer, attempts=a.attempts + 1, next_attempt=retry_at))
