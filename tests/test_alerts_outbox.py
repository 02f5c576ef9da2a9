"""The outbox: alerts go into the store in the poll's own transaction, once per rule, story and
event, across restarts; a failed write leaves neither the story change nor its alert."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.alerts import MATCH, NEW_STORY, SPIKE
from monitor.config import AlertRule, Topic
from monitor.pipeline import Pipeline
from storage.errors import StorageError
from storage.store import open_store
from storage.types import Post
from tests.support.feeds import T0

TOPICS = [Topic("bridge", keywords=("bridge",))]
RULES = [AlertRule("phone", on=(NEW_STORY, SPIKE), min_size=3, exec=("cat",)),
         AlertRule("posts", on=(MATCH,), topic="bridge", exec=("cat",))]


def report(i: int, minutes: float) -> Post:
    return Post(f"r{i}", f"wire{i % 3}", f"reporter{i}", f"https://news.example/{i}",
                f"Port Alder bridge closed after cracks found in the main span, update {i}",
                T0 + timedelta(minutes=minutes))


def test_a_story_reaching_min_size_puts_one_alert_with_its_story_in_the_outbox(database_url: str) -> None:
    with open_store(database_url) as store:
        pipeline = Pipeline(store, TOPICS, now=T0, alerts=RULES[:1])
        pipeline.process([report(1, 0), report(2, 1)], now=T0 + timedelta(minutes=2))
        assert store.recent_alerts() == [], "two posts are not yet a story for min_size = 3"
        pipeline.process([report(3, 30)], now=T0 + timedelta(minutes=31))
        pipeline.process([report(4, 40)], now=T0 + timedelta(minutes=41))
        [alert] = store.recent_alerts()
    assert (alert.rule, alert.event, alert.state, alert.attempts) == ("phone", NEW_STORY, "pending", 0)
    sent = json.loads(alert.payload)
    assert sent["story"]["size"] == 3 and sent["story"]["id"] == alert.story
    assert sorted(p["id"] for p in sent["posts"]) == ["r1", "r2", "r3"], "its stored posts and this poll's"
    assert alert.created == T0 + timedelta(minutes=31)


def test_after_a_restart_a_story_that_alerted_does_not_alert_again(database_url: str) -> None:
    with open_store(database_url) as store:
        Pipeline(store, TOPICS, now=T0, alerts=RULES).process([report(i, i) for i in range(3)],
                                                                now=T0 + timedelta(minutes=3))
        before = [(a.rule, a.event) for a in store.recent_alerts()]
    with open_store(database_url) as store:
        restarted = Pipeline(store, TOPICS, now=T0 + timedelta(minutes=4), alerts=RULES)
        restarted.process([report(9, 4)], now=T0 + timedelta(minutes=4))
        after = [(a.rule, a.event) for a in store.recent_alerts()]
    assert sorted(before) == [("phone", NEW_STORY)] + [("posts", MATCH)] * 3
    assert after[:1] == [("posts", MATCH)] and sorted(after[1:]) == sorted(before), \
        "the new post is a match; the story is not new again"


def test_a_spike_alerts_once_while_it_lasts(database_url: str) -> None:
    rule = AlertRule("spikes", on=(SPIKE,), exec=("cat",))
    with open_store(database_url) as store:
        pipeline = Pipeline(store, TOPICS, now=T0, alerts=[rule])
        for minute in range(12):  # one report a minute: five in ten minutes, none before, is a spike
            pipeline.process([report(minute, minute)], now=T0 + timedelta(minutes=minute, seconds=30))
        alerts = store.recent_alerts()
    assert [(a.rule, a.event) for a in alerts] == [("spikes", SPIKE)]
    assert json.loads(alerts[0].payload)["story"]["spike"].startswith("5 posts in 10 min")


def test_a_failed_write_stores_neither_the_story_change_nor_its_alert(tmp_path: Path) -> None:
    db = tmp_path / "monitor.db"
    with open_store(f"sqlite:///{db}") as store:
        pipeline = Pipeline(store, TOPICS, now=T0, alerts=RULES[:1])
        with closing(sqlite3.connect(db)) as conn:
            conn.execute("CREATE TRIGGER full BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'outbox full'); END")
            conn.commit()
        with pytest.raises(StorageError, match="outbox full"):
            pipeline.process([report(i, i) for i in range(3)], now=T0 + timedelta(minutes=3))
        assert store.posts() == [] and store.stories() == [], "the poll's posts and story went with it"
        with closing(sqlite3.connect(db)) as conn:
            conn.execute("DROP TRIGGER full")
            conn.commit()
        pipeline.process([report(i, i) for i in range(3)], now=T0 + timedelta(minutes=4))
        assert len(store.posts()) == 3
        assert [(a.rule, a.event) for a in store.recent_alerts()] == [("phone", NEW_STORY)]
