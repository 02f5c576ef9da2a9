"""The read side: queries that turn rows into the frozen values of storage.types."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Select, and_, exists, func, or_, select, union

from storage import tables as t
from storage import text_search
from storage.types import (
    Alert,
    DaemonInfo,
    FeedState,
    LearnedTerm,
    Post,
    QueuedAlert,
    Stats,
    StoredPost,
    Story,
    StreamStatus,
)
from storage.writes import CHUNK

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class PostFilter:
    topic: str | None = None
    story: int | None = None
    limit: int | None = None
    text: str | None = None
    source: str | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class _MatchRow:
    topic: str
    terms: tuple[str, ...]
    score: float
    story: int | None


def _json_list(raw: str) -> tuple[str, ...]:
    value = json.loads(raw)
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def feed_state_of(row: Row[Any]) -> FeedState:
    """A feeds row as the daemon's FeedState."""
    return _feed_state(row)


def _feed_state(row: Row[Any]) -> FeedState:
    cursor = json.loads(row.cursor) if row.cursor else {}
    return FeedState(
        name=row.name,
        etag=row.etag,
        last_modified=row.last_modified,
        body_hash=row.body_hash,
        cursor={str(k): str(v) for k, v in cursor.items()} if isinstance(cursor, dict) else {},
        next_check=row.next_check,
        last_poll=row.last_poll,
        last_status=row.last_status,
        last_error=row.last_error,
        error_count=row.error_count,
        retry_after=row.retry_after,
        posts_seen=row.posts_seen,
        posts_matched=row.posts_matched,
    )


def _story(row: Row[Any]) -> Story:
    return Story(
        id=row.id,
        topic=row.topic,
        label=row.label,
        size=row.size,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        live=bool(row.live),
        sources=_json_list(row.sources),
        authors=row.authors,
        merged_into=row.merged_into,
        arrivals=_arrivals(row.arrivals),
    )


def _arrivals(raw: str) -> tuple[tuple[int, int], ...]:
    value = json.loads(raw)
    return tuple((int(m), int(n)) for m, n in value) if isinstance(value, list) else ()


def _post(row: Row[Any]) -> Post:
    return Post(
        id=row.post_id,
        source=row.source,
        author=row.author,
        url=row.url,
        text=row.text,
        published=row.published,
        title=row.title,
        kind=row.kind,
        lang=row.lang,
        claimed_published=row.claimed_published,
    )


def _chunks(pks: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(pks), CHUNK):
        yield pks[start : start + CHUNK]


def _matches_of(conn: Connection, pks: Sequence[int]) -> dict[int, list[_MatchRow]]:
    found: dict[int, list[_MatchRow]] = {}
    m = t.matches.c
    for chunk in _chunks(pks):
        query = select(m.post_pk, m.topic, m.terms, m.score, m.story).where(m.post_pk.in_(chunk))
        for row in conn.execute(query.order_by(m.post_pk, m.topic)):
            found.setdefault(row.post_pk, []).append(
                _MatchRow(row.topic, _json_list(row.terms), row.score, row.story)
            )
    return found


def _keys_of(conn: Connection, pks: Iterable[int]) -> dict[int, Key]:
    wanted = sorted(set(pks))
    found: dict[int, Key] = {}
    p = t.posts.c
    for chunk in _chunks(wanted):
        for row in conn.execute(select(p.pk, p.source, p.post_id).where(p.pk.in_(chunk))):
            found[row.pk] = (row.source, row.post_id)
    return found


def _stored(row: Row[Any], matches: Sequence[_MatchRow], dups: dict[int, Key], flt: PostFilter) -> StoredPost:
    """One post with its matches folded in; a topic or story filter picks which match speaks."""
    chosen = [m for m in matches if m.topic == flt.topic] if flt.topic else list(matches)
    terms = tuple(dict.fromkeys(term for m in chosen for term in m.terms))
    stories = [m.story for m in chosen if m.story is not None]
    story = flt.story if flt.story is not None else (stories[0] if stories else None)
    return StoredPost(
        post=_post(row),
        topics=tuple(m.topic for m in matches),
        matched=terms,
        score=max((m.score for m in chosen), default=0.0),
        story=story,
        duplicate_of=dups.get(row.duplicate_of) if row.duplicate_of is not None else None,
        seen=row.seen,
    )


def _filtered(flt: PostFilter, dialect: str, *, walk: bool = False) -> Select[Any]:
    """The posts query; `walk`: a common needle, found by walking posts newest first (text_search)."""
    p, m = t.posts.c, t.matches.c
    query = select(t.posts)
    searched = bool(flt.text) and flt.story is None
    if flt.topic is not None and searched:
        # Per row (the primary key answers it), so the text index drives, not the topic's every post.
        query = query.where(exists().where(m.post_pk == p.pk, m.topic == flt.topic))
    elif flt.topic is not None:
        query = query.where(p.pk.in_(select(m.post_pk).where(m.topic == flt.topic)))
    if flt.story is not None:
        members = select(m.post_pk).where(m.story == flt.story)
        query = query.where(or_(p.pk.in_(members), p.duplicate_of.in_(members)))
    if flt.source is not None:
        query = query.where(p.source == flt.source)
    if flt.since is not None:
        query = query.where(p.published >= flt.since)
    if flt.text:
        # Within one story a scan of its few posts is cheapest; across the store, the index.
        query = query.where(text_search.contains(flt.text, dialect, indexed=searched, walk=walk))
    query = query.order_by(p.published.desc(), p.pk.desc())
    return query.limit(flt.limit) if flt.limit is not None else query


def posts(conn: Connection, flt: PostFilter) -> list[StoredPost]:
    searched = bool(flt.text) and flt.story is None
    walk = bool(flt.text and searched and flt.limit is not None and text_search.common(conn, flt.text))
    rows = conn.execute(_filtered(flt, conn.dialect.name, walk=walk)).all()
    matches = _matches_of(conn, [row.pk for row in rows])
    dups = _keys_of(conn, (row.duplicate_of for row in rows if row.duplicate_of is not None))
    return [_stored(row, matches.get(row.pk, []), dups, flt) for row in rows]


def live_window(conn: Connection, since: datetime) -> list[StoredPost]:
    """One StoredPost per (post, topic) in a live story, seen since `since`, in arrival order."""
    s, m, p = t.stories.c, t.matches.c, t.posts.c
    query = (
        select(t.posts, m.topic.label("m_topic"), m.terms.label("m_terms"), m.score.label("m_score"), m.story)
        .join(t.matches, m.post_pk == p.pk)
        .join(t.stories, s.id == m.story)
        .where(and_(s.live.is_(True), s.merged_into.is_(None), p.seen >= since))
        .order_by(p.seen, p.pk, m.topic)
    )
    rows = conn.execute(query).all()
    dups = _keys_of(conn, (row.duplicate_of for row in rows if row.duplicate_of is not None))
    result = []
    for row in rows:
        match = _MatchRow(row.m_topic, _json_list(row.m_terms), row.m_score, row.story)
        result.append(_stored(row, [match], dups, PostFilter()))
    return result


@dataclass(frozen=True, slots=True)
class StoryFilter:
    topic: str | None = None
    live_only: bool = False
    live_since: datetime | None = None  # with live_only: a post at or after this, too
    limit: int | None = None
    active_since: datetime | None = None  # every story seen since this, whatever `limit` says


def stories(conn: Connection, flt: StoryFilter) -> list[Story]:
    """Newest first (last_seen, then id). Those seen since `active_since` come whatever `limit` says,
    and `limit` more after them: what ranking by activity as of a time needs."""
    s = t.stories.c
    query = select(t.stories).where(s.merged_into.is_(None)).order_by(s.last_seen.desc(), s.id.desc())
    if flt.topic is not None:
        query = query.where(s.topic == flt.topic)
    if flt.live_only:
        query = query.where(s.live.is_(True))
        if flt.live_since is not None:
            query = query.where(s.last_seen >= flt.live_since)
    active: list[Row[Any]] = []
    if flt.active_since is not None:
        active = list(conn.execute(query.where(s.last_seen >= flt.active_since)))
        query = query.where(s.last_seen < flt.active_since)
    rest = conn.execute(query if flt.limit is None else query.limit(flt.limit))
    return [_story(row) for row in [*active, *rest]]


def feed_states(conn: Connection) -> list[FeedState]:
    return [_feed_state(row) for row in conn.execute(select(t.feeds).order_by(t.feeds.c.name))]


def feed_state(conn: Connection, name: str) -> FeedState | None:
    row = conn.execute(select(t.feeds).where(t.feeds.c.name == name)).first()
    return _feed_state(row) if row is not None else None


def next_checks(conn: Connection, names: Sequence[str]) -> dict[str, datetime | None]:
    """The stored next check of each of `names` that has a row."""
    f = t.feeds.c
    return {row.name: row.next_check for row in conn.execute(select(f.name, f.next_check).where(f.name.in_(names)))}


def story_by_id(conn: Connection, story_id: int) -> Story | None:
    row = conn.execute(select(t.stories).where(t.stories.c.id == story_id)).first()
    return _story(row) if row is not None else None


def topics(conn: Connection) -> list[str]:
    return list(conn.execute(select(t.topics.c.name).order_by(t.topics.c.name)).scalars())


def revision(conn: Connection) -> int:
    return int(conn.execute(select(t.meta.c.revision)).scalar_one())


def max_story_id(conn: Connection) -> int:
    """The highest story id in use, by a story row or by a match naming it (0 when none)."""
    stories = conn.execute(select(func.max(t.stories.c.id))).scalar_one()
    named = conn.execute(select(func.max(t.matches.c.story))).scalar_one()
    return max(stories or 0, named or 0)


def stats(conn: Connection, now: datetime) -> Stats:
    total, recent = post_counts(conn, now)
    ok, failing = feed_health(conn)
    last_write = conn.execute(select(t.meta.c.last_write)).scalar_one()
    return Stats(total, recent, ok, failing, last_write)


def topic_counts(conn: Connection) -> dict[str, tuple[int, int]]:
    """(matched posts, live stories) per topic."""
    m, st = t.matches.c, t.stories.c
    posts: dict[str, int] = dict(conn.execute(select(m.topic, func.count()).group_by(m.topic)).tuples().all())
    live = select(st.topic, func.count()).where(st.live, st.merged_into.is_(None)).group_by(st.topic)
    stories: dict[str, int] = dict(conn.execute(live).tuples().all())
    return {name: (posts.get(name, 0), stories.get(name, 0)) for name in posts.keys() | stories.keys()}


def learned_terms(conn: Connection, topic: str | None) -> list[LearnedTerm]:
    lt = t.learned_terms.c
    query = select(t.learned_terms).order_by(lt.topic, lt.weight.desc(), lt.term)
    if topic is not None:
        query = query.where(lt.topic == topic)
    return [LearnedTerm(r.topic, r.term, r.weight, r.posts, r.since, r.seen) for r in conn.execute(query)]


def streams(conn: Connection) -> list[StreamStatus]:
    rows = conn.execute(select(t.streams).order_by(t.streams.c.name))
    return [StreamStatus(**{**row._asdict(), "queue_full": bool(row.queue_full)}) for row in rows]


def daemon(conn: Connection) -> DaemonInfo | None:
    row = conn.execute(select(t.daemon)).first()
    return DaemonInfo(row.pid, row.host, row.started, row.beat, bool(row.stopped)) if row else None


def post_counts(conn: Connection, now: datetime) -> tuple[int, int]:
    """(posts stored, posts that arrived in the hour up to `now`) from the counts writes keep."""
    total = conn.execute(select(t.meta.c.posts)).scalar_one()
    cut = now - timedelta(hours=1)
    first_full = math.ceil(cut.timestamp() / 60)  # the first minute wholly inside the hour
    pm = t.post_minutes.c
    recent = conn.execute(select(func.coalesce(func.sum(pm.posts), 0)).where(pm.minute >= first_full)).scalar_one()
    boundary = datetime.fromtimestamp(first_full * 60, UTC)
    if boundary > cut:  # the cut falls inside a minute: count that minute's tail exactly
        p = t.posts.c
        recent += conn.execute(select(func.count()).where(p.seen >= cut, p.seen < boundary)).scalar_one()
    return int(total), int(recent)


def feed_health(conn: Connection) -> tuple[int, int]:
    """(feeds whose last poll succeeded, feeds currently failing); never-polled feeds are neither."""
    f = t.feeds.c
    ok = conn.execute(select(func.count()).where(f.last_poll.is_not(None), f.error_count == 0)).scalar_one()
    failing = conn.execute(select(func.count()).where(f.error_count > 0)).scalar_one()
    return int(ok), int(failing)


def recent_published(conn: Connection, story_ids: Sequence[int], per_story: int) -> dict[int, list[datetime]]:
    """Each story's newest `per_story` publish times (its posts and their folded duplicates, as
    `posts(story=...)` lists them), newest first; one query for all the stories."""
    if not story_ids:
        return {}
    p, m = t.posts.c, t.matches.c
    members = select(m.story.label("story"), m.post_pk.label("pk")).where(m.story.in_(list(story_ids)))
    members_cte = members.cte("members")
    folded = select(members_cte.c.story, p.pk).join(members_cte, p.duplicate_of == members_cte.c.pk)
    shown = union(select(members_cte.c.story, members_cte.c.pk), folded).subquery("shown")
    rank = func.row_number().over(partition_by=shown.c.story, order_by=(p.published.desc(), p.pk.desc()))
    ranked = (
        select(shown.c.story, p.published, rank.label("n")).join(t.posts, p.pk == shown.c.pk).subquery("ranked")
    )
    query = select(ranked.c.story, ranked.c.published).where(ranked.c.n <= per_story)
    found: dict[int, list[datetime]] = {sid: [] for sid in story_ids}
    for row in conn.execute(query.order_by(ranked.c.story, ranked.c.n)):
        found[row.story].append(row.published)
    return found


# -- the alerts outbox -------------------------------------------------------------------------------


def fired_alerts(conn: Connection) -> list[tuple[str, str, int]]:
    """(rule, event, story) of every story alert whose story is still live: what a restarted
    pipeline must not fire again."""
    a, s = t.alerts.c, t.stories.c
    query = (
        select(a.rule, a.event, a.story)
        .join(t.stories, s.id == a.story)
        .where(s.live.is_(True), s.merged_into.is_(None), a.event.in_(("new_story", "spike")))
    )
    return [(row.rule, row.event, row.story) for row in conn.execute(query)]


def alert_queue(conn: Connection) -> list[QueuedAlert]:
    """The alerts still to go (pending, failing or held), oldest first."""
    a = t.alerts.c
    query = (
        select(a.id, a.rule, a.event, a.state, a.attempts, a.next_attempt, a.answer)
        .where(a.state.in_(("pending", "held")))
        .order_by(a.id)
    )
    return [QueuedAlert(r.id, r.rule, r.event, r.state, r.attempts, r.next_attempt, r.answer)
            for r in conn.execute(query)]


def sent_since(conn: Connection, since: datetime) -> dict[str, int]:
    """Per rule, the single alerts (not digests) delivered since `since`: the hourly budget spent."""
    a = t.alerts.c
    query = (
        select(a.rule, func.count())
        .where(a.state == "sent", a.event != "digest", a.sent >= since)
        .group_by(a.rule)
    )
    return {rule: int(count) for rule, count in conn.execute(query)}


def last_sent(conn: Connection) -> dict[str, datetime]:
    """Per rule, when its channel last took an alert."""
    a = t.alerts.c
    query = select(a.rule, func.max(a.sent)).where(a.state == "sent").group_by(a.rule)
    return {row[0]: row[1] for row in conn.execute(query)}


def _alert(row: Row[Any]) -> Alert:
    return Alert(
        id=row.id, rule=row.rule, event=row.event, topic=row.topic, story=row.story, created=row.created,
        state=row.state, attempts=row.attempts, next_attempt=row.next_attempt, sent=row.sent,
        answer=row.answer, digest=row.digest, payload=row.payload,
    )


def alerts_by_id(conn: Connection, ids: Sequence[int]) -> list[Alert]:
    found: list[Alert] = []
    a = t.alerts.c
    for chunk in _chunks(sorted(set(ids))):
        found += [_alert(row) for row in conn.execute(select(t.alerts).where(a.id.in_(chunk)).order_by(a.id))]
    return found


def recent_alerts(conn: Connection, limit: int | None, rule: str | None) -> list[Alert]:
    """Newest first."""
    a = t.alerts.c
    query = select(t.alerts).order_by(a.id.desc())
    if rule is not None:
        query = query.where(a.rule == rule)
    if limit is not None:
        query = query.limit(limit)
    return [_alert(row) for row in conn.execute(query)]


def alerted_stories(conn: Connection, story_ids: Sequence[int]) -> set[int]:
    """Those of `story_ids` that some rule alerted on (a story event, or a match in it)."""
    found: set[int] = set()
    a = t.alerts.c
    for chunk in _chunks(sorted(set(story_ids))):
        found.update(conn.execute(select(a.story).distinct().where(a.story.in_(chunk))).scalars())
    return found
