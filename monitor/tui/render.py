"""Rich `Text` for stories, posts and the status line. Post text is never parsed as markup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from monitor.textsafe import one_line, printable, truncate
from monitor.tui.board import Health, PostRow, StoryRow
from monitor.workerlines import workers_fact
from storage.types import LEARNED, StoredPost

SPARK = "▁▂▃▄▅▆▇█"
MUTED = "🔇"
ALERTED = "🔔"
MUTED_STYLE = "dim strike"
ROW_TEXT_CHARS = 300  # a list row shows the start of a post; the post view shows all of it
FULL_TEXT_CHARS = 20_000


def sparkline(counts: tuple[int, ...]) -> str:
    if not counts:
        return "·" * 8  # not read yet
    top = max(counts, default=0)
    if top == 0:
        return SPARK[0] * len(counts)
    return "".join(SPARK[min(len(SPARK) - 1, round(c / top * (len(SPARK) - 1)))] for c in counts)


def age(when: datetime | None, now: datetime) -> str:
    """'45s', '12m', '3h', '2d'; '-' for never."""
    if when is None:
        return "-"
    seconds = max(0, int((now - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def story_cells(row: StoryRow, now: datetime) -> dict[str, Text]:
    """The story list's cells by column."""
    s = row.story
    marks = Text()
    marks.append("📌" if row.pinned else MUTED if row.muted else "  ")
    marks.append("●" if row.new else " ", style="bold yellow" if row.new else "")
    marks.append("⚡" if s.spike else " ", style="bold red")
    if row.alerted:  # only then: a list where nothing alerted keeps the room for the label
        marks.append(ALERTED)
    label = Text(truncate(one_line(s.label) or "(no label)", 120), style=MUTED_STYLE if row.muted else "")
    sources = Text(str(len(s.sources)), justify="right")
    return {
        "marks": marks,
        "posts": Text(str(s.size), justify="right"),
        "src": sources,
        "trend": Text(sparkline(row.trend), style="green"),
        "rate": Text(f"{s.velocity:.1f}/h", justify="right"),
        "age": Text(age(s.last_seen, now), justify="right"),
        "story": label,
    }


def highlighted(text: str, terms: tuple[str, ...]) -> Text:
    """`text` with each matched term highlighted (case-insensitive)."""
    body = Text(text)
    words = [one_line(t.removesuffix(LEARNED)) for t in terms if one_line(t)]
    if words:
        body.highlight_words(words, style="bold reverse", case_sensitive=False)
    return body


def post_cells(row: PostRow, now: datetime) -> tuple[Text, ...]:
    p = row.post.post
    line = one_line(p.title + " — " + p.text if p.title and p.title not in p.text else p.text or p.title)
    text = highlighted(truncate(line, ROW_TEXT_CHARS), row.post.matched)
    if row.also_on:
        text.append(f"  also on {', '.join(one_line(s) for s in row.also_on)}", style="italic dim")
    return (
        Text(age(p.published, now), justify="right"),
        Text(one_line(p.source, 16)),
        author_cell(p.author, muted=row.muted),
        text,
    )


def author_cell(author: str, *, muted: bool) -> Text:
    name = truncate(one_line(author) or "-", 18)
    return Text.assemble(MUTED, (name, MUTED_STYLE)) if muted else Text(name)


def post_detail(sp: StoredPost, also_on: tuple[str, ...]) -> Text:
    """The post view: who, where, when, the full text, the link, and why it matched."""
    p = sp.post
    out = Text()
    out.append(one_line(p.author) or "-", style="bold")
    out.append(f"  on {one_line(p.source)}  ·  {p.published:%Y-%m-%d %H:%M} UTC\n\n", style="dim")
    if p.title:
        out.append(one_line(p.title) + "\n\n", style="bold")
    full = printable(p.text)
    if len(full) > FULL_TEXT_CHARS:
        full = full[:FULL_TEXT_CHARS] + f"… ({len(p.text) - FULL_TEXT_CHARS} more characters)"
    out.append_text(highlighted(full, sp.matched))
    out.append("\n\nLink: ", style="dim")
    out.append(one_line(p.url) or "(none)", style="underline")
    out.append("\n\nWhy it matched\n", style="bold")
    out.append(f"  topics: {', '.join(one_line(t) for t in sp.topics) or '-'}\n")
    out.append(f"  terms:  {', '.join(one_line(t) for t in sp.matched) or '(all posts)'}\n")
    out.append(f"  score:  {sp.score:.2f}\n")
    out.append(f"  story:  {'#' + str(sp.story) if sp.story is not None else '-'}\n")
    if sp.duplicate_of:
        out.append(f"  near-duplicate of {one_line(sp.duplicate_of[0])}/{one_line(sp.duplicate_of[1])}\n")
    if also_on:
        out.append(f"  also on {', '.join(one_line(s) for s in also_on)}\n")
    return out


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact of the status line in full and in short words; the lowest `keep` goes first when narrow."""

    full: Text
    short: Text
    keep: int


def status_line(health: Health | None, topic: str | None, notes: Sequence[str], width: int) -> Text:
    """Every fact in full words if they fit `width`, else in short ones, else without the least needed."""
    if health is None:
        return Text("loading…")
    facts = status_facts(health, topic, notes)
    for short in (False, True):
        line = joined(facts, short)
        if line.cell_len <= width:
            return line
    while len(facts) > 1 and joined(facts, short=True).cell_len > width:
        facts.remove(min(facts, key=lambda f: f.keep))
    line = joined(facts, short=True)
    line.truncate(width, overflow="ellipsis")
    return line


def status_facts(health: Health, topic: str | None, notes: Sequence[str]) -> list[Fact]:
    """In the line's order: the daemon, the feeds, the last hour's posts, freshness, the topic (also in
    the stories' title), the filters; `keep` ranks which stay longest."""
    alive = ("● daemon alive", "● alive", "bold green") if health.alive else ("○ daemon down", "○ down", "bold red")
    if health.workers:  # several daemons share PostgreSQL: how many are alive, how far the stories lag
        alive = (*workers_fact(health.workers, health.lag, health.now), alive[2])
    facts = [Fact(Text(alive[0], style=alive[2]), Text(alive[1], style=alive[2]), keep=9)]
    st = health.stats
    if st is not None:
        feeds = Text(f"feeds {st.feeds_ok} ok")
        if st.feeds_failing:
            feeds.append(f", {st.feeds_failing} failing", style="bold red")
        facts.append(Fact(feeds, feeds, keep=8))
        facts.append(Fact(Text(f"{st.posts_last_hour} posts in the last hour"), Text(f"{st.posts_last_hour} posts/h"),
                          keep=5))
        when = age(st.last_write, health.now) if st.last_write else None
        facts.append(Fact(Text(f"updated {when} ago" if when else "no writes yet"),
                          Text(f"updated {when}" if when else "no writes"), keep=6))
    name = one_line(topic) if topic else "-"
    facts.append(Fact(Text(f"topic: {name}", style="bold"), Text(name, style="bold"), keep=4))
    facts += [Fact(Text(note, style="italic"), Text(note, style="italic"), keep=7) for note in notes]
    return facts


def joined(facts: Sequence[Fact], short: bool) -> Text:
    return Text("  ", no_wrap=True).join(f.short if short else f.full for f in facts)
