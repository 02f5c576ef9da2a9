"""The pure parts of live streams: frames read, events decoded, the backlog, the meter, reconnect delays."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.schedule import MAX_RECONNECT, reconnect_delay
from monitor.sources import bluesky_stream, mastodon_stream
from monitor.sources.base import PollContext, Response
from monitor.sources.sse import EventDecoder
from monitor.streams.backlog import Backlog
from monitor.streams.meter import Meter
from storage.types import Post

CTX = PollContext("live", {})
DID = "did:plc:abc123"


def commit(record: object, **extra: object) -> str:
    body = {"rev": "r", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "3k", "record": record}
    return json.dumps({"did": DID, "time_us": 1_700_000_000_000_000, "kind": "commit", "commit": {**body, **extra}})


def test_a_post_commit_is_a_post_with_its_url_text_links_and_language() -> None:
    record = {
        "$type": "app.bsky.feed.post", "createdAt": "2025-05-19T17:10:09.561Z", "langs": ["en", "de"],
        "text": "Maps in court: fair.ly/x \x1b[31mnow",
        "facets": [{"index": {"byteStart": 15, "byteEnd": 24},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://fair.example/maps"}]}],
        "embed": {"$type": "app.bsky.embed.record", "record": {"uri": "at://did:plc:q/app.bsky.feed.post/9z"}},
    }
    frame = bluesky_stream.read(CTX, commit(record), "")
    assert frame.kind == "post" and frame.position == "1700000000000000"
    assert frame.at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    post = frame.post
    assert post is not None
    assert post.id == f"at://{DID}/app.bsky.feed.post/3k" and post.author == DID
    assert post.url == f"https://bsky.app/profile/{DID}/post/3k"
    assert post.text == "Maps in court: https://fair.example/maps now\n\nhttps://bsky.app/profile/did:plc:q/post/9z"
    assert post.lang == "en" and post.source == "live" and post.kind == "bluesky"


@pytest.mark.parametrize("data", [
    "{", "[]", '"text"', json.dumps({"time_us": 5, "kind": "commit"}), json.dumps({"did": DID, "time_us": True}),
    json.dumps({"did": DID, "time_us": -1}), commit("not a record"), commit({"text": "no date"}),
    commit({"text": 5, "createdAt": "2025-05-19T17:10:09Z"}), commit({"text": "x", "createdAt": "yesterday"}),
    b"\xff\xfe",
])
def test_anything_else_is_malformed_and_never_raises(data: str | bytes) -> None:
    assert bluesky_stream.read(CTX, data, "").kind == "malformed"


def test_deletes_likes_identity_and_account_events_are_not_posts() -> None:
    def event(**fields: object) -> str:
        return json.dumps({"did": DID, "time_us": 7, **fields})

    delete = {"rev": "r", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": "3k"}
    like = {"operation": "create", "collection": "app.bsky.feed.like", "rkey": "l", "record": {}}
    assert bluesky_stream.read(CTX, event(kind="commit", commit=delete), "").kind == "delete"
    assert bluesky_stream.read(CTX, event(kind="commit", commit=like), "").kind == "other"
    identity = bluesky_stream.read(CTX, event(kind="identity", identity={"handle": "new.example"}), "")
    assert (identity.kind, identity.actor, identity.position) == ("identity", DID, "7")
    assert bluesky_stream.read(CTX, event(kind="account", account={"active": False}), "").kind == "other"


def test_jetstream_resumes_a_few_seconds_before_the_stored_cursor() -> None:
    fresh = bluesky_stream.connect(PollContext("f", {}))
    assert fresh.url == ("wss://jetstream2.us-east.bsky.network/subscribe"
                         "?wantedCollections=app.bsky.feed.post&maxMessageSizeBytes=65536")
    again = bluesky_stream.connect(PollContext("f", {"base_url": "https://js.example/"}, cursor={"time_us": "9000000"}))
    assert again.url.startswith("wss://js.example/subscribe?") and again.url.endswith("&cursor=4000000")


def test_profiles_are_asked_for_in_batches_and_read_as_authors() -> None:
    request = bluesky_stream.profiles_request({}, [f"did:plc:{i}" for i in range(30)])
    assert request.url.startswith("https://public.api.bsky.app/xrpc/app.bsky.actor.getProfiles?actors=did%3Aplc%3A0&")
    assert request.url.count("actors=") == 25
    body = {"profiles": [{"did": "did:plc:1", "handle": "a.example", "displayName": "A \u202eB"},
                         {"did": "did:plc:2", "handle": "handle.invalid"}, {"did": "did:plc:3", "handle": "c.example"}]}
    found = bluesky_stream.authors(Response("u", 200, {}, json.dumps(body).encode()))
    assert found == {"did:plc:1": "A B (@a.example)", "did:plc:3": "@c.example"}
    assert bluesky_stream.authors(Response("u", 200, {}, b"<html>")) == {}


def test_mastodon_events_read_as_the_polled_kind_reads_statuses() -> None:
    status = {"id": "111", "created_at": "2025-01-01T10:00:00Z", "url": "https://m.example/@a/111",
              "content": "<p>Flood <b>warning</b></p>", "account": {"acct": "a@m.example", "display_name": "A"}}
    frame = mastodon_stream.read(CTX, json.dumps(status), "update")
    assert frame.kind == "post" and frame.position == "111" and frame.post is not None
    assert frame.post.text == "Flood warning" and frame.post.author == "A (@a@m.example)"
    boost = {**status, "id": "222", "reblog": {**status, "id": "99"}}
    assert mastodon_stream.read(CTX, json.dumps(boost), "update").post.id == "99"  # type: ignore[union-attr]
    assert mastodon_stream.read(CTX, "{", "update").kind == "malformed"
    assert mastodon_stream.read(CTX, "123", "delete").kind == "delete"
    assert mastodon_stream.read(CTX, json.dumps(status), "status.update").kind == "other"


def test_mastodon_streams_a_hashtag_or_a_public_timeline_with_its_token() -> None:
    tag = mastodon_stream.connect(PollContext("f", {"hashtag": "#Flood", "base_url": "https://m.example"},
                                              secrets={"token": "tok"}))
    assert (tag.url, dict(tag.params)) == ("https://m.example/api/v1/streaming/hashtag", {"tag": "Flood"})
    assert tag.headers["Authorization"] == "Bearer tok" and tag.headers["Accept"] == "text/event-stream"
    local = mastodon_stream.connect(PollContext("f", {"timeline": "local", "streaming_url": "https://s.example"}))
    assert local.url == "https://s.example/api/v1/streaming/public/local" and "Authorization" not in local.headers
    gap = mastodon_stream.first_request(PollContext("f", {"timeline": "local"}, cursor={"since_id": "5"}))
    assert gap.url.endswith("/api/v1/timelines/public") and gap.params["since_id"] == "5" and gap.params["local"]


def test_server_sent_events_split_anywhere_and_an_oversize_event_is_skipped_whole() -> None:
    wire = b":)\nevent: update\ndata: {\"a\"\r\ndata: :1}\n\n: thump\r\nevent: delete\rdata: 12\r\n\r\n"
    decoder = EventDecoder(64)
    events = [e for i in range(len(wire)) for e in decoder.feed(wire[i : i + 1])]  # one byte at a time
    assert [(e.name, e.data) for e in events] == [("update", '{"a"\n:1}'), ("delete", "12")]
    decoder = EventDecoder(64)
    big = decoder.feed(b"event: update\ndata: " + b"x" * 100 + b"\n\ndata: ok\n\n")
    assert [(e.oversize, e.data) for e in big] == [(True, ""), (False, "ok")]
    endless = decoder.feed(b"data: " + b"y" * 500)
    assert endless == [] and len(decoder._pending) == 0, "a line without end is dropped as it comes"
    assert [(e.oversize, e.data) for e in decoder.feed(b"yyy\n\ndata: next\n\n")] == [(True, ""), (False, "next")]


def post(n: int) -> Post:
    return Post(str(n), "live", "a", "u", "t", datetime(2025, 1, 1, tzinfo=UTC))


def test_the_backlog_holds_matched_posts_only_bounded_and_gives_a_cursor_that_never_skips_one() -> None:
    backlog = Backlog(capacity=3)
    for position in ("10", "11", "12"):
        backlog.read(position)  # unmatched frames take no place
    assert len(backlog) == 0 and backlog.position == "12"
    backlog.add(post(1))
    backlog.read("13")
    backlog.add(post(2))
    backlog.read("14")
    backlog.add(post(3))
    assert backlog.full
    taken, cursor = backlog.take(2)
    assert [w.post.id for w in taken] == ["1", "2"] and cursor == "13", "post 3 still waits: not past it"
    backlog.put_back(taken)
    taken, cursor = backlog.take(10)
    assert [w.post.id for w in taken] == ["1", "2", "3"] and cursor == "14" and not backlog
    backlog.read("9")
    assert backlog.position == "14", "an older id never moves the cursor back"


def test_the_meter_gives_rates_over_the_last_seconds_and_the_lag_of_the_last_frames() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    meter = Meter("live")
    meter.connected(now)
    meter.status(now, 100.0)
    meter.frames, meter.matched, meter.last_sent = 500, 5, now - timedelta(seconds=2)
    status = meter.status(now + timedelta(seconds=5), 105.0, backlog=3, full=False)
    assert (status.frames_per_s, status.matched_per_s, status.lag) == (100.0, 1.0, 7.0)
    assert status.connected_since == now and status.backlog == 3
    quiet = meter.status(now + timedelta(seconds=60), 160.0)
    assert quiet.lag == 7.0 and quiet.frames_per_s == 0.0, "a quiet stream keeps the lag it was read with"
    meter.disconnected()
    meter.connected(now)
    assert meter.reconnects == 1


def test_reconnects_come_soon_after_a_drop_then_back_off_with_jitter_to_a_ceiling() -> None:
    rng = random.Random(3)
    drops = [reconnect_delay(0, rng=rng) for _ in range(200)]
    assert min(drops) >= 0 and max(drops) <= 1.0 and len(set(drops)) == 200
    assert 0.5 <= reconnect_delay(1, rng=rng) <= 1.0
    assert 4.0 <= reconnect_delay(4, rng=rng) <= 8.0
    assert MAX_RECONNECT / 2 <= reconnect_delay(40, rng=rng) <= MAX_RECONNECT
    assert MAX_RECONNECT / 2 <= reconnect_delay(1, permanent=True, rng=rng) <= MAX_RECONNECT
    assert reconnect_delay(1, retry_after=900, rng=rng) == 900
