"""The sender against real receivers on 127.0.0.1: a json:// webhook in Apprise's own format, an SMTP
server for mailto://, a command reading the alert on stdin; retries, the hourly budget and digests."""

from __future__ import annotations

import email
import json
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from monitor.alerts import DIGEST, DIGEST_AFTER, MATCH, NEW_STORY, sample
from monitor.channels import AppriseChannel, WebhookChannel, channel_for
from monitor.config import AlertRule, Topic
from monitor.pipeline import Pipeline
from monitor.sender import AlertSender
from storage.store import Store, open_store
from storage.types import Post
from tests.support.feeds import T0
from tests.support.server import FixtureServer, Reply, Seen

TOPICS = [Topic("bridge", keywords=("bridge",))]


def report(i: int, at: datetime, text: str = "Port Alder bridge closed after cracks found in the main span") -> Post:
    return Post(f"r{i}", f"wire{i % 3}", f"reporter{i}", f"https://news.example/{i}", f"{text}, update {i}", at)


@dataclass
class Outbox:
    """A real store, the pipeline writing alerts into it, and the sender working through them on a fake clock."""

    store: Store
    rules: list[AlertRule]
    now: list[datetime] = field(default_factory=lambda: [T0])

    def __post_init__(self) -> None:
        self.pipeline = Pipeline(self.store, TOPICS, now=self.now[0], alerts=self.rules)
        channels = {r.name: channel_for(r, "feeds.toml") for r in self.rules}

        async def db(fn: Any, *args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        self.sender = AlertSender(self.store, self.rules, channels, lambda: self.now[0], db)

    def poll(self, posts: list[Post]) -> None:
        self.pipeline.process(posts, now=self.now[0])

    async def send(self, *, after: timedelta = timedelta(0)) -> None:
        self.now[0] += after
        await self.sender.run()

    def states(self) -> list[tuple[str, str]]:
        return [(a.event, a.state) for a in reversed(self.store.recent_alerts())]


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Any]:
    made: list[Outbox] = []

    def make(*rules: AlertRule) -> Outbox:
        made.append(Outbox(open_store(f"sqlite:///{tmp_path / 'monitor.db'}"), list(rules)))
        return made[-1]

    yield make
    for box in made:
        box.sender.close()
        box.store.close()


def new_story_in(box: Outbox) -> None:
    box.poll([report(i, T0 + timedelta(minutes=i)) for i in range(3)])
    box.now[0] += timedelta(minutes=3)


# -- a json:// webhook -----------------------------------------------------------------------------


async def test_a_webhook_answering_500_then_200_gets_the_alert_once_later(server: FixtureServer, outbox: Any) -> None:
    answers = iter([Reply(500, b"busy"), Reply(200, b"ok")])
    server.routes["/hook"] = lambda seen: next(answers, Reply(200, b"ok"))
    box = outbox(AlertRule("hook", on=(NEW_STORY,), notify=server.url("/hook").replace("http://", "json://")))
    new_story_in(box)

    await box.send()
    [failed] = box.store.recent_alerts()
    assert (failed.state, failed.attempts) == ("pending", 1)
    assert failed.answer is not None and "500" in failed.answer
    assert failed.next_attempt is not None and failed.next_attempt > box.now[0]

    await box.send(after=timedelta(seconds=1))
    assert len(server.requests_to("/hook")) == 1, "a failing channel waits out its retry time"

    await box.send(after=failed.next_attempt - box.now[0])
    await box.send(after=timedelta(hours=2))
    hits = server.requests_to("/hook")
    assert len(hits) == 2, "tried twice, taken once, never again"
    assert box.states() == [(NEW_STORY, "sent")]
    body = json.loads(hits[1].body)
    assert {"version", "title", "message", "type"} <= set(body), "Apprise's own JSON format"
    assert body["title"] == "monitor: new story in bridge"
    assert "Port Alder bridge closed" in body["message"] and "https://news.example/2" in body["message"]


# -- Retry-After: a webhook that says when -----------------------------------------------------------------------


def hook_rule(server: FixtureServer) -> AlertRule:
    return AlertRule("hook", on=(NEW_STORY,), notify=server.url("/hook").replace("http://", "json://"))


@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_a_webhook_answering_429_with_retry_after_gets_the_alert_once_and_not_before_it_asked(
        form: str, server: FixtureServer, outbox: Any) -> None:
    box = outbox(hook_rule(server))
    wait = timedelta(seconds=120)

    def answer(seen: Seen) -> Reply:  # the date is written when the receiver answers, on the sender's clock
        if len(server.requests_to("/hook")) > 1:
            return Reply(200, b"ok")
        asked = "120" if form == "seconds" else format_datetime(box.now[0] + wait, usegmt=True)
        return Reply(429, b"slow down", {"Retry-After": asked})

    server.routes["/hook"] = answer
    new_story_in(box)
    failed_at = box.now[0]
    await box.send()
    [failed] = box.store.recent_alerts()
    assert (failed.state, failed.attempts, failed.next_attempt) == ("pending", 1, failed_at + wait)
    assert failed.answer is not None and "error=429" in failed.answer and "Retry-After: " in failed.answer

    await box.send(after=timedelta(seconds=30))  # our own backoff retries a first failure within 30 s
    await box.send(after=timedelta(seconds=89))  # 119 s after the 429
    assert len(server.requests_to("/hook")) == 1, "not before the receiver asked"
    await box.send(after=timedelta(seconds=1))
    await box.send(after=timedelta(hours=2))
    hits = server.requests_to("/hook")
    assert len(hits) == 2, "tried twice, taken once, never again"
    assert box.states() == [(NEW_STORY, "sent")]
    assert json.loads(hits[1].body)["title"] == "monitor: new story in bridge"


@pytest.mark.parametrize(
    ("header", "least", "most"),
    [
        ("soon", 15, 30),  # garbage: our backoff, 30 s jittered over its upper half
        ("Fri, 99 Mar 2024 12:00:00 GMT", 15, 30),
        ("31536000", 86400, 86400),  # a year: capped at a day
        ("0", 15, 15),  # "now": not sooner than our shortest wait
    ],
)
async def test_a_garbage_retry_after_falls_back_to_our_backoff_and_an_absurd_one_is_capped(
        header: str, least: int, most: int, server: FixtureServer, outbox: Any) -> None:
    server.routes["/hook"] = Reply(503, b"", {"Retry-After": header})
    box = outbox(hook_rule(server))
    new_story_in(box)
    failed_at = box.now[0]
    await box.send()
    [failed] = box.store.recent_alerts()
    assert failed.next_attempt is not None and failed.answer is not None and "error=503" in failed.answer
    assert timedelta(seconds=least) <= failed.next_attempt - failed_at <= timedelta(seconds=most)
    server.routes["/hook"] = Reply(200, b"ok")
    await box.send(after=failed.next_attempt - failed_at)
    assert box.states() == [(NEW_STORY, "sent")] and len(server.requests_to("/hook")) == 2


def test_the_webhook_sends_the_request_apprise_sends(server: FixtureServer) -> None:
    """Same URL, same alert: once through Apprise, once through our own sender; the receiver sees the same body,
    path, query and headers (user:password, a `+Header`, a `-param`, `:field` added and dropped)."""
    server.routes["/hook"] = Reply(200, b"ok")
    place = server.url("/hook").removeprefix("http://")
    url = f"json://someone:pa55-word@{place}?+X-Token=abc123&-key=v1&:extra=more&:attachments="
    rule = AlertRule("hook", on=(NEW_STORY,), notify=url)
    alert = sample(rule, ["bridge · pont"], T0)
    ours = channel_for(rule, "feeds.toml")
    assert isinstance(ours, WebhookChannel)
    assert AppriseChannel(url).send(alert).delivered and ours.send(alert).delivered
    by_apprise, by_us = server.requests_to("/hook")
    assert by_us.body == by_apprise.body, "byte for byte"
    assert json.loads(by_us.body)["extra"] == "more" and "attachments" not in json.loads(by_us.body)
    assert (by_us.method, by_us.query) == (by_apprise.method, by_apprise.query) == ("POST", {"key": ["v1"]})
    same = ("content-type", "authorization", "x-token", "user-agent")
    assert {h: by_us.headers.get(h) for h in same} == {h: by_apprise.headers.get(h) for h in same}
    assert by_us.headers["x-token"] == "abc123" and by_us.headers["content-type"] == "application/json"


# -- mailto:// to an SMTP server ---------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as probe:  # aiosmtpd's controller needs a port it can connect back to
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


async def test_mailto_delivers_the_story_as_an_email(smtp: tuple[Mailbox, int], outbox: Any) -> None:
    mailbox, port = smtp
    url = f"mailto://127.0.0.1:{port}?from=monitor@example.org&to=me@example.org&mode=insecure"
    box = outbox(AlertRule("mail", on=(NEW_STORY,), notify=url))
    new_story_in(box)
    await box.send()
    assert box.states() == [(NEW_STORY, "sent")]
    [message] = mailbox.messages
    assert message["Subject"] == "monitor: new story in bridge" and message["To"] == "me@example.org"
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode()
    assert "Port Alder bridge closed" in body and "3 posts" in body and "https://news.example/1" in body


# -- exec: a command reading the alert on stdin ----------------------------------------------------------

WRITE_STDIN = "import os, sys; open(sys.argv[1], 'ab').write(sys.stdin.buffer.read() + b'\\n')"


async def test_a_command_reads_the_alert_as_json_on_stdin(tmp_path: Path, outbox: Any) -> None:
    got = tmp_path / "got.jsonl"
    box = outbox(AlertRule("script", on=(NEW_STORY,), exec=(sys.executable, "-c", WRITE_STDIN, str(got))))
    new_story_in(box)
    await box.send()
    [alert] = [json.loads(line) for line in got.read_text().splitlines()]
    assert alert["event"] == NEW_STORY and alert["topic"] == "bridge"
    assert set(alert["story"]) >= {"id", "label", "size", "first_seen", "last_seen", "velocity", "spike"}
    assert alert["story"]["size"] == 3
    assert [set(p) >= {"id", "source", "author", "url", "text", "published"} for p in alert["posts"]] == [True] * 3
    assert box.states() == [(NEW_STORY, "sent")]


async def test_a_failing_command_is_retried_and_says_why(tmp_path: Path, outbox: Any) -> None:
    fail = "import sys; sys.stderr.write('no route to the phone\\n'); sys.exit(3)"
    box = outbox(AlertRule("script", on=(NEW_STORY,), exec=(sys.executable, "-c", fail)))
    new_story_in(box)
    await box.send()
    [alert] = box.store.recent_alerts()
    assert alert.state == "pending" and alert.attempts == 1
    assert alert.answer == "exec " + sys.executable + ": exit 3: no route to the phone"


# -- 1,000 matches in a minute -----------------------------------------------------------------------------


async def test_a_thousand_matches_in_a_minute_send_twenty_alerts_and_a_digest(server: FixtureServer,
                                                                                 outbox: Any) -> None:
    server.routes["/hook"] = Reply(200, b"ok")
    rule = AlertRule("every-post", on=(MATCH,), max_per_hour=20,
                     notify=server.url("/hook").replace("http://", "json://"))
    box = outbox(rule)
    for second in range(0, 60, 6):  # ten polls of a hundred posts within one minute, the sender between them
        box.now[0] = T0 + timedelta(seconds=second)
        box.poll([report(second * 100 + i, box.now[0]) for i in range(100)])
        await box.send()
    assert len(server.requests_to("/hook")) == 20
    await box.send(after=DIGEST_AFTER)
    await box.send(after=timedelta(hours=3))

    titles = [json.loads(s.body)["title"] for s in server.requests_to("/hook")]
    assert titles == ["monitor: new post in bridge"] * 20 + ["monitor: 980 more alerts in bridge"]
    states = box.states()
    assert states.count((MATCH, "sent")) == 20 and states.count((MATCH, "digested")) == 980
    assert states[-1] == (DIGEST, "sent")
