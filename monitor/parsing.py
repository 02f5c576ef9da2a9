"""Where the daemon parses its pages: in a thread beside the event loop, or in a process of its own.

Parsing is pure (bytes in, posts out), and with the text features of the posts the topics match it is
over a third of a first poll's CPU. In the daemon's own interpreter that work takes turns with the
story builder for the one lock that runs Python; `monitor run`, where the machine has a core to
spare, forks a child for it at its start (before any thread exists) and the two run side by side.

The child also matches each post against the topics as configured, and featurizes those that match.
Both are what the pipeline would compute (a `Precomputed`): the pipeline takes the matches only where
they are its own, against the same topics when none of them learns (a learned term changes what
matches, post by post); the features always, as the Featurizer reads nothing but a post's title and
text, by which they travel, and a fork keeps the string hash's salt that their sketches use. What the
child did not work out (a post matched through a learned term, a worker's inbox) the pipeline does, as
before: the child's work is a head start, never something the pipeline depends on.
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
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

from monitor.config import Topic
from monitor.pollerrors import InternalError, PollError
from monitor.sources import source_for
from monitor.sources.base import Page, PollContext, Response

if TYPE_CHECKING:
    from monitor.feedstate import Polled
    from monitor.match import Matcher
    from monitor.textfeatures import Features, Featurizer
    from storage.types import Match, Post

log = logging.getLogger("monitor.parsing")

HANDOVER_SECONDS = 0.001
"""How long a thread of the daemon's may hold the interpreter lock while another waits for it."""
Text = tuple[str, str]
"""A post's (title, text): all its features are computed from."""


@dataclass(frozen=True, slots=True)
class Precomputed:
    """What the parser process worked out for some posts before the pipeline asks."""

    topics: tuple[Topic, ...]
    """As configured when the posts were matched."""
    matches: tuple[tuple[Match, ...], ...]
    """Each post's, in order."""
    features: Mapping[Text, Features]
    """Those of the posts that matched, by their (title, text)."""


@dataclass(frozen=True, slots=True)
class Parsed:
    page: Page
    ahead: Precomputed | None = None
    """Of the page's posts, where a parser process parsed it."""


@dataclass(frozen=True, slots=True)
class PolledPages:
    """A poll's posts over its pages, what it left behind, and what its parsing worked out ahead."""

    posts: list[Post]
    polled: Polled
    ahead: Precomputed | None = None


def joined(pages: Sequence[Precomputed | None]) -> Precomputed | None:
    """A poll's over its pages; None unless every page was worked out ahead against the same topics."""
    ahead = [page for page in pages if page is not None]
    if not ahead or len(ahead) < len(pages) or any(page.topics != ahead[0].topics for page in ahead):
        return None
    features = {text: found for page in ahead for text, found in page.features.items()}
    return Precomputed(ahead[0].topics, tuple(chain.from_iterable(page.matches for page in ahead)), features)


class PageParser:
    """Parses pages off the event loop: `PageParser()` in a thread; `PageParser.forked()` in a child
    process, which also matches the posts against `topics` and featurizes those that match."""

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
                return await loop.run_in_executor(self._pool, _parse_ahead, kind, ctx, response, tuple(topics))
            except BrokenProcessPool:
                self._parse_in_thread()
        return Parsed(await loop.run_in_executor(self._pool, source_for(kind).parse, ctx, response))

    def _parse_in_thread(self) -> None:
        """The child died (the kernel's OOM killer, a crash in a C parser): parse here from now on."""
        if self._forked:
            log.warning("the parser process ended unexpectedly: pages are parsed in the daemon's process from now on")
            self._pool.shutdown(wait=False)
            self._forked = False
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-parser")

    def close(self) -> None:
        """Lets the parse in hand finish and stops the child or thread (again: nothing more)."""
        self._pool.shutdown(wait=True)

    def __enter__(self) -> PageParser:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


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

    _child().featurizer.idf("monitor")


class _Child:
    """What the child keeps between pages: its featurizer, and the matcher of the topics it was last
    asked about (as configured)."""

    def __init__(self) -> None:
        from monitor.textfeatures import Featurizer

        self.featurizer: Featurizer = Featurizer()
        self.topics: tuple[Topic, ...] = ()
        self.matcher: Matcher | None = None

    def ahead(self, posts: Sequence[Post], topics: tuple[Topic, ...]) -> Precomputed | None:
        if topics != self.topics:  # a reload changed them (or the first page): compiled once per change
            from monitor.match import compile_topics

            self.topics, self.matcher = topics, compile_topics(topics) if topics else None
        if self.matcher is None:
            return None
        matches = tuple(map(self.matcher.match, posts))
        featurize = self.featurizer
        features = {(post.title, post.text): featurize(post)
                    for post, found in zip(posts, matches, strict=True) if found}
        return Precomputed(topics, matches, features)


@functools.cache
def _child() -> _Child:
    return _Child()


def _parse_ahead(kind: str, ctx: PollContext, response: Response, topics: tuple[Topic, ...]) -> Parsed:
    """In the child. What crosses back must unpickle in the parent: a source's own errors do (one
    message each), anything else becomes the InternalError the daemon would have made of it."""
    try:
        page = source_for(kind).parse(ctx, response)
        return Parsed(page, _child().ahead(page.posts, topics))
    except PollError:
        raise
    except Exception as e:
        log.debug("%s: unexpected error", ctx.feed_name, exc_info=True)
        raise InternalError.wrapping(e) from None
