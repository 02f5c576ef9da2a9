"""The daemon over a real socket: polite polling, and bad feeds never stop the good ones."""

from __future__ import annotations

import threading
from datetime import timedelta
from email.utils import format_datetime

from tests.support import daemon_world
from tests.support.feeds import T0, rss
from tests.support.server import FixtureServer, Reply, Seen

world = daemon_world.world  # the fixture, shared with test_daemon_social

GOOD = rss([(f"g{i}", f"Volcano near Grindavik erupts, update {i}") for i in range(3)] + [("g-x", "Bakery news")])


async def test_a_good_feed_is_stored_once_and_polled_again_when_due(world, server: FixtureServer) -> None:
    server.routes["/good"] = Reply(200, GOOD, {"Content-Type": "application/rss+xml"})
    w = world({"good": "/good"})
    await w.poll_due()
    posts = w.store.posts()
    assert sorted(p.post.id for p in posts) == ["g0", "g1", "g2"]
    assert all(p.topics == ("volcano",) for p in posts)
    state = w.state("good")
    assert state.last_status == 200 and state.last_error is None
    assert timedelta(minutes=4.5) <= state.next_check - T0 <= timedelta(minutes=5.5)

    await w.poll_due()  # not due yet: nothing asked
    assert len(server.requests_to("/good")) == 1
    w.advance(6 * 60)
    await w.poll_due()
    assert len(server.requests_to("/good")) == 2
    assert len(w.store.posts()) == 3, "a re-poll never duplicates"


async def test_304_keeps_validators_and_a_changed_feed_refreshes_them(world, server: FixtureServer) -> None:
    etag = ['"v1"']

    def conditional(seen: Seen) -> Reply:
        if seen.headers.get("if-none-match") == etag[0]:
            return Reply(304, b"", {"ETag": etag[0]})
        items = [("a", "Volcano one")] if etag[0] == '"v1"' else [("a", "Volcano one"), ("b", "Volcano two")]
        return Reply(200, rss(items), {"ETag": etag[0], "Last-Modified": format_datetime(T0, usegmt=True)})

    server.routes["/c"] = conditional
    w = world({"c": "/c"})
    await w.poll_due()
    assert w.state("c").etag == '"v1"'
    w.advance(600)
    await w.poll_due()
    second = server.requests_to("/c")[-1]
    assert second.headers["if-none-match"] == '"v1"'
    assert second.headers["if-modified-since"] == format_datetime(T0, usegmt=True)
    state = w.state("c")
    assert (state.last_status, state.last_error, state.etag) == (304, None, '"v1"')

    etag[0] = '"v2"'
    w.advance(600)
    await w.poll_due()
    assert w.state("c").etag == '"v2"'
    assert sorted(p.post.id for p in w.store.posts()) == ["a", "b"]


async def test_an_unchanged_body_is_not_parsed_again(world, server: FixtureServer) -> None:
    server.routes["/same"] = Reply(200, rss([("a", "Volcano one")]))  # ignores conditional GET
    w = world({"same": "/same"})
    await w.poll_due()
    first_hash = w.state("same").body_hash
    w.advance(600)
    await w.poll_due()
    state = w.state("same")
    assert state.body_hash == first_hash and state.posts_seen == 1, "the second, identical body gave no posts"


async def test_retry_after_in_seconds_and_as_a_date(world, server: FixtureServer) -> None:
    server.routes["/429"] = Reply(429, b"slow down", {"Retry-After": "7200"})
    later = T0 + timedelta(hours=5)
    server.routes["/503"] = Reply(503, b"busy", {"Retry-After": format_datetime(later, usegmt=True)})
    w = world({"r429": "/429", "r503": "/503"})
    await w.poll_due()
    assert w.state("r429").next_check >= T0 + timedelta(seconds=7200)
    assert w.state("r503").next_check >= later
    assert "429" in (w.state("r429").last_error or "")
    w.advance(3600)
    await w.poll_due()
    assert len(server.requests_to("/429")) == 1, "not asked again before Retry-After"


async def test_backoff_grows_while_failing_and_resets_on_success(world, server: FixtureServer) -> None:
    failing = [True]
    server.routes["/flaky"] = lambda seen: Reply(500, b"oops") if failing[0] else Reply(200, rss([("a", "Volcano")]))
    w = world({"flaky": "/flaky"})
    delays = []
    for _ in range(5):
        await w.poll_due()
        state = w.state("flaky")
        delays.append((state.next_check - w.now[0]).total_seconds())
        w.now[0] = state.next_check
    assert w.state("flaky").error_count == 5
    assert delays[0] < delays[2] < delays[4], delays
    failing[0] = False
    await w.poll_due()
    state = w.state("flaky")
    assert state.error_count == 0 and state.last_error is None
    assert (state.next_check - w.now[0]).total_seconds() <= 300 * 1.1


async def test_bad_feeds_record_their_error_and_the_good_one_keeps_going(world, server: FixtureServer) -> None:
    release = threading.Event()
    server.routes["/good"] = Reply(200, GOOD)
    server.routes["/moved"] = Reply(301, b"", {"Location": "/good-too"})
    server.routes["/good-too"] = Reply(200, rss([("m1", "Volcano moved here")]))
    server.routes["/loop"] = Reply(302, b"", {"Location": "/loop"})
    server.routes["/huge"] = Reply(200, b"<rss>" + b"x" * 200_000 + b"</rss>")
    server.routes["/bad-xml"] = Reply(200, b"<?xml version='1.0'?>\n<rss>\x00\x01<<volcano<<")
    server.routes["/html"] = Reply(200, b"<!doctype html><html><body><p>Volcano</p></body></html>",
                                   {"Content-Type": "text/html"})
    server.routes["/stall"] = lambda seen: (release.wait(5), Reply(200, GOOD))[1]
    server.routes["/gone"] = Reply(404, b"nope")
    w = world({"good": "/good", "moved": "/moved", "loop": "/loop", "huge": "/huge", "bad-xml": "/bad-xml",
               "html": "/html", "stall": "/stall", "gone": "/gone"})
    try:
        await w.poll_due()
    finally:
        release.set()
    errors = {name: w.state(name).last_error or "" for name in w.daemon.feeds}
    assert errors["good"] == "" and errors["moved"] == ""
    assert "redirect" in errors["loop"]
    assert "10 MB" in errors["huge"] or "larger" in errors["huge"] or "64" in errors["huge"]
    assert errors["bad-xml"] and errors["html"] and errors["gone"]
    assert "time" in errors["stall"].lower()
    for name in ("loop", "huge", "bad-xml", "html", "stall", "gone"):
        assert w.state(name).next_check > w.now[0], name
    assert sorted(p.post.id for p in w.store.posts()) == ["g0", "g1", "g2", "m1"]

    w.advance(6 * 60)
    await w.poll_due()
    assert len(server.requests_to("/good")) == 2, "the good feed is polled on time through it all"


async def _behind_a_busy_writer(w, names: list[str]) -> None:
    """Poll `names` while the writer is busy, so every poll waits for it; then let it go."""
    import asyncio

    from storage.types import FeedState

    gate = threading.Event()
    w.daemon._writer.submit(gate.wait, 30)
    polls = [asyncio.create_task(w.daemon.poll(w.daemon.feeds[name], FeedState(name))) for name in names]
    for _ in range(500):  # until every poll has fetched and queued its result (bounded)
        if len(w.daemon._waiting) == len(names):
            break
        await asyncio.sleep(0.01)
    assert len(w.daemon._waiting) == len(names)
    gate.set()
    await asyncio.gather(*polls)


async def test_polls_that_bring_no_post_store_their_states_in_one_transaction(world, server: FixtureServer) -> None:
    """issue 17: each unchanged feed's state was its own transaction; those waiting for the writer now
    go in together, and each poll's state is stored all the same."""
    server.routes["/empty"] = Reply(200, rss([]), {"Content-Type": "application/rss+xml"})
    names = [f"e{n}" for n in range(5)]
    w = world(dict.fromkeys(names, "/empty"))
    before = w.store.revision()
    await _behind_a_busy_writer(w, names)
    assert w.store.revision() == before + 1
    assert all((w.state(n).last_status, w.state(n).last_poll, w.state(n).last_error) == (200, T0, None) for n in names)
    assert w.daemon.tally.line() == "polled 5 feeds: 0 new posts, 0 new matches, 0 failing"


async def test_polls_waiting_for_the_writer_share_one_transaction_and_keep_their_own_counts(
    world, server: FixtureServer
) -> None:
    """issue 17: a cold start's 200 polls were 200 pipeline transactions; those that wait go in one."""
    server.routes["/a"] = Reply(200, rss([("a1", "Volcano near Grindavik erupts"), ("a2", "Volcano lava on the road")]))
    server.routes["/b"] = Reply(200, rss([("b1", "Volcano ash grounds flights"), ("b2", "Bakery news")]))
    server.routes["/c"] = Reply(200, rss([]))
    w = world({"a": "/a", "b": "/b", "c": "/c"})
    before = w.store.revision()
    await _behind_a_busy_writer(w, ["a", "b", "c"])
    assert w.store.revision() == before + 1
    assert sorted(p.post.id for p in w.store.posts()) == ["a1", "a2", "b1"]
    assert [(w.state(n).posts_seen, w.state(n).posts_matched) for n in "abc"] == [(2, 2), (2, 1), (0, 0)]
    assert w.daemon.tally.line() == "polled 3 feeds: 4 new posts, 3 new matches, 0 failing"


async def test_a_poll_that_cannot_be_stored_fails_alone_when_it_waited_with_others(
    world, server: FixtureServer, monkeypatch
) -> None:
    server.routes["/a"] = Reply(200, rss([("a1", "Volcano near Grindavik erupts")]))
    server.routes["/bad"] = Reply(200, rss([("x1", "Volcano eruption filmed from the air")]))
    server.routes["/b"] = Reply(200, rss([("b1", "Volcano ash grounds flights")]))
    w = world({"a": "/a", "bad": "/bad", "b": "/b"})
    store = w.daemon.pipeline.store
    write = store.write
    refused = ["bad"]

    def refusing(batch, now):  # the edge: a store that fails on this one feed's post, as a bug would
        if any(new.post.source in refused for new in batch.posts):
            raise RuntimeError("cannot adapt type")
        return write(batch, now)

    monkeypatch.setattr(store, "write", refusing)
    await _behind_a_busy_writer(w, ["a", "bad", "b"])
    stored = {p.post.id: p for p in w.store.posts()}
    assert sorted(stored) == ["a1", "b1"]
    sizes = {story.id: story.size for story in w.store.stories()}
    assert sizes == {post.story: 1 for post in stored.values()}, "a story counts only the posts stored in it"
    assert (w.state("a").posts_matched, w.state("b").posts_matched, w.state("bad").last_poll) == (1, 1, None)
    assert w.daemon.tally.line() == "polled 3 feeds: 2 new posts, 2 new matches, 1 failing (bad)"

    refused.clear()  # fixed: the next poll stores the post the failed one could not, as new
    await w.poll_due()
    assert w.store.posts(source="bad")[0].duplicate_of is None


async def test_the_last_poll_of_a_pass_stores_its_state_without_waiting_for_others(
    world, server: FixtureServer, monkeypatch
) -> None:
    """A poll waits GROUP_WAIT for others only while other polls still fetch."""
    import asyncio

    import monitor.daemon

    monkeypatch.setattr(monitor.daemon, "GROUP_WAIT", 3600.0)  # were it waited for, the pass would not end
    server.routes["/empty"] = Reply(200, rss([]), {"Content-Type": "application/rss+xml"})
    w = world({"e1": "/empty"})
    await asyncio.wait_for(w.daemon.run_once(), timeout=30)
    assert (w.state("e1").last_status, w.state("e1").last_poll) == (200, T0)


async def test_polls_that_end_while_others_fetch_are_stored_in_one_transaction(
    world, server: FixtureServer, monkeypatch
) -> None:
    """A burst of polls (a start, a tick) costs a few transactions, not one each: a poll with posts
    waits for the others still fetching, and the last to end stores them all."""
    import asyncio

    import monitor.daemon
    from storage.types import FeedState

    monkeypatch.setattr(monitor.daemon, "GROUP_WAIT", 3600.0)  # only the last poll's end releases the first
    server.routes["/a"] = Reply(200, rss([("a1", "Lava flows toward Grindavik")]))
    server.routes["/b"] = Reply(200, rss([("b1", "The volcano near Grindavik erupts again")]))
    w = world({"a": "/a", "b": "/b"})
    batches = []
    write = w.store.write
    monkeypatch.setattr(w.store, "write", lambda batch, now: batches.append(batch) or write(batch, now))
    w.daemon._fetching += 1  # the poll of b still fetches when a's ends
    first = asyncio.create_task(w.daemon.poll(w.daemon.feeds["a"], FeedState("a")))
    for _ in range(500):  # until a's poll waits for the writer (bounded)
        if w.daemon._waiting:
            break
        await asyncio.sleep(0.01)
    assert w.daemon._waiting and not batches, "a's posts wait for b's"
    w.daemon._fetching -= 1
    await asyncio.wait_for(w.daemon.poll(w.daemon.feeds["b"], FeedState("b")), timeout=30)
    await asyncio.wait_for(first, timeout=30)
    assert [sorted(p.post.id for p in batch.posts) for batch in batches] == [["a1", "b1"]]
    assert {w.state("a").last_status, w.state("b").last_status} == {200}


async def test_a_state_that_arrives_while_others_are_written_does_not_wait_for_the_pass_to_end(
    world, server: FixtureServer, monkeypatch
) -> None:
    """A no-post poll whose state came while the states before it were being written waited, unseen,
    until some later poll asked the writer again (at worst the next tick's)."""
    import asyncio

    import monitor.daemon
    from storage.types import FeedState

    monkeypatch.setattr(monitor.daemon, "GROUP_WAIT", 0.01)
    server.routes["/empty"] = Reply(200, rss([]))
    w = world({"first": "/empty", "late": "/empty"})
    writing, go_on = threading.Event(), threading.Event()
    write = w.store.write

    def held(batch, now):  # the edge: the first state's write takes a while
        writing.set()
        go_on.wait(30)
        return write(batch, now)

    monkeypatch.setattr(w.store, "write", held)

    def start(name: str) -> asyncio.Task[None]:
        return asyncio.create_task(w.daemon.poll(w.daemon.feeds[name], FeedState(name)))

    w.daemon._fetching += 1  # a poll of another feed is still fetching: no state is stored at once
    first = start("first")
    for _ in range(500):  # until the first state is being written (bounded)
        if writing.is_set():
            break
        await asyncio.sleep(0.01)
    late = start("late")
    for _ in range(500):  # until the late state waits for the writer (bounded)
        if w.daemon._waiting:
            break
        await asyncio.sleep(0.01)
    go_on.set()
    await asyncio.wait_for(asyncio.gather(first, late), timeout=30)  # the bound of a hang, not a timing
    assert w.state("late").last_poll == T0
    w.daemon._fetching -= 1


async def test_a_stop_lets_the_jobs_waiting_on_the_writer_end_instead_of_cancelling_them(
    world, server: FixtureServer, monkeypatch, caplog
) -> None:
    """APScheduler's shutdown cancels the jobs still running: a heartbeat (or tick) waiting on a busy
    writer when SIGTERM came ended in a CancelledError traceback on stderr."""
    import asyncio
    import logging
    from datetime import UTC, datetime

    server.routes["/good"] = Reply(200, rss([("g1", "ceasefire talks resume")]))
    w = world({"good": "/good"}, start=datetime.now(UTC))  # the scheduler counts its runs from the real time
    writing, go_on = threading.Event(), threading.Event()
    heartbeat = w.store.heartbeat

    def held(*args, **kwargs):  # the edge: the writer is busy with the first heartbeat
        writing.set()
        go_on.wait(30)
        return heartbeat(*args, **kwargs)

    monkeypatch.setattr(w.store, "heartbeat", held)
    stop = asyncio.Event()
    running = asyncio.create_task(w.daemon.run_until(stop))
    for _ in range(500):  # until the heartbeat holds the writer (bounded)
        if writing.is_set():
            break
        await asyncio.sleep(0.01)
    stop.set()
    for _ in range(500):  # until the daemon is stopping, the heartbeat still held (bounded)
        if w.daemon._stopping:
            break
        await asyncio.sleep(0.01)
    go_on.set()
    with caplog.at_level(logging.ERROR):
        await asyncio.wait_for(running, timeout=30)  # the bound of a hang, not a timing
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert w.daemon._jobs == set()
