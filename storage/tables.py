"""The schema as SQLAlchemy Core tables; migrations under storage/migrations create the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.sql.naming import conv
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out; SQLite keeps naive UTC text, which sorts correctly."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # A naive datetime is taken to be UTC already: the store's contract is UTC everywhere.
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

feeds = Table(
    "feeds",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", Text),
    Column("cursor", Text, nullable=False, default="{}"),  # JSON object of strings
    Column("next_check", UTCDateTime),
    Column("last_poll", UTCDateTime),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("error_count", Integer, nullable=False, default=0),
    Column("retry_after", UTCDateTime),
    Column("posts_seen", Integer, nullable=False, default=0),
    Column("posts_matched", Integer, nullable=False, default=0),
    # Shared work on PostgreSQL (storage/work.py): the worker polling the feed now, until when at the
    # latest, and the host:port its requests go to (politeness is counted per host across workers).
    Column("lease_owner", String(120)),
    Column("lease_until", UTCDateTime),
    Column("host", String(300)),
    Index("ix_feeds_next_check", "next_check"),
)

posts = Table(
    "posts",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("post_id", Text, nullable=False),
    Column("author", Text, nullable=False, default=""),
    Column("url", Text, nullable=False, default=""),
    Column("title", Text, nullable=False, default=""),
    Column("text", Text, nullable=False, default=""),
    Column("published", UTCDateTime, nullable=False),
    Column("seen", UTCDateTime, nullable=False),
    Column("kind", String(40), nullable=False, default=""),
    Column("lang", String(20), nullable=False, default=""),
    Column("duplicate_of", Integer, ForeignKey("posts.pk", ondelete="SET NULL")),
    Column("claimed_published", UTCDateTime),  # the source's date when `published` was clamped to the fetch
    UniqueConstraint("source", "post_id"),
    Index("ix_posts_published", "published", "pk"),
    Index("ix_posts_seen", "seen"),
    Index("ix_posts_duplicate_of", "duplicate_of"),
)

topics = Table(
    "topics",
    metadata,
    Column("name", String(200), primary_key=True),
)

matches = Table(
    "matches",
    metadata,
    Column("post_pk", Integer, ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    Column("topic", String(200), ForeignKey("topics.name", ondelete="CASCADE"), primary_key=True),
    Column("terms", Text, nullable=False, default="[]"),  # JSON list of strings
    Column("score", Float, nullable=False, default=1.0),
    # No foreign key: the story builder owns story ids and may name a story before it is written.
    Column("story", Integer),
    Index("ix_matches_story", "story"),
    Index("ix_matches_topic", "topic"),
)

stories = Table(
    "stories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("topic", String(200), ForeignKey("topics.name", ondelete="CASCADE"), nullable=False),
    Column("label", Text, nullable=False, default=""),
    Column("size", Integer, nullable=False, default=0),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("live", Boolean, nullable=False, default=True),
    Column("sources", Text, nullable=False, default="[]"),  # JSON list of source names
    Column("authors", Integer, nullable=False, default=0),
    Column("merged_into", Integer),
    # Posts per minute of arrival over the story's last 70 minutes, JSON [[minute, posts], ...]: its
    # rate and spike as of any time come from these (monitor.storystate), never from a stored snapshot.
    Column("arrivals", Text, nullable=False, default="[]", server_default="[]"),
    Index("ix_stories_topic_live_last_seen", "topic", "live", "last_seen"),
    Index("ix_stories_live_last_seen", "live", "last_seen"),
)

# stories() ORDER BY last_seen, id (both descending) as index walks over the stories not merged away:
# the dashboard's top 50 reads the stories of the last 70 minutes and 50 more, never sorts them all.
# PostgreSQL gets the same partial indexes from migrations 0002 and 0005; naming postgresql_where here
# too would load the PostgreSQL dialect in every SQLite process (~35 ms of each start), and only an
# empty SQLite file is built from these tables (storage/fresh.py).
_recent = (stories.c.last_seen.desc(), stories.c.id.desc())
_unmerged = stories.c.merged_into.is_(None)
Index("ix_stories_topic_recent", stories.c.topic, *_recent, sqlite_where=_unmerged)
Index(
    "ix_stories_topic_live_recent", stories.c.topic, stories.c.live, *_recent,
    sqlite_where=_unmerged,
)
Index("ix_stories_recent", *_recent, sqlite_where=_unmerged)
# A merge re-points the stories merged into the one that goes (storage/writes.py apply_merges):
# only merged stories are in it (migration 0012).
Index("ix_stories_merged_into", stories.c.merged_into, sqlite_where=stories.c.merged_into.is_not(None))

meta = Table(
    "meta",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("revision", Integer, nullable=False, default=0),  # bumped by every write
    Column("last_write", UTCDateTime),
    Column("posts", BigInteger, nullable=False, default=0, server_default="0"),  # count(*) of posts, kept by writes
    CheckConstraint("id = 1", name=conv("ck_meta_ck_meta_single_row")),  # as migration 0001 named it
)

# What each learning topic has learned (monitor/learning.py); the daemon replaces a topic's rows
# whenever they change, readers (`monitor topics`, the dashboard) show them.
learned_terms = Table(
    "learned_terms",
    metadata,
    Column("topic", String(200), ForeignKey("topics.name", ondelete="CASCADE"), primary_key=True),
    Column("term", Text, primary_key=True),
    Column("weight", Float, nullable=False),
    Column("posts", Float, nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("seen", UTCDateTime, nullable=False),
)

# Posts per minute of arrival (posts.seen), kept by writes: "posts in the last hour" sums <= 61 rows.
post_minutes = Table(
    "post_minutes",
    metadata,
    Column("minute", BigInteger, primary_key=True, autoincrement=False),  # Unix time // 60
    Column("posts", BigInteger, nullable=False),
)

# Not in this metadata, made by migrations only: SQLite's posts_fts (0002, lean since 0010: FTS5 trigram,
# detail=none, external content on posts; storage/writes.py indexes new posts since 0011, triggers the
# deletes and updates) and PostgreSQL's optional ix_posts_*_trgm GIN indexes.
FTS_TABLE = "posts_fts"


def migration_only(name: str | None) -> bool:
    """Schema objects this metadata cannot describe (the FTS5 table and its shadow tables, the
    optional trigram indexes): schema comparisons leave them out."""
    return name is not None and (name.startswith(FTS_TABLE) or name.endswith("_trgm"))

daemon = Table(
    "daemon",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("pid", Integer, nullable=False),
    Column("host", Text, nullable=False),
    Column("started", UTCDateTime, nullable=False),
    Column("beat", UTCDateTime, nullable=False),
    Column("stopped", Boolean, nullable=False, default=False, server_default=false()),  # it said it exited
    CheckConstraint("id = 1", name=conv("ck_daemon_ck_daemon_single_row")),  # as migration 0001 named it
)

# The alerts outbox: rows go in with the story change that caused them (one transaction), and the
# daemon's sender works through them. (rule, event, subject) is unique: one alert per rule, story and
# event, ever. Channels (Apprise URLs, which may hold tokens) are never stored, only the rule's name.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(200), nullable=False),
    Column("event", String(20), nullable=False),  # new_story | spike | match | digest
    Column("subject", Text, nullable=False),  # "story:12", a matched post's key, a digest's first alert
    Column("topic", String(200)),
    Column("story", Integer),
    Column("payload", Text, nullable=False),  # the alert's JSON
    Column("created", UTCDateTime, nullable=False),
    Column("state", String(12), nullable=False),  # pending | held | sent | digested
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt", UTCDateTime),  # pending: when it may go; held: when its digest is due
    Column("sent", UTCDateTime),
    Column("answer", Text),  # what the channel said last, secrets redacted
    Column("digest", Integer),  # the digest alert that carried a held one
    UniqueConstraint("rule", "event", "subject"),
    Index("ix_alerts_state", "state"),
    Index("ix_alerts_story", "story"),
    Index("ix_alerts_rule_sent", "rule", "sent"),
)

# Each live stream as the daemon reading it last said (every few seconds): `monitor status` shows it.
streams = Table(
    "streams",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("updated", UTCDateTime, nullable=False),
    Column("connected_since", UTCDateTime),
    Column("frames", BigInteger, nullable=False, default=0),
    Column("matched", BigInteger, nullable=False, default=0),
    Column("frames_per_s", Float, nullable=False, default=0.0),
    Column("matched_per_s", Float, nullable=False, default=0.0),
    Column("lag", Float),
    Column("malformed", BigInteger, nullable=False, default=0),
    Column("oversize", BigInteger, nullable=False, default=0),
    Column("backlog", Integer, nullable=False, default=0),
    Column("queue_full", Boolean, nullable=False, default=False),
    Column("reconnects", Integer, nullable=False, default=0),
)

# Every `monitor run` on one PostgreSQL database is a worker: its row says who it is, when it last beat,
# and whether it holds the story lock (it folds the inbox into stories).
workers = Table(
    "workers",
    metadata,
    Column("id", String(120), primary_key=True),  # host:pid:random, unique per process
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", UTCDateTime, nullable=False),
    Column("beat", UTCDateTime, nullable=False),
    Column("stopped", Boolean, nullable=False, default=False, server_default=false()),
    Column("clustering", Boolean, nullable=False, default=False, server_default=false()),
    Column("polls", BigInteger, nullable=False, default=0, server_default="0"),
)

# Matched posts on their way from the worker that fetched them to the one that holds the story lock,
# in the order they arrived (seq). A row is deleted in the transaction that stores its post.
inbox = Table(
    "inbox",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("feed", String(200), nullable=False),
    Column("worker", String(120), nullable=False),
    Column("at", UTCDateTime, nullable=False),  # when the worker polled it
    Column("post", Text, nullable=False),  # the Post as JSON
)
