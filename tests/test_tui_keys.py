"""Every key in the footer does what the footer says (against a real SQLite store)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from textual.binding import Binding
from textual.widgets import Footer

from monitor.commands.dash import dashboard
from monitor.config import load
from monitor.tui.screens.alerts import AlertsScreen
from monitor.tui.screens.feeds import FeedsScreen
from monitor.tui.screens.help import HelpScreen
from monitor.tui.screens.main import BINDINGS, MainScreen
from monitor.tui.screens.post import PostScreen
from monitor.tui.screens.prompt import Prompt, TopicPicker
from monitor.tui.widgets.posts import PostTable
from monitor.tui.widgets.rows import KeyedTable
from monitor.tui.widgets.status import StatusLine
from monitor.tui.widgets.stories import StoryTable
from tests.support.dashboard import Harness, busy_store, db_url, until


async def test_the_footer_shows_every_key(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(200, 30)) as pilot:
        await h.ready(pilot)
        footer_keys = {b.binding.key for b in h.app.screen.active_bindings.values() if b.binding.show}
        shown = [b for b in BINDINGS if b.show]
        assert {b.key for b in shown} <= footer_keys
        assert h.app.screen.query_one(Footer).display


async def test_t_switches_topic(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        await pilot.press("t")
        assert isinstance(h.app.screen, TopicPicker)
        await pilot.press("up", "enter")
        await until(pilot, lambda: h.stories() == ["4"] and h.posts() == ["b1"])


async def test_the_first_configured_topic_opens_and_every_configured_one_is_offered(tmp_path: Path) -> None:
    """Not the alphabetically first stored topic ("budget"); "volcano" has no posts yet; "budget" is no
    longer configured but has posts, so it comes last."""
    busy_store(db_url(tmp_path), datetime.now(UTC))
    path = tmp_path / "feeds.toml"
    path.write_text("".join(f'[[topics]]\nname = "{t}"\nkeywords = ["{t}"]\n\n' for t in ("quake", "volcano"))
                    + '[[feeds]]\nname = "wire"\ntype = "rss"\nurl = "http://127.0.0.1:9/wire.xml"\n')
    with dashboard(load(path), daemon=False) as app:
        async with app.run_test(size=(120, 30)) as pilot:
            stories = app.screen.query_one(StoryTable)
            await until(pilot, lambda: [str(k.value) for k in stories.rows] == ["1", "2", "3"])
            await pilot.press("t")
            picker = app.screen
            assert isinstance(picker, TopicPicker) and picker.topics == ["quake", "volcano", "budget"]
            await pilot.press("down", "enter")
            await until(pilot, lambda: stories.row_count == 0 and "volcano (0)" in str(stories.border_title))


async def test_slash_filters_text_s_filters_source_escape_clears(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        await pilot.press("slash")
        assert isinstance(h.app.screen, Prompt)
        await pilot.press(*"shaking", "enter")
        await until(pilot, lambda: h.posts() == ["w2"])
        await pilot.press("escape")
        await until(pilot, lambda: len(h.posts()) == 4)
        await pilot.press("s", *"social", "enter")
        await until(pilot, lambda: h.posts() == ["s3", "s2", "s1"])


async def test_f_searches_all_posts(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        await pilot.press("f", *"warning", "enter")
        await until(pilot, lambda: h.posts() == ["w3", "w4"])
        assert "Search: warning" in str(h.app.screen.query_one(PostTable).border_title)


async def test_m_mutes_the_story_and_remembers_it_outside_the_database(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        await pilot.press("m")
        await until(pilot, lambda: h.stories() == ["2", "3"])
        assert h.saved()["muted_stories"] == [1]


async def test_u_shows_muted_stories_so_that_m_unmutes_them(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        table = h.app.screen.query_one(StoryTable)
        await pilot.press("m")
        await until(pilot, lambda: h.stories() == ["2", "3"])
        await pilot.press("u")
        await until(pilot, lambda: h.stories() == ["1", "2", "3"])  # the muted first, marked
        assert "🔇" in str(table.get_row("1")[0]) and "muted shown" in str(h.app.screen.query_one(StatusLine).render())
        await pilot.press("up", "m")
        await until(pilot, lambda: "🔇" not in str(table.get_row("1")[0]))
        assert h.saved()["muted_stories"] == []
        await pilot.press("u")
        await until(pilot, lambda: "muted shown" not in str(h.app.screen.query_one(StatusLine).render()))
        assert h.stories() == ["1", "2", "3"]


async def test_u_shows_muted_authors_so_that_a_unmutes_them(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        posts = h.app.screen.query_one(PostTable)
        posts.focus()
        await pilot.press("a")  # s3 by eve
        await until(pilot, lambda: h.posts() == ["s2", "w2", "w1"])
        await pilot.press("u")
        await until(pilot, lambda: h.posts() == ["s3", "s2", "w2", "w1"])
        assert str(posts.get_row("social\x1fs3")[2]) == "🔇eve"
        await pilot.press("up", "a")
        await until(pilot, lambda: str(posts.get_row("social\x1fs3")[2]) == "eve")
        assert h.saved()["muted_authors"] == []


async def test_a_mutes_the_selected_posts_author(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        h.app.screen.query_one(PostTable).focus()
        await pilot.press("a")  # s3 by eve
        await until(pilot, lambda: h.posts() == ["s2", "w2", "w1"])
        assert h.saved()["muted_authors"] == ["eve"]


async def test_r_marks_read_and_p_pins(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        table = h.app.screen.query_one(StoryTable)
        assert "●" in str(table.get_row("1")[0])
        await pilot.press("r")
        await until(pilot, lambda: "●" not in str(table.get_row("1")[0]))
        await pilot.press("down", "down", "p")
        await until(pilot, lambda: h.stories() == ["3", "1", "2"])
        assert "📌" in str(table.get_row("3")[0])
        assert h.saved()["pinned"] == [3]
        assert h.saved()["read"] == {"1": 5}


async def test_o_opens_and_c_copies_the_link(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        await pilot.press("o")
        assert h.opened == ["https://example.org/social/s3"]
        await pilot.press("c")
        assert h.app.clipboard == "https://example.org/social/s3"


async def test_enter_opens_the_post_view(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        h.app.screen.query_one(PostTable).focus()
        await pilot.press("down", "down", "down", "enter")  # w1, which social/s1 duplicates
        assert isinstance(h.app.screen, PostScreen)
        assert h.app.screen.row.also_on == ("social",)
        await pilot.press("escape")
        assert isinstance(h.app.screen, MainScreen)


async def test_h_shows_feed_health(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        await pilot.press("h")
        assert isinstance(h.app.screen, FeedsScreen)
        table = h.app.screen.query_one(KeyedTable)
        await until(pilot, lambda: table.row_count == 2)
        assert [str(k.value) for k in table.rows] == ["social", "wire"]  # failing first
        assert "HTTP 503" in str(table.get_row("social")[6])


async def test_question_mark_shows_help_listing_every_key(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 40)) as pilot:
        await h.ready(pilot)
        await pilot.press("question_mark")
        assert isinstance(h.app.screen, HelpScreen)
        text = str(h.app.screen.query_one("#help-body").render())
        assert all(b.description in text for b in BINDINGS)


async def test_the_command_palette_offers_the_actions_and_topics(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        titles = [c.title for c in h.app.get_system_commands(h.app.screen)]
        assert {"Mute story", "Feeds", "Topic: budget", "Topic: quake"} <= set(titles)


def test_no_key_of_the_main_screen_is_bound_twice() -> None:
    """A new key must not take one the screen, its lists or the app already use (b, alerts, was free)."""
    from monitor.tui.app import MonitorApp

    def keys(bindings: list[Binding]) -> list[str]:
        return [k.strip() for b in bindings for k in b.key.split(",")]

    ours = keys(list(BINDINGS))
    assert len(ours) == len(set(ours)), ours
    inherited = [b for cls in (*StoryTable.__mro__, *MonitorApp.__mro__) for b in getattr(cls, "BINDINGS", [])]
    theirs = [*keys([b for b in inherited if isinstance(b, Binding)]), MonitorApp.COMMAND_PALETTE_BINDING]
    assert {"ctrl+p", "up", "pagedown"} <= set(theirs), "the lists' and the app's own keys are all here"
    assert not (set(ours) - {"enter"}) & set(theirs), "enter is the lists' select, which the screen follows"


async def test_b_shows_the_last_alerts(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    async with h.app.run_test(size=(120, 30)) as pilot:
        await h.ready(pilot)
        await pilot.press("b")
        assert isinstance(h.app.screen, AlertsScreen)
        title = h.app.screen.query_one("#alerts-title")
        await until(pilot, lambda: "Alerts: 0 rules · none yet" in str(title.render()))
        await pilot.press("b")
        assert isinstance(h.app.screen, MainScreen)
