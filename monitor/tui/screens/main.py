"""The main screen: the topic's stories above, the selected story's posts below, live."""

from __future__ import annotations

import dataclasses
import gc
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable
from textual.worker import Worker

from monitor.clock import Clock
from monitor.textsafe import one_line
from monitor.tui.board import Board, BoardLoader, Health, PostQuery, PostRow
from monitor.tui.messages import CopyLink, OpenLink
from monitor.tui.prefs import Prefs
from monitor.tui.screens.alerts import AlertsScreen
from monitor.tui.screens.feeds import FeedsScreen
from monitor.tui.screens.help import HelpScreen
from monitor.tui.screens.post import PostScreen
from monitor.tui.screens.prompt import Prompt, TopicPicker
from monitor.tui.watch import RevisionWatch, store_hint
from monitor.tui.widgets.footer import KeyFooter
from monitor.tui.widgets.posts import PostTable
from monitor.tui.widgets.status import StatusLine
from monitor.tui.widgets.stories import StoryTable
from storage.errors import StorageError

T = TypeVar("T")
HEALTH_EVERY = 2  # ticks of a second: the daemon's heartbeat (which moves no revision) is read this often
FEW_TRENDS = 8  # sparklines read with the rows (~3 ms for one story); more come once the rows are shown (~20 ms for 50)
REREAD_AFTER = timedelta(seconds=10)  # ages and rates are as of now: a quiet store is re-read this often
SERVER_EVERY = 0.1  # seconds between reads of a server's revision (a round trip, or two with a pool ping)

BINDINGS = [  # in footer order: what a newcomer needs first, as the footer is cut at the terminal's width
    Binding("q", "app.quit", "Quit", key_display="q/^c"),  # Ctrl-C is bound on the app, for every screen
    Binding("question_mark", "help", "Help", key_display="?"),
    Binding("t", "pick_topic", "Topic"),
    Binding("slash", "filter_text", "Filter", key_display="/"),
    Binding("s", "filter_source", "Source"),
    Binding("f", "search", "Search all"),
    Binding("escape", "clear", "Clear", show=False),
    Binding("enter", "view_post", "View", show=False),
    Binding("m", "mute_story", "Mute story"),
    Binding("a", "mute_author", "Mute author"),
    Binding("u", "toggle_muted", "Muted"),
    Binding("r", "mark_read", "Read"),
    Binding("p", "pin", "Pin"),
    Binding("o", "open_link", "Open link"),
    Binding("c", "copy_link", "Copy link"),
    Binding("h", "feeds", "Feeds"),
    Binding("b", "alerts", "Alerts"),
]


class MainScreen(Screen[None]):
    """Watches the store's revision (in a thread of its own); reads rows in a worker only when it moved."""

    CSS_PATH = Path(__file__).with_name("main.tcss")
    BINDINGS: ClassVar[list[BindingType]] = list(BINDINGS)

    class BoardLoaded(Message):
        """A fresh read of the stories (and the selected story's posts)."""

        def __init__(self, board: Board, query: PostQuery, posts: tuple[PostRow, ...]) -> None:
            super().__init__()
            self.board = board
            self.post_query = query
            self.posts = posts

    class PostsLoaded(Message):
        def __init__(self, query: PostQuery, posts: tuple[PostRow, ...], now: datetime) -> None:
            super().__init__()
            self.post_query = query
            self.posts = posts
            self.now = now

    class RevisionMoved(Message):
        def __init__(self, revision: int) -> None:
            super().__init__()
            self.revision = revision

    class TrendsLoaded(Message):
        """`board` with its sparklines read."""

        def __init__(self, board: Board, filled: Board) -> None:
            super().__init__()
            self.board = board
            self.filled = filled

    class HealthLoaded(Message):
        def __init__(self, health: Health) -> None:
            super().__init__()
            self.health = health

    class LoadFailed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, loader: BoardLoader, prefs: Prefs, *, clock: Clock, poll_interval: float,
                 topic: str | None = None) -> None:
        """`poll_interval`: seconds between two checks of the store for a commit (see watch.py)."""
        super().__init__()
        self.loader = loader
        self.prefs = prefs
        self.clock = clock
        self.poll_interval = poll_interval
        self.topic = topic
        self.show_muted = False  # list muted stories and authors' posts, marked, so that m and a unmute them
        self.post_query = PostQuery()
        self.board: Board | None = None
        self.health: Health | None = None
        self.revision: int | None = None  # the one the rows shown were read at
        self.latest: int | None = None  # the newest one heard of
        self.unreadable = False  # the last read failed: try again every second
        self.ticks = 0
        self.settled = False
        hint = store_hint(loader.store.url)
        every = poll_interval if hint is not None else max(poll_interval, SERVER_EVERY)
        self._watch = RevisionWatch(loader.revision, every, self._heard, self._unreadable, hint=hint)
        # The first read starts now, beside Textual's own start (~30 ms before the screen is mounted).
        self._first = in_thread(lambda: self._read(force=True))

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield StoryTable(id="stories")
        yield PostTable(id="posts")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.first_board()
        self._watch.start()
        self.set_interval(1.0, self._tick)

    def on_unmount(self) -> None:
        self._watch.stop()
        if self.settled:
            gc.unfreeze()  # what the screen held may go now

    def _settle(self) -> None:
        """The first rows are out: what lives now (modules, styles, widgets, the store's engine) lives as long
        as the screen. Kept out of the garbage collector's sight, its full collections stop walking it: they
        took 80-140 ms each, at random moments, a refresh's whole budget."""
        if not self.settled:
            self.settled = True
            gc.freeze()

    # -- reading (worker threads) -------------------------------------------------------------

    def _heard(self, revision: int) -> None:
        """The watch's thread: hand the news to the screen's."""
        self.post_message(self.RevisionMoved(revision))

    def _unreadable(self, error: str) -> None:
        self.post_message(self.LoadFailed(error))

    def on_main_screen_revision_moved(self, message: RevisionMoved) -> None:
        self.latest = message.revision
        self._catch_up()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "board" and event.worker.is_finished:
            self._catch_up()

    def _reading(self) -> bool:
        return any(w.group == "board" and w.node is self and not w.is_finished for w in self.workers)

    def _catch_up(self) -> None:
        """Read the rows if the store moved past them, unless a read is still running: when it ends this
        is asked again (a second read beside it would only compete with it for the interpreter). Not
        while reads fail: the tick tries again every second, where this would try again at once, forever."""
        if self._reading() or self.unreadable:
            return
        if self.latest is not None and self.latest != self.revision:
            self.refresh_board(force=False)

    def _tick(self) -> None:
        """Every second: the status line's ages; the rows again when they are old (ages and rates are as
        of now) or could not be read; else now and then the daemon's heartbeat, which moves no revision."""
        self.ticks += 1
        old = self.board is not None and self.clock() - self.board.health.now >= REREAD_AFTER
        if (old or self.unreadable) and not self._reading():
            self.refresh_board(force=True)
        elif self.ticks % HEALTH_EVERY == 0:
            self.load_health()
        self._redraw_status()

    @work(thread=True, exclusive=True, group="health")
    def load_health(self) -> None:
        stats = self.health.stats if self.health else None
        try:
            self.post_message(self.HealthLoaded(self.loader.health(self.clock(), stats)))
        except StorageError as e:
            self.post_message(self.LoadFailed(str(e)))

    @work(thread=True, exclusive=True, group="board")
    def refresh_board(self, force: bool) -> None:
        self._post(self._read, force)

    @work(thread=True, exclusive=True, group="board")
    def first_board(self) -> None:
        """The read begun when the screen was made."""
        self._post(lambda _: self._first.result(), True)

    def _post(self, read: Callable[[bool], BoardLoaded | None], force: bool) -> None:
        try:
            loaded = read(force)
        except StorageError as e:
            self.post_message(self.LoadFailed(str(e)))
            return
        if loaded is not None:
            self.post_message(loaded)

    def _read(self, force: bool) -> BoardLoaded | None:
        """Revision first; the rows only when it moved (or when forced, as when they are old). Any thread."""
        loader, query, topic, show_muted = self.loader, self.post_query, self.topic, self.show_muted
        revision = loader.revision()
        now = self.clock()
        if not force and revision == self.revision:
            return None
        board = loader.board(topic, self.prefs, now, revision, show_muted=show_muted)
        if loader.missing_trends(board) <= FEW_TRENDS:  # the few stories a commit changed: read along
            board = loader.with_trends(board)
        if query.topic != board.topic and query.search is not None:
            query = dataclasses.replace(query, topic=board.topic)
        if query.empty and board.stories:  # nothing shown yet: the first story's posts come along
            query = dataclasses.replace(query, story=board.stories[0].story.id)
        posts = loader.posts(query, self.prefs.muted_authors, show_muted=show_muted)
        return self.BoardLoaded(board, query, posts)

    @work(thread=True, exclusive=True, group="trends")
    def load_trends(self, board: Board) -> None:
        try:
            self.post_message(self.TrendsLoaded(board, self.loader.with_trends(board)))
        except StorageError as e:
            self.post_message(self.LoadFailed(str(e)))

    @work(thread=True, exclusive=True, group="posts")
    def load_posts(self, query: PostQuery) -> None:
        try:
            posts = self.loader.posts(query, self.prefs.muted_authors, show_muted=self.show_muted)
        except StorageError as e:
            self.post_message(self.LoadFailed(str(e)))
            return
        self.post_message(self.PostsLoaded(query, posts, self.clock()))

    # -- showing ------------------------------------------------------------------------------

    def on_main_screen_board_loaded(self, message: BoardLoaded) -> None:
        board = message.board
        self.health, self.revision, self.topic = board.health, board.revision, board.topic
        self.unreadable = False
        self._show_stories(board)
        self._redraw_status()
        self._adopt_first_posts(message.post_query)
        if message.post_query == self.post_query:
            self._show_posts(message.posts, board.health.now)
        self._follow_selection()
        if not self.settled:
            self.call_after_refresh(self._settle)
        if self.loader.missing_trends(board):  # many: the first rows, another topic's
            self.call_after_refresh(self._read_trends, board)

    def _read_trends(self, board: Board) -> None:
        if board is self.board:  # else newer rows came before the frame, which read their own
            self.load_trends(board)

    def on_main_screen_trends_loaded(self, message: TrendsLoaded) -> None:
        if message.board is self.board:  # else newer rows came meanwhile, which read their own
            self._show_stories(message.filled)

    def _show_stories(self, board: Board) -> None:
        self.board = board
        stories = self.query_one(StoryTable)
        stories.show(board.stories, board.health.now)
        _retitle(stories, f"Stories: {one_line(board.topic or '-')} ({len(board.stories)})")

    def _adopt_first_posts(self, query: PostQuery) -> None:
        """The posts read along with the first board belong to the row now selected: take them
        (the first paint then needs one read, not a board read and then a posts read)."""
        if not self.post_query.empty or query.search is not None or query.story is None:
            return
        row = self.query_one(StoryTable).selected_story()
        if row is not None and row.story.id == query.story:
            self.post_query = dataclasses.replace(self.post_query, story=query.story)

    def on_main_screen_posts_loaded(self, message: PostsLoaded) -> None:
        if message.post_query == self.post_query:
            self._show_posts(message.posts, message.now)

    def on_main_screen_health_loaded(self, message: HealthLoaded) -> None:
        self.health = message.health
        self._redraw_status()

    def on_main_screen_load_failed(self, message: LoadFailed) -> None:
        self.unreadable = True
        self.query_one(StatusLine).fail(message.error)

    def _show_posts(self, posts: tuple[PostRow, ...], now: datetime) -> None:
        table = self.query_one(PostTable)
        table.show(posts, now)
        q = self.post_query
        title = f"Search: {one_line(q.search)}" if q.search is not None else "Posts"
        _retitle(table, f"{title} ({len(posts)})")

    def _redraw_status(self) -> None:
        health = self.health
        if health is not None:
            health = dataclasses.replace(health, now=self.clock())
        self.query_one(StatusLine).show(health, self.topic, self._filters())

    def _filters(self) -> list[str]:
        q = self.post_query
        parts = [f"search “{one_line(q.search)}”" if q.search is not None else ""]
        parts += [f"text “{one_line(q.text)}”" if q.text else "", f"source “{one_line(q.source)}”" if q.source else ""]
        parts += ["muted shown" if self.show_muted else ""]
        return [p for p in parts if p]

    def _follow_selection(self) -> None:
        """Load the posts of the highlighted story when it is not the one shown."""
        if self.post_query.search is not None:
            return
        row = self.query_one(StoryTable).selected_story()
        story = row.story.id if row else None
        if story != self.post_query.story:
            self.post_query = dataclasses.replace(self.post_query, story=story)
            self.load_posts(self.post_query)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.query_one(StoryTable):
            self._follow_selection()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is self.query_one(StoryTable):
            self.query_one(PostTable).focus()
        else:
            self.action_view_post()

    # -- actions ------------------------------------------------------------------------------

    def _set_query(self, **changes: str | None) -> None:
        self.post_query = dataclasses.replace(self.post_query, **changes)  # type: ignore[arg-type]
        self._redraw_status()
        self.load_posts(self.post_query)

    def action_pick_topic(self) -> None:
        topics = self.board.topics if self.board else ()

        def chosen(topic: str | None) -> None:
            if topic is not None and topic != self.topic:
                self.switch_topic(topic)

        self.app.push_screen(TopicPicker(topics, self.topic), chosen)

    def switch_topic(self, topic: str) -> None:
        self.topic = topic
        self.show_muted = False  # list muted stories and authors' posts, marked, so that m and a unmute them
        self.post_query = PostQuery()
        self.query_one(StoryTable).move_cursor(row=0)
        self.refresh_board(force=True)

    def action_filter_text(self) -> None:
        self._ask("Filter this story's posts by text", self.post_query.text, "text")

    def action_filter_source(self) -> None:
        self._ask("Only posts from this source (feed name)", self.post_query.source, "source")

    def action_search(self) -> None:
        self._ask("Search all posts of this topic", self.post_query.search, "search")

    def _ask(self, title: str, current: str | None, field: str) -> None:
        def answered(value: str | None) -> None:
            if value is None:
                return
            changes: dict[str, str | None] = {field: value or None}
            if field == "search":
                changes["topic"] = self.topic
            self._set_query(**changes)

        self.app.push_screen(Prompt(title, current or ""), answered)

    def action_clear(self) -> None:
        row = self.query_one(StoryTable).selected_story()
        self.post_query = PostQuery(story=row.story.id if row else None)
        self._redraw_status()
        self.load_posts(self.post_query)

    def action_mute_story(self) -> None:
        row = self.query_one(StoryTable).selected_story()
        if row is None:
            return
        muted = self.prefs.toggle_mute_story(row.story.id)
        self._save_and_refresh(f"{'Muted' if muted else 'Unmuted'} story #{row.story.id}")

    def action_mute_author(self) -> None:
        post = self.query_one(PostTable).selected_post()
        if post is None:
            return
        author = post.post.post.author
        muted = self.prefs.toggle_mute_author(author)
        self._save_and_refresh(f"{'Muted' if muted else 'Unmuted'} {one_line(author) or 'the anonymous author'}")

    def action_toggle_muted(self) -> None:
        self.show_muted = not self.show_muted
        shown = "Showing muted stories and authors (🔇): m or a unmutes" if self.show_muted else "Hiding muted"
        self.notify(shown, timeout=3)
        self._redraw_status()
        self.refresh_board(force=True)

    def action_mark_read(self) -> None:
        row = self.query_one(StoryTable).selected_story()
        if row is None:
            return
        self.prefs.mark_read(row.story.id, row.story.size)
        self._save_and_refresh(f"Marked story #{row.story.id} read")

    def action_pin(self) -> None:
        row = self.query_one(StoryTable).selected_story()
        if row is None:
            return
        pinned = self.prefs.toggle_pin(row.story.id)
        self._save_and_refresh(f"{'Pinned' if pinned else 'Unpinned'} story #{row.story.id}")

    def _save_and_refresh(self, note: str) -> None:
        try:
            self.prefs.save()
        except OSError as e:
            self.notify(f"could not save your marks: {e}", severity="error")
        self.notify(note, timeout=2, markup=False)  # notes may quote an author's name
        self.refresh_board(force=True)

    def action_view_post(self) -> None:
        post = self.query_one(PostTable).selected_post()
        if post is not None:
            self.app.push_screen(PostScreen(post))

    def action_open_link(self) -> None:
        post = self.query_one(PostTable).selected_post()
        if post is not None:
            self.post_message(OpenLink(post.post.post.url))

    def action_copy_link(self) -> None:
        post = self.query_one(PostTable).selected_post()
        if post is not None:
            self.post_message(CopyLink(post.post.post.url))

    def action_feeds(self) -> None:
        self.app.push_screen(FeedsScreen(self.loader.feed_states, clock=self.clock))

    def action_alerts(self) -> None:
        self.app.push_screen(AlertsScreen(self.loader.alerts, clock=self.clock))

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(list(BINDINGS)))


def _retitle(widget: Widget, title: str) -> None:
    """Setting a border title redraws the whole widget, even to the same title."""
    if widget.border_title != title:
        widget.border_title = title


def in_thread(read: Callable[[], T]) -> Future[T]:
    """`read()` in a thread of its own, begun now."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(read())
        except BaseException as e:  # handed to whoever waits for the result
            future.set_exception(e)

    threading.Thread(target=run, name="first-read", daemon=True).start()
    return future
