"""Pages parsed in a forked process: the same posts as in a thread, the pipeline's own features, errors
that reach the daemon as they would from a thread, and a child that never outlives or stops its parent."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import Topic
from monitor.parsing import PageParser, Parsed, spare_core
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


def test_the_child_gives_the_threads_posts_and_the_pipelines_features_of_the_matching_ones(
        forked: PageParser) -> None:
    in_child = parse(forked, rss(ITEMS))
    in_thread = parse(PageParser(), rss(ITEMS))
    assert in_child.page == in_thread.page and len(in_child.page.posts) == 3
    assert in_thread.features == {}, "a thread parser leaves the features to the pipeline"
    here = Featurizer()
    wanted = {(p.title, p.text): here(p) for p in in_child.page.posts if p.id in {"v1", "v2"}}
    assert in_child.features == wanted, "the same features, sketches and all (a fork keeps the hash salt)"


def test_a_topic_changed_by_a_reload_is_featurized_from_the_next_page(forked: PageParser) -> None:
    assert len(parse(forked, rss(ITEMS)).features) == 2
    bakery = parse(forked, rss(ITEMS), (Topic("bread", keywords=("sourdough",)),))
    assert [text for _, text in bakery.features] == [ITEMS[1][1]]
    assert parse(forked, rss(ITEMS), ()).features == {}


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
    with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        pipeline = Pipeline(store, TOPICS, now=T0)
        pipeline.featurizer = asked = Asked()
        given = {key: f for key, f in parsed.features.items() if "Lava reaches" in key[1]}
        done = pipeline.process_polls([(list(parsed.page.posts), store.feed_state("news"))], now=T0, features=given)
    assert done[0].stored == 2
    assert asked.ids == ["v2"], "v1's features came with the page; the bakery post matched nothing"


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
    assert len(parse(forked, rss(ITEMS)).features) == 2, "the same child parsed on"


def test_the_child_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    script = (
        "import os, sys; from monitor.parsing import PageParser\n"
        "parser = PageParser.forked()\n"
        "(child,) = parser._pool._processes\n"
        "print(child, flush=True); sys.stdin.read()\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 30
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)  # polls a condition with a deadline: the child's exit is not timed
    assert not alive(child), "the parser process outlived the daemon that forked it"


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie the init process has not reaped yet counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
