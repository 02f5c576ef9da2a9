"""Where the daemon parses its pages: in a thread beside the event loop, or in a process of its own.

Parsing is pure (bytes in, posts out), and with the text features of the posts the topics match it is
over a third of a first poll's CPU. In the daemon's own interpreter that work takes turns with the
story builder for the one lock that runs Python; `monitor run`, where the machine has a core to
spare, forks a child for it at its start (before any thread exists) and the two run side by side.

The child's features are the ones the pipeline would compute: the Featurizer reads nothing but a
post's title and text, and a fork keeps the string hash's salt that its sketches use. They travel
keyed by that title and text, so they can only ever be used for the text they describe. A post the
child did not featurize (one that matched only through a term learned since, a worker's inbox) is
featurized by the pipeline, as before: the features are a head start, never something it depends on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitor.config import Topic
from monitor.pollerrors import InternalError, PollError
from monitor.sources import source_for
from monitor.sources.base import Page, PollContext, Response

if TYPE_CHECKING:
    from monitor.feedstate import Polled
    from monitor.match import Matcher
    from monitor.textfeatures import Features, Featurizer
    from storage.types import Post

log = logging.getLogger("monitor.parsing")

HANDOVER_SECONDS = 0.001
"""How long a thread of the daemon's may hold the interpreter lock while another waits for it."""
Text = tuple[str, str]
"""A post's (title, text): all its features are computed from."""


@dataclass(frozen=True, slots=True)
class Parsed:
    page: Page
    features: Mapping[Text, Features] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PolledPages:
    """A poll's posts over its pages, what it left behind, and the features its parsing computed."""

    posts: list[Post]
    polled: Polled
    features: Mapping[Text, Features] = field(default_factory=dict)


class PageParser:
    """Parses pages off the event loop: `PageParser()` in a thread; `PageParser.forked()` in a child
    process, which also featurizes the posts that `topics` match."""

    def __init__(self, pool: Executor | None = None) -> None:
        self._forked = pool is not None
        self._pool = pool or ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-parser")

    @classmethod
    def forked(cls) -> PageParser:
        """A parser in a child process, forked now: call it before any thread starts (a fork copies
        only the calling thread, and a lock another thread held would stay locked in the child)."""
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_child_start)
        pool.submit(_warm)  # forks at once; the child imports its modules while the parent opens the store
        # The child is handed its next page, and its results read, by the pool's thread here, which
        # waits for the interpreter lock behind the story builder: at CPython's 5 ms turns the child
        # sat idle for most of a first poll (1.75 s of wall for 1.13 s of this process's CPU).
        sys.setswitchinterval(HANDOVER_SECONDS)
        return cls(pool)

    async def parse(self, kind: str, ctx: PollContext, response: Response, topics: Sequence[Topic]) -> Parsed:
        loop = asyncio.get_running_loop()
        if self._forked:
            try:
                return await loop.run_in_executor(self._pool, _parse_and_featurize, kind, ctx, response, tuple(topics))
            except BrokenProcessPool:
                self._in_thread()
        return Parsed(await loop.run_in_executor(self._pool, source_for(kind).parse, ctx, response))

    def _in_thread(self) -> None:
        """The child died (the kernel's OOM killer, a crash in a C parser): parse here from now on."""
        if self._forked:
            log.warning("the parser process ended unexpectedly: pages are parsed in the daemon's process from now on")
            self._pool.shutdown(wait=False)
            self._forked = False
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-parser")

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def spare_core() -> bool:
    """A second core this process may run on, and fork as a safe way to start a child (Linux: macOS
    and Windows start children afresh, which would cost a whole interpreter's start and its imports)."""
    return sys.platform == "linux" and len(os.sched_getaffinity(0)) > 1


# -- in the child ---------------------------------------------------------------------------------


def _child_start() -> None:
    """The terminal's Ctrl-C, a systemd stop and a reload are the parent's to handle: it stops the
    child when it stops, after its last parse. Should the parent die without that, the child follows."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    signal.set_wakeup_fd(-1)  # the parent's event loop's: no signal of the child's belongs there
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True, name="monitor-parent-watch").start()


def _exit_with(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()  # returns when the parent's end of the sentinel pipe closes: it ended, however
    os._exit(0)


def _warm() -> None:
    """What every first page needs, loaded before it comes: the feed parser, the text models, the
    word table (the child's own connection to its cache file: the parent's is not shared across a fork)."""
    import monitor.sources.rss  # noqa: F401

    _featuring().featurizer.idf("monitor")


class _Featuring:
    """The child's featurizer, and the matcher of the topics it was last asked about."""

    def __init__(self) -> None:
        from monitor.textfeatures import Featurizer

        self.featurizer: Featurizer = Featurizer()
        self.topics: tuple[Topic, ...] = ()
        self.matcher: Matcher | None = None

    def features(self, posts: Sequence[Post], topics: tuple[Topic, ...]) -> dict[Text, Features]:
        if topics != self.topics:  # a reload changed them (or the first page): compiled once per change
            from monitor.match import compile_topics

            self.topics, self.matcher = topics, compile_topics(topics) if topics else None
        if self.matcher is None:
            return {}
        match, featurize = self.matcher.match, self.featurizer
        return {(post.title, post.text): featurize(post) for post in posts if match(post)}


@functools.cache
def _featuring() -> _Featuring:
    return _Featuring()


def _parse_and_featurize(kind: str, ctx: PollContext, response: Response, topics: tuple[Topic, ...]) -> Parsed:
    """In the child. What crosses back must unpickle in the parent: a source's own errors do (one
    message each), anything else becomes the InternalError the daemon would have made of it."""
    try:
        page = source_for(kind).parse(ctx, response)
        return Parsed(page, _featuring().features(page.posts, topics))
    except PollError:
        raise
    except Exception as e:
        log.debug("%s: unexpected error", ctx.feed_name, exc_info=True)
        raise InternalError.wrapping(e) from None
