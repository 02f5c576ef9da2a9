"""The pure alert decisions: which story changes fire, once; the hourly budget and digests; retries;
the rules in feeds.toml; what a notification says."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from monitor.alerts import (
    DIGEST,
    DIGEST_AFTER,
    HELD,
    MATCH,
    NEW_STORY,
    PENDING,
    RETRY_AFTER_LEAST,
    RETRY_AFTER_MOST,
    RETRY_MOST,
    SPIKE,
    Alerter,
    Trigger,
    alert_json,
    asked_wait,
    digest_json,
    plan,
    render,
    retry_at,
    stored_view,
)
from monitor.config import AlertRule, ConfigError, parse
from storage.types import Match, NewPost, Post, QueuedAlert, Story
from tests.support.feeds import T0

PHONE = AlertRule("phone", on=(NEW_STORY, SPIKE), min_size=3)
POSTS = AlertRule("every-post", on=(MATCH,), topic="volcano")


def story(size: int, *, sid: int = 7, topic: str = "volcano", spike: str | None = None, live: bool = True) -> Story:
    return Story(sid, topic, "Lava reaches the road", size, T0, T0 + timedelta(minutes=size), live=live,
                 sources=("bbc", "ruv"), velocity=float(size), spike=spike)


def new_post(i: int, sid: int = 7, text: str = "Lava reaches the road near Grindavik") -> NewPost:
    post = Post(f"p{i}", "ruv", "Anna", f"https://ruv.is/{i}", text, T0 + timedelta(minutes=i))
    return NewPost(post, (Match("volcano", ("Grindavik",)),), {"volcano": sid})


# -- deciding ------------------------------------------------------------------------------------------


def test_a_story_is_new_once_it_reaches_min_size_and_fires_once_however_it_grows() -> None:
    alerter = Alerter([PHONE])
    fired = [[(t.rule.name, t.event, t.subject) for t in alerter.decide([story(size)], [])] for size in (1, 2, 3, 4, 9)]
    assert fired == [[], [], [("phone", NEW_STORY, "story:7")], [], []]


def test_a_spike_fires_once_per_rule_and_story_even_when_it_spikes_again() -> None:
    loud = AlertRule("loud", on=(SPIKE,))
    alerter = Alerter([PHONE, loud])
    first = alerter.decide([story(5, spike="5 posts in 10 min, none in the hour before")], [])
    calm = alerter.decide([story(6)], [])
    again = alerter.decide([story(20, spike="14 posts in 10 min, 9× its previous hour")], [])
    assert sorted((t.rule.name, t.event) for t in first) == [("loud", SPIKE), ("phone", NEW_STORY), ("phone", SPIKE)]
    assert calm == [] and again == []


def test_a_rule_hears_only_its_topic_and_its_events() -> None:
    alerter = Alerter([AlertRule("ferry-only", on=(NEW_STORY,), topic="ferry"), AlertRule("spikes", on=(SPIKE,))])
    assert alerter.decide([story(5, topic="volcano")], []) == []


def test_match_fires_for_every_matched_post_of_the_topic_with_its_story() -> None:
    alerter = Alerter([POSTS, AlertRule("ferry-posts", on=(MATCH,), topic="ferry")])
    triggers = alerter.decide([story(2)], [new_post(1), new_post(2)])
    assert [(t.rule.name, t.event, t.subject) for t in triggers] == [
        ("every-post", MATCH, "post:ruv\x1fp1"), ("every-post", MATCH, "post:ruv\x1fp2")]
    assert all(t.story is not None and t.story.id == 7 for t in triggers)


def test_a_post_whose_story_merged_away_this_poll_carries_the_survivor() -> None:
    survivor = story(9, sid=3)
    gone = replace(story(4, sid=7), live=False, merged_into=3)
    (trigger,) = Alerter([POSTS]).decide([survivor, gone], [new_post(1, sid=7)], merged={7: 3})
    assert trigger.story == survivor


def test_closed_and_merged_stories_fire_nothing_and_are_forgotten() -> None:
    alerter = Alerter([PHONE])
    alerter.decide([story(3)], [])
    assert alerter.fired == {("phone", NEW_STORY, 7)}
    assert alerter.decide([story(12, live=False, spike="x")], []) == []
    assert alerter.fired == set(), "a closed story's keys are dropped: memory stays bounded"


def test_after_a_restart_what_fired_does_not_fire_again() -> None:
    alerter = Alerter([PHONE])
    alerter.restore([("phone", NEW_STORY, 7)])
    assert [t.event for t in alerter.decide([story(4, spike="5 posts in 10 min")], [])] == [SPIKE]


# -- the rules in feeds.toml ---------------------------------------------------------------------------

TOPIC = '[[topics]]\nname = "volcano"\nkeywords = ["volcano"]\n\n'


def test_rules_load_with_their_defaults(tmp_path: Path) -> None:
    text = TOPIC + ('[[alerts]]\nname = "phone"\nnotify = "ntfy://ntfy.sh/my-topic"\n\n'
                    '[[alerts]]\nname = "script"\ntopic = "volcano"\non = ["match"]\nexec = ["cat"]\n'
                    'max_per_hour = 5\nmin_size = 2\n\n'
                    '[[alerts]]\nname = "chat"\nnotify_env = "CHAT_URL"\non = ["spike"]\n')
    phone, script, chat = parse(text, tmp_path / "feeds.toml", environ={}).alerts
    assert phone == AlertRule("phone", on=(NEW_STORY, SPIKE), min_size=3, notify="ntfy://ntfy.sh/my-topic",
                              max_per_hour=20)
    assert script == AlertRule("script", on=(MATCH,), topic="volcano", min_size=2, exec=("cat",), max_per_hour=5)
    assert chat.notify_env == "CHAT_URL" and chat.on == (SPIKE,)


@pytest.mark.parametrize(
    ("rule", "key", "says"),
    [
        ('on = ["new_story", "explosion"]\nnotify = "ntfy://t"', "on", 'unknown event "explosion"'),
        ('on = []\nnotify = "ntfy://t"', "on", "at least one event"),
        ('on = "spike"\nnotify = "ntfy://t"', "on", "list"),
        ('notify = "ntfy.sh/my-topic"', "notify", "Apprise URL"),
        ('notify = "ntfy://t"\nexec = ["cat"]', "exec", "only one of"),
        ('notify = "ntfy://t"\nnotify_env = "X"', "notify_env", "only one of"),
        ("", "notify", "needs one of"),
        ('exec = "notify-send monitor"', "exec", "list of strings"),
        ("exec = []", "exec", "list of strings"),
        ('notify_env = "not a name"', "notify_env", "environment variable"),
        ('notify = "ntfy://t"\nmax_per_hour = 0', "max_per_hour", "from 1"),
        ('notify = "ntfy://t"\nmax_per_hour = 2.5', "max_per_hour", "whole number"),
        ('notify = "ntfy://t"\nmin_size = 0', "min_size", "from 1"),
        ('notify = "ntfy://t"\ntopic = "ferry"', "topic", 'no topic named "ferry"'),
        ('notify = "ntfy://t"\nemail = "me@example.org"', "email", "unknown key"),
    ],
)
def test_a_bad_rule_is_one_line_naming_the_table_and_key(tmp_path: Path, rule: str, key: str, says: str) -> None:
    path = tmp_path / "feeds.toml"
    with pytest.raises(ConfigError) as caught:
        parse(TOPIC + f'[[alerts]]\nname = "phone"\n{rule}\n', path, environ={})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f'{path}: [[alerts]] "phone": key "{key}": ')
    assert says in message


def test_a_bad_url_is_refused_without_quoting_it(tmp_path: Path) -> None:
    """An Apprise URL may hold a token: the error names the key, never the value."""
    with pytest.raises(ConfigError) as caught:
        parse(TOPIC + '[[alerts]]\nname = "x"\nnotify = "tok-SECRET-123"\n', tmp_path / "f.toml", environ={})
    assert "SECRET" not in str(caught.value)


def test_rule_names_are_unique(tmp_path: Path) -> None:
    text = TOPIC + '[[alerts]]\nname = "a"\nexec = ["cat"]\n\n[[alerts]]\nname = "a"\nexec = ["cat"]\n'
    with pytest.raises(ConfigError, match=r'\[\[alerts\]\] "a": key "name": duplicate'):
        parse(text, tmp_path / "feeds.toml", environ={})


# -- planning the sends ----------------------------------------------------------------------------------


def queued(i: int, *, state: str = PENDING, event: str = MATCH, attempts: int = 0,
           due: timedelta | None = timedelta(0)) -> QueuedAlert:
    return QueuedAlert(i, "phone", event, state, attempts, None if due is None else T0 + due)


def test_within_the_budget_everything_due_goes_oldest_first() -> None:
    rule = AlertRule("phone", on=(MATCH,), exec=("cat",), max_per_hour=20)
    assert plan(rule, [queued(2), queued(1)], sent_last_hour=3, now=T0).send == (1, 2)


def test_past_the_hourly_budget_alerts_are_held_for_a_digest() -> None:
    rule = AlertRule("phone", on=(MATCH,), exec=("cat",), max_per_hour=20)
    decided = plan(rule, [queued(i) for i in range(1, 31)], sent_last_hour=15, now=T0)
    assert decided.send == (1, 2, 3, 4, 5)
    assert decided.hold == tuple(range(6, 31))
    assert decided.digest == (), "the digest waits for more to gather"


def test_held_alerts_go_as_one_digest_once_the_first_has_waited() -> None:
    rule = AlertRule("phone", on=(MATCH,), exec=("cat",), max_per_hour=1)
    held = [queued(i, state=HELD, due=DIGEST_AFTER - timedelta(minutes=i)) for i in (1, 2)]
    assert plan(rule, held, sent_last_hour=1, now=T0).digest == ()
    later = T0 + DIGEST_AFTER - timedelta(minutes=1)
    decided = plan(rule, [*held, queued(3)], sent_last_hour=1, now=later)
    assert decided.digest == (1, 2, 3), "every held alert, and the one held now, in one digest"


def test_a_failing_channel_waits_out_its_retry_before_anything_else_goes() -> None:
    rule = AlertRule("phone", on=(MATCH,), exec=("cat",))
    failing = queued(1, attempts=2, due=timedelta(minutes=1))
    assert plan(rule, [failing, queued(2)], sent_last_hour=0, now=T0).send == ()
    assert plan(rule, [failing, queued(2)], sent_last_hour=0, now=T0 + timedelta(minutes=1)).send == (1, 2)


def test_a_digest_is_not_held_by_the_budget() -> None:
    rule = AlertRule("phone", on=(MATCH,), exec=("cat",), max_per_hour=1)
    assert plan(rule, [queued(9, event=DIGEST)], sent_last_hour=1, now=T0).send == (9,)


def test_retries_double_from_30_seconds_to_at_most_an_hour() -> None:
    rng = random.Random(1)
    waits = [retry_at(n, T0, rng) - T0 for n in range(1, 12)]
    assert timedelta(seconds=15) <= waits[0] <= timedelta(seconds=30)
    assert all(w <= RETRY_MOST for w in waits)
    assert waits[-1] >= RETRY_MOST / 2


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("120", timedelta(seconds=120)),
        (" 120 ", timedelta(seconds=120)),
        (format_datetime(T0 + timedelta(minutes=5), usegmt=True), timedelta(minutes=5)),
        ("Fri, 01 Mar 2024 12:05:00 -0000", timedelta(minutes=5)),  # a zone-less date is GMT
        ("Thu, 29 Feb 2024 12:00:00 GMT", timedelta(0)),  # already past: no wait asked
        ("0", timedelta(0)),
        ("31536000", RETRY_AFTER_MOST),  # a year: capped at a day
        ("9" * 5000, RETRY_AFTER_MOST),
        ("Fri, 31 Dec 9999 23:59:59 GMT", RETRY_AFTER_MOST),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date_on_the_senders_clock(header: str, wait: timedelta) -> None:
    assert asked_wait(header, T0) == wait


@pytest.mark.parametrize("header", [None, "", "soon", "-5", "in 2 minutes", "Fri, 99 Mar 2024 12:05:00 GMT", "\x1b[2J"])
def test_a_missing_or_garbage_retry_after_asks_nothing(header: str | None) -> None:
    assert asked_wait(header, T0) is None


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("attempts", [1, 2, 5, 12])
@pytest.mark.parametrize("asked", [0, 5, 20, 120, 3000, 86400])
def test_a_channel_that_asked_is_retried_no_sooner_and_no_later_than_max_of_asked_and_backoff(
        seed: int, attempts: int, asked: int) -> None:
    backoff = retry_at(attempts, T0, random.Random(seed)) - T0
    again = retry_at(attempts, T0, random.Random(seed), asked=timedelta(seconds=asked)) - T0
    assert again >= timedelta(seconds=asked), "never sooner than it asked"
    assert again <= max(timedelta(seconds=asked), backoff), "never later than our backoff or its ask"
    assert again == max(timedelta(seconds=asked), RETRY_AFTER_LEAST), "what it asked, not less than 15 s"


# -- what an alert says ------------------------------------------------------------------------------------


def test_an_alert_carries_the_story_and_its_newest_posts() -> None:
    spiking = story(6, spike="6 posts in 10 min, none in the hour before")
    posts = [stored_view(new_post(i), "volcano", 7) for i in range(8)]
    alert = alert_json(Trigger(PHONE, SPIKE, spiking, "volcano"), posts, T0)
    assert alert["event"] == SPIKE and alert["topic"] == "volcano"
    assert {k: alert["story"][k] for k in ("id", "label", "size", "velocity", "spike")} == {
        "id": 7, "label": "Lava reaches the road", "size": 6, "velocity": 6.0, "spike": spiking.spike}
    assert alert["story"]["first_seen"] == "2024-03-01T12:00:00Z"
    assert [p["id"] for p in alert["posts"]] == ["p7", "p6", "p5", "p4", "p3"]
    assert set(alert["posts"][0]) >= {"id", "source", "author", "url", "text", "published"}


def test_hostile_text_reaches_a_notification_printable() -> None:
    evil = "Lava\x1b]52;c;cm0gLXJmIH4=\x07 reaches\x1b[2J the road \u202eexe.txt"
    posts = [stored_view(new_post(1, text=evil), "volcano", 7)]
    alert = alert_json(Trigger(PHONE, NEW_STORY, replace(story(3), label=evil), "volcano"), posts, T0)
    title, body = render(alert)
    for text in (title, body):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "Lava reaches the road" in body
    assert "https://ruv.is/1" in body


def test_a_notification_reads_like_the_dashboard() -> None:
    spiking = story(6, spike="6 posts in 10 min, none in the hour before")
    title, body = render(alert_json(Trigger(PHONE, SPIKE, spiking, "volcano"), [], T0))
    assert title == "monitor: a story in volcano is spiking"
    assert body.splitlines() == ["Lava reaches the road", "6 posts · from bbc, ruv · 6/h",
                                 "⚡ 6 posts in 10 min, none in the hour before"]


def test_a_digest_counts_what_it_stands_for_and_names_the_busiest_stories() -> None:
    alerts = [alert_json(Trigger(POSTS, MATCH, story(3 + i % 2, sid=7 + i % 2), "volcano", new_post(i)),
                         [stored_view(new_post(i), "volcano", 7)], T0 + timedelta(seconds=i)) for i in range(5)]
    digest = digest_json("every-post", "volcano", alerts, T0 + timedelta(minutes=10))
    assert digest["count"] == 5 and digest["events"] == {MATCH: 5}
    assert [s["id"] for s in digest["stories"]] == [7, 8]
    title, body = render(digest)
    assert title == "monitor: 5 more alerts in volcano"
    assert "Lava reaches the road" in body
