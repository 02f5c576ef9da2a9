"""Rich `Text` for stories, posts and the status line. Post text is never parsed as markup."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from monitor.textsafe import one_line, printable, truncate
from monitor.tui.board import Health, PostRow, StoryRow
from storage.types import StoredPost

SPARK = "▁▂▃▄▅▆▇█"
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


def story_cells(row: StoryRow, now: datetime) -> tuple[Text, ...]:
    s = row.story
    marks = Text()
    marks.append("📌" if row.pinned else "  ")
    marks.append("●" if row.new else " ", style="bold yellow" if row.new else "")
    marks.append("⚡" if s.spike else " ", style="bold red")
    label = Text(truncate(one_line(s.label) or "(no label)", 120))
    sources = Text(str(len(s.sources)), justify="right")
    return (
        marks,
        Text(str(s.size), justify="right"),
        sources,
        Text(sparkline(row.trend), style="green"),
        Text(f"{s.velocity:.1f}/h", justify="right"),
        Text(age(s.last_seen, now), justify="right"),
        label,
    )


def highlighted(text: str, terms: tuple[str, ...]) -> Text:
    """`text` with each matched term highlighted (case-insensitive)."""
    body = Text(text)
    words = [one_line(t) for t in terms if one_line(t)]
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
        Text(truncate(one_line(p.author) or "-", 18)),
        text,
    )


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
    out.append(f"  story:  {'#' + str(sp.cluster) if sp.cluster is not None else '-'}\n")
    if sp.duplicate_of:
        out.append(f"  near-duplicate of {one_line(sp.duplicate_of[0])}/{one_line(sp.duplicate_of[1])}\n")
    if also_on:
        out.append(f"  also on {', '.join(one_line(s) for s in also_on)}\n")
    return out


def status_line(health: Health | None, topic: str | None, filters: str) -> Text:
    out = Text(no_wrap=True, overflow="ellipsis")
    if health is None:
        return Text("loading…")
    if health.alive:
        out.append("● daemon alive", style="bold green")
    else:
        out.append("○ daemon down", style="bold red")
    st = health.stats
    if st is not None:
        out.append(f"  feeds {st.feeds_ok} ok")
        out.append(f", {st.feeds_failing} failing", style="bold red" if st.feeds_failing else "")
        out.append(f"  {st.posts_last_hour} posts in the last hour")
        out.append(f"  updated {age(st.last_write, health.now)} ago" if st.last_write else "  no writes yet")
    out.append(f"  topic: {one_line(topic) if topic else '-'}", style="bold")
    if filters:
        out.append(f"  {filters}", style="italic")
    return out
