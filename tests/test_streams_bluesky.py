"""bluesky-stream over a real WebSocket: a local Jetstream replays the recorded Bluesky posts as
frames in Jetstream's shape (with deletes, likes, identity and account events, malformed and
oversize frames), and the daemon keeps only what matches, once, whatever the connection does."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.sources.bluesky_stream import MAX_FRAME, REWIND_US
from monitor.streams.wire import HARD_LIMIT_FACTOR
from storage.types import StreamStatus
from tests.support import jetstream as js
from tests.support.inprocess import run_cli
from tests.support.server import FixtureServer
from tests.support.streams import FAST, profiles_route, stream_world, until

_ = stream_world  # the fixture
T0 = 1_747_670_000_000_000  # a time_us: 2025-05-19, when the recorded search was made
STEP = 1_000_000  # one frame a second, so the 5 s rewind spans several frames
WORD = re.compile(r"\bredistricting\b", re.IGNORECASE)


def feeds(jet: js.Jetstream, server: FixtureServer) -> str:
    return f"""
[[topics]]
name = "redistricting"
keywords = ["redistricting"]

[[feeds]]
name = "bsky-live"
type = "bluesky-stream"
base_url = "{jet.url}"
profiles_url = "{server.base}"
"""


def mixed_frames(views: list[dict[str, Any]]) -> list[js.Sent]:
    """Each recorded post as its create commit; between them the other events a stream carries."""
    frames: list[js.Sent] = []
    at = T0
    for i, view in enumerate(views):
        frames.append(js.post_frame(view, at))
        did = view["author"]["did"]
        extra = [
            js.like_frame(did, view["uri"], at + 1),
            js.delete_frame(f"at://{did}/app.bsky.feed.post/gone{i}", at + 2),
            js.identity_frame(did, view["author"]["handle"], at + 3) if i % 7 == 0 else None,
            js.account_frame(did, at + 4) if i % 11 == 0 else None,
            js.Sent(at + 5, js.MALFORMED[i % len(js.MALFORMED)]) if i % 5 == 0 else None,
        ]
        frames += [f for f in extra if f is not None]
        at += STEP
    return frames


def matching(views: list[dict[str, Any]]) -> set[str]:
    return {v["uri"] for v in views if WORD.search(v["record"]["text"])}


async def test_matched_posts_are_stored_with_their_authors_and_the_rest_are_not(
    stream_world, server: FixtureServer, shared: Path
) -> None:
    views = js.recorded_views(shared)
    server.routes["/xrpc/app.bsky.actor.getProfiles"] = profiles_route(views)
    frames = mixed_frames(views)
    with js.Jetstream(frames) as jet:
        w = stream_world(feeds(jet, server))
        await w.start()
        stream = w.stream("bsky-live")
        last = max(f.time_us for f in frames if f.data not in js.MALFORMED)  # malformed frames say no time
        await until(lambda: w.store.feed_state("bsky-live").cursor.get("time_us") == str(last), "the last cursor")
        await w.stop()

    wanted = matching(views)
    assert 10 < len(wanted) < len(views) - 10, "the recording holds posts on the topic and posts off it"
    stored = w.stored()
    assert set(stored) == wanted
    by_uri = {v["uri"]: v for v in views}
    for uri, post in stored.items():
        view = by_uri[uri]
        did, rkey = view["author"]["did"], uri.rsplit("/", 1)[1]
        assert post.url == f"https://bsky.app/profile/{did}/post/{rkey}"
        name = " ".join(view["author"].get("displayName", "").split())
        handle = view["author"]["handle"]
        assert post.author == (f"{name} (@{handle})" if name else f"@{handle}")
        assert post.kind == "bluesky" and post.lang == (view["record"].get("langs") or [""])[0]
    asked = {did for seen in server.requests_to("/xrpc/app.bsky.actor.getProfiles") for did in seen.query["actors"]}
    assert asked == {by_uri[uri]["author"]["did"] for uri in wanted}, "handles are looked up for kept posts only"
    assert stream.meter.malformed == sum(1 for f in frames if f.data in js.MALFORMED)
    assert stream.meter.frames == len(frames) and stream.meter.matched == len(wanted)
    state = w.store.feed_state("bsky-live")
    assert state.posts_matched == len(wanted) and state.posts_seen == len(views) and state.last_error is None


async def test_a_connection_closed_mid_stream_resumes_from_the_cursor_with_no_gap_and_no_duplicate(
    stream_world, server: FixtureServer, shared: Path
) -> None:
    views = js.recorded_views(shared)
    server.routes["/xrpc/app.bsky.actor.getProfiles"] = profiles_route(views)
    frames = [js.post_frame(v, T0 + i * STEP) for i, v in enumerate(views)]
    with js.Jetstream(frames, drops={0: 40, 1: 20}) as jet:
        w = stream_world(feeds(jet, server))
        await w.start()
        await until(lambda: w.store.feed_state("bsky-live").cursor.get("time_us") == str(frames[-1].time_us),
                    "the last cursor")
        await w.stop()

    assert len(jet.connections) == 3
    first, second, third = jet.connections
    assert "cursor" not in first.query
    assert int(second.query["cursor"]) == frames[39].time_us - REWIND_US
    assert int(third.query["cursor"]) == frames[34 + 20 - 1].time_us - REWIND_US
    assert second.query["wantedCollections"] == "app.bsky.feed.post"
    replayed = first.sent + second.sent + third.sent - len(frames)
    assert replayed == 2 * 6, "each reconnect replays the frames of the last five seconds"
    stored = w.store.posts()
    assert sorted(sp.post.id for sp in stored) == sorted(matching(views)), "no gap, no duplicate"
    assert w.store.feed_state("bsky-live").posts_matched == len(matching(views))


async def test_malformed_and_oversize_frames_are_skipped_with_a_count_and_the_stream_goes_on(
    stream_world, server: FixtureServer, shared: Path
) -> None:
    views = js.recorded_views(shared)
    server.routes["/xrpc/app.bsky.actor.getProfiles"] = profiles_route(views)
    half = len(views) // 2
    padded = dict(views[0], record=dict(views[0]["record"], text="redistricting " + "x" * (MAX_FRAME + 10)))
    giant = js.Sent(T0 + half * STEP, "{" + " " * (MAX_FRAME * HARD_LIMIT_FACTOR + 10) + "}", once=True)
    frames = [js.post_frame(v, T0 + i * STEP) for i, v in enumerate(views[:half])]
    frames.append(giant)  # ends the first connection: what follows is read once, after the reconnect
    frames += [js.Sent(T0 + half * STEP + 1 + k, bad) for k, bad in enumerate(js.MALFORMED)]
    frames.append(js.post_frame(padded, T0 + half * STEP + 10))
    frames += [js.post_frame(v, T0 + (half + 1 + i) * STEP) for i, v in enumerate(views[half:])]
    with js.Jetstream(frames, honour_size=False) as jet:
        w = stream_world(feeds(jet, server))
        await w.start()
        stream = w.stream("bsky-live")
        await until(lambda: w.store.feed_state("bsky-live").cursor.get("time_us") == str(frames[-1].time_us),
                    "the last cursor")
        await until(lambda: any(s.oversize for s in w.store.streams()), "the status to count it")
        run_cli("status", "--config", str(w.config_path))  # reads while the stream runs: never in its way
        await w.stop()

    assert set(w.stored()) == matching(views), "every post after the bad frames is stored"
    assert stream.meter.oversize == 1, "the padded post is skipped, counted, and not stored"
    assert stream.meter.malformed == len(js.MALFORMED)
    assert len(jet.connections) == 2, "the frame over the hard limit ends the connection; the stream reconnects"
    assert w.store.streams()[0].oversize == 1


async def test_an_idle_stream_is_connected_again_from_its_cursor(
    stream_world, server: FixtureServer, shared: Path
) -> None:
    views = js.recorded_views(shared)[:10]
    server.routes["/xrpc/app.bsky.actor.getProfiles"] = profiles_route(views)
    frames = [js.post_frame(v, T0 + i * STEP) for i, v in enumerate(views)]
    with js.Jetstream(frames) as jet:
        w = stream_world(feeds(jet, server), settings=replace(FAST, idle=0.5))
        await w.start()
        await until(lambda: len(jet.connections) >= 2, "a second connection after the stream went quiet")
        await w.stop()
    assert int(jet.connections[1].query["cursor"]) == frames[-1].time_us - REWIND_US


async def test_a_restart_resumes_from_the_stored_cursor_minus_a_few_seconds(
    stream_world, server: FixtureServer, shared: Path
) -> None:
    views = js.recorded_views(shared)
    server.routes["/xrpc/app.bsky.actor.getProfiles"] = profiles_route(views)
    frames = [js.post_frame(v, T0 + i * STEP) for i, v in enumerate(views)]
    half = len(frames) // 2
    with js.Jetstream(frames[:half]) as jet:
        first = stream_world(feeds(jet, server))
        await first.start()
        await until(lambda: first.store.feed_state("bsky-live").cursor.get("time_us") == str(frames[half - 1].time_us),
                    "the first half stored")
        await first.stop()
        first.store.close()
        jet.add(frames[half:])
        second = stream_world(feeds(jet, server))
        await second.start()
        await until(lambda: second.store.feed_state("bsky-live").cursor.get("time_us") == str(frames[-1].time_us),
                    "the second half stored")
        await second.stop()
    assert int(jet.connections[1].query["cursor"]) == frames[half - 1].time_us - REWIND_US
    assert sorted(sp.post.id for sp in second.store.posts()) == sorted(matching(views))


def test_status_shows_each_stream(tmp_path: Path) -> None:
    """`monitor status` from what the daemon reported: connected since, frames/s, matched/s, lag."""
    from storage.store import open_store
    from storage.types import StreamStatus

    config = tmp_path / "feeds.toml"
    config.write_text('[[topics]]\nname = "t"\nkeywords = ["a"]\n[[feeds]]\nname = "live"\ntype = "bluesky-stream"\n')
    now = datetime.now(UTC)
    with open_store(f"sqlite:///{tmp_path / 'monitor.db'}") as store:
        store.heartbeat(now)
        store.save_streams([StreamStatus("live", now, connected_since=now, frames=5000, matched=12, frames_per_s=812.5,
                                         matched_per_s=1.5, lag=0.8, malformed=3, oversize=1, reconnects=2)])
    code, out, err = run_cli("status", "--config", str(config))
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith("stream live"))
    assert "connected since" in line and "812.5 frames/s" in line and "1.5 matched/s" in line
    assert "lag 0.8 s" in line and "3 malformed" in line and "1 oversize" in line
    code, out, err = run_cli("status", "--json", "--config", str(config))
    stream = json.loads(out)["streams"][0]
    assert stream["name"] == "live" and stream["frames_per_s"] == 812.5 and stream["cursor_lag_s"] == 0.8


async def test_a_slow_store_fills_a_bounded_backlog_pauses_the_stream_and_loses_no_matched_post(
    stream_world, server: FixtureServer, shared: Path
) -> None:
    views = js.recorded_views(shared)
    server.routes["/xrpc/app.bsky.actor.getProfiles"] = profiles_route(views)
    frames = [js.post_frame(v, T0 + i * STEP) for i, v in enumerate(views)]
    with js.Jetstream(frames) as jet:
        settings = replace(FAST, backlog=4, batch=4, idle=0.3)
        w = stream_world(feeds(jet, server), settings=settings)
        gate = asyncio.Event()
        write = w.daemon.streams.lent.write

        async def slow(fn: Callable[..., Any], *args: object, **kwargs: object) -> Any:
            if getattr(fn, "__name__", "") == "_store":  # the stream's batches wait; state and status do not
                await gate.wait()
            return await write(fn, *args, **kwargs)

        w.daemon.streams.lent = replace(w.daemon.streams.lent, write=slow)
        await w.start()
        stream = w.stream("bsky-live")
        await until(lambda: any(s.queue_full for s in w.store.streams()), "status to say the queue is full")
        held = stream.meter.matched
        assert 4 < held <= 4 + 4, "at most a batch in the store's hands and a full backlog: nothing more read"
        assert stream.meter.frames < len(frames)
        since, paused = stream.meter.connected_since, datetime.now(UTC)
        # A paused reader outlives three idle deadlines without being taken for a dead stream: what the
        # daemon reports once they have passed still says connected since the same moment, queue full.
        later = paused + timedelta(seconds=3 * settings.idle)

        def reported() -> StreamStatus | None:
            return next((s for s in w.store.streams() if s.name == "bsky-live" and s.updated > later), None)

        await until(lambda: reported() is not None, "a status reported three idle deadlines into the pause")
        status = reported()
        assert status is not None and status.queue_full and status.connected_since == since is not None
        assert stream.meter.connected_since == since, "a paused reader is not an idle stream"
        w.daemon.store.heartbeat(datetime.now(UTC))
        code, out, _ = run_cli("status", "--config", str(w.config_path))
        assert code == 0 and "queue full: 4 matched posts wait for the store, reading paused" in out
        gate.set()
        await until(lambda: w.store.feed_state("bsky-live").cursor.get("time_us") == str(frames[-1].time_us),
                    "the last cursor")
        await w.stop()
    assert set(w.stored()) == matching(views), "every matched post stored once the store caught up"


def test_the_readmes_three_lines_watch_bluesky_live(tmp_path: Path) -> None:
    from monitor.config import parse
    from monitor.sources.base import PollContext
    from monitor.sources.bluesky_stream import connect
    from tests.support.cli import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"To watch Bluesky live for your topics, three lines:\s*```toml\n(.*?)```", readme, re.DOTALL)
    assert block, "the README's three lines are gone"
    lines = block.group(1).strip().splitlines()
    assert len(lines) == 3
    config = parse('[[topics]]\nname = "t"\nkeywords = ["volcano"]\n' + block.group(1), tmp_path / "feeds.toml")
    feed = config.feeds[0]
    assert feed.type == "bluesky-stream"
    request = connect(PollContext(feed.name, feed.options))
    assert request.url.startswith("wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post")


async def test_a_stream_that_cannot_connect_records_the_error_and_keeps_trying(stream_world) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    w = stream_world(f"""
[[topics]]
name = "t"
keywords = ["volcano"]

[[feeds]]
name = "bsky-live"
type = "bluesky-stream"
base_url = "ws://127.0.0.1:{port}"
""")
    await w.start()
    await until(lambda: w.store.feed_state("bsky-live").error_count >= 2, "two failed tries recorded")
    state = w.store.feed_state("bsky-live")
    assert state.last_error == "connection refused" and state.next_check is None
    code, out, _ = run_cli("status", "--config", str(w.config_path))
    assert code == 0 and re.search(r"failing\s+bsky-live .*connection refused", out)
    await w.stop()


async def test_an_edited_feeds_toml_starts_and_stops_streams_without_a_restart(
    stream_world, server: FixtureServer, shared: Path
) -> None:
    views = js.recorded_views(shared)
    server.routes["/xrpc/app.bsky.actor.getProfiles"] = profiles_route(views)
    frames = [js.post_frame(v, T0 + i * STEP) for i, v in enumerate(views)]
    with js.Jetstream(frames) as jet:
        w = stream_world(feeds(jet, server))
        await w.start()
        await until(lambda: w.store.feed_state("bsky-live").cursor.get("time_us") == str(frames[-1].time_us),
                    "the first stream read")
        w.config_path.write_text(feeds(jet, server).replace('name = "bsky-live"', 'name = "bsky-renamed"'))
        await w.start()  # the next tick reads the edit
        assert set(w.daemon.streams.streams) == {"bsky-renamed"}
        await until(lambda: w.store.feed_state("bsky-renamed").cursor.get("time_us") == str(frames[-1].time_us),
                    "the renamed stream read")
        await w.stop()
    assert [c.query.get("cursor") for c in jet.connections] == [None, None], "a new feed starts from now"
    assert {sp.post.source for sp in w.store.posts()} == {"bsky-live", "bsky-renamed"}
