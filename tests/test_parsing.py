"""Pages parsed in a forked process: the same posts as in a thread, the pipeline's own matches and
features worked out ahead (and taken only where they are its own), errors that reach the daemon as
they would from a thread, and a child that never outlives or stops its parent."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from monitor.config import Topic
from monitor.match import compile_topics
from monitor.parsing import PageParser, Parsed, Precomputed, spare_core
from monitor.pipeline import Pipeline
from monitor.pollerrors import FeedError
from monitor.sources.base import PollContext, Response
from monitor.textfeatures import Features, Featurizer
from storage.store import open_store
from storage.types import Post
from tests.support.feeds import T0, rss

pytestmark = pytest.mark.skipif(not spare_core(), reason="the parser forks only on Linux with a second core")

TOPICS = (Topic("volcano", keywords=("volcano", "lava")),)
ITEMS = [
    ("v1", "Lava reaches the road north of Grindavik as the volcano erupts again"),
    ("x1", "The bakery on the corner wins a prize for its sourdough"),
    ("v2", "Volcano: residents of Grindavik told to leave before the lava front arrives"),
]


def page(body: bytes) -> tuple[PollContext, Response]:
    ctx = PollContext("news", {"url": "http://127.0.0.1/feed.xml"}, now=T0)
    return ctx, Response("http://127.0.0.1/feed.xml", 200, {"content-type": "application/rss+xml"}, body)


@pytest.fixture
def forked() -> Iterator[PageParser]:
    parser = PageParser.forked()
    yield parser
    parser.close()


def parse(parser: PageParser, body: bytes, topics: tuple[Topic, ...] = TOPICS) -> Parsed:
    return asyncio.run(parser.parse("rss", *page(body), topics))


def test_the_child_gives_the_threads_posts_with_the_pipelines_matches_and_features(forked: PageParser) -> None:
    in_child = parse(forked, rss(ITEMS))
    in_thread = parse(PageParser(), rss(ITEMS))
    assert in_child.page == in_thread.page and len(in_child.page.posts) == 3
    assert in_thread.ahead is None, "a thread parser leaves the matching and features to the pipeline"
    assert in_child.ahead is not None
    posts = in_child.page.posts
    assert in_child.ahead.matches == tuple(map(compile_topics(TOPICS).match, posts))
    here = Featurizer()
    wanted = {(p.title, p.text): here(p) for p in posts if p.id in {"v1", "v2"}}
    assert in_child.ahead.features == wanted, "the same features, sketches and all (a fork keeps the hash salt)"


def test_topics_changed_by_a_reload_are_matched_from_the_next_page(forked: PageParser) -> None:
    bread = (Topic("bread", keywords=("sourdough",)),)
    bakery = parse(forked, rss(ITEMS), bread).ahead
    assert bakery is not None and bakery.topics == bread
    assert [bool(m) for m in bakery.matches] == [False, True, False]
    assert [text for _, text in bakery.features] == [ITEMS[1][1]]
    assert parse(forked, rss(ITEMS), ()).ahead is None, "no topics, nothing to work out"


def test_a_page_that_is_no_feed_fails_with_the_sources_own_error(forked: PageParser) -> None:
    with pytest.raises(FeedError) as failed:
        parse(forked, b"<html><body>Service unavailable</body></html>")
    assert failed.value.args == parse_error_in_thread()


def parse_error_in_thread() -> tuple[object, ...]:
    with pytest.raises(FeedError) as failed:
        parse(PageParser(), b"<html><body>Service unavailable</body></html>")
    return failed.value.args


def test_the_pipeline_takes_given_features_and_featurizes_only_the_rest(tmp_path: Path, forked: PageParser) -> None:
    parsed = parse(forked, rss(ITEMS))
    assert parsed.ahead is not None
    with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        pipeline = Pipeline(store, TOPICS, now=T0)
        pipeline.featurizer = asked = Asked()
        given = {text: f for text, f in parsed.ahead.features.items() if "Lava reaches" in text[1]}
        ahead = replace(parsed.ahead, features=given)
        done = pipeline.process_polls([(parsed.page.posts, store.feed_state("news"), ahead)], now=T0)
    assert done[0].stored == 2
    assert asked.ids == ["v2"], "v1's features came with the page; the bakery post matched nothing"


LEARNING = (Topic("volcano", keywords=("volcano", "lava"), weights={"volcano": 1.0, "lava": 1.0}, threshold=1.0),)


@pytest.mark.parametrize(("topics", "pipelines", "stored"), [
    (TOPICS, TOPICS, 1),  # the pipeline's own: taken as told, v2 left out
    ((Topic("bread", keywords=("sourdough",)),), TOPICS, 2),  # other topics (a reload since): matched again
    (LEARNING, LEARNING, 2),  # a topic that learns: what matches moves from post to post, so matched again
])
def test_the_pipeline_takes_the_parsers_matches_only_where_they_are_its_own(
        tmp_path: Path, topics: tuple[Topic, ...], pipelines: tuple[Topic, ...], stored: int) -> None:
    posts = parse(PageParser(), rss(ITEMS)).page.posts
    lava = compile_topics(TOPICS).match(posts[0])
    told = Precomputed(topics, (lava, (), ()), {})  # v2 matches nothing, says it: only a pipeline that takes it agrees
    with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        pipeline = Pipeline(store, pipelines, now=T0)
        done = pipeline.process_polls([(posts, store.feed_state("news"), told)], now=T0)
        assert done[0].stored == stored


class Asked(Featurizer):
    """The pipeline's featurizer, noting which posts it was asked about."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def __call__(self, post: Post) -> Features:
        self.ids.append(post.id)
        return super().__call__(post)


def test_a_killed_child_leaves_the_parsing_to_a_thread(forked: PageParser, caplog: pytest.LogCaptureFixture) -> None:
    parse(forked, rss(ITEMS))
    (child,) = forked._pool._processes  # type: ignore[attr-defined]
    os.kill(child, signal.SIGKILL)
    assert len(parse(forked, rss(ITEMS)).page.posts) == 3
    assert "parser process ended unexpectedly" in caplog.text


def test_the_child_leaves_stop_signals_to_its_parent(forked: PageParser) -> None:
    parse(forked, rss(ITEMS))
    (child,) = forked._pool._processes  # type: ignore[attr-defined]
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        os.kill(child, sig)
    ahead = parse(forked, rss(ITEMS)).ahead
    assert ahead is not None and len(ahead.features) == 2, "the same child parsed on"


def test_the_child_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    script = (
        "import os, sys; from monitor.parsing import PageParser\n"
        "parser = PageParser.forked()\n"
        "(child,) = parser._pool._processes\n"
        "print(child, flush=True); sys.stdin.read()\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = os.pidfd_open(int(parent.stdout.readline()))  # readable once that process has ended
    try:
        parent.kill()
        parent.wait()
        ended, _, _ = select.select([child], [], [], 30)  # the bound of a hang, not a timing
    finally:
        os.close(child)
    assert ended, "the parser process outlived the daemon that forked it"
