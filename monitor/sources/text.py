"""HTML (or already-plain text) from the internet → safe plain text, shared by every source.

Why selectolax (lexbor) and not lxml: bench/parsers.py measures both on the feed summaries of
../shared/data/feeds; lexbor is an HTML5 parser (same recovery as a browser), never resolves
entities or fetches anything, and is several times faster than lxml.html on small fragments.

Everything here is hostile input: the result carries no markup, no terminal control sequences
(ESC/CSI/OSC, C0/C1 controls other than newline and tab) and no bidi override characters, and the
work is bounded by truncating the input first.
"""

from __future__ import annotations

import re

from monitor.textsafe import strip_controls

MAX_INPUT_CHARS = 1_000_000
"""Longer input is cut before parsing: a post's text is never legitimately bigger."""

_DROPPED_TAGS = "script, style, noscript, template, head, iframe, object, svg, math"

# A line break goes where one of these starts or ends. It is marked in the HTML source with a
# private-use character, because letting the parser's C code extract the text and splitting on the
# mark afterwards is ~3x faster than walking the nodes in Python.
_BLOCK_TAG = re.compile(
    r"<(?=/?(?:address|article|aside|blockquote|br|dd|div|dl|dt|figcaption|figure|footer|h[1-6]|header"
    r"|hr|li|main|nav|ol|p|pre|section|table|tbody|td|th|thead|tr|ul)[\s/>])",
    re.IGNORECASE,
)
_BREAK_MARK = "\ue000"

_MARK_RUN = re.compile(" ?\ue000[\ue000 ]*")


# What str.splitlines() splits on: text without any is one line, the common case.
_LINE_BREAK = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def collapse_whitespace(text: str) -> str:
    """Runs of spaces become one space; runs of line breaks one newline; ends trimmed."""
    if text.isprintable():  # no whitespace but spaces: tabs, line breaks, NBSP... are not printable
        return _collapse_spaces(text)
    if not _LINE_BREAK.search(text):
        return " ".join(text.split())
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def plain_collapsed(text: str) -> str:
    """`collapse_whitespace(strip_controls(text))`, with one isprintable() scan of text that has
    nothing to strip (most of a feed's): that scan costs ~1.6 ns a character, and a feed item's
    title, summary, id and link went through three of them each."""
    if text.isprintable():  # no control, bidi override or whitespace but spaces: nothing to strip
        return _collapse_spaces(text)
    return collapse_whitespace(strip_controls(text))


def _collapse_spaces(printable: str) -> str:
    """A printable text (whose only whitespace is spaces) without runs of them or ends of them."""
    return printable if is_collapsed(printable) else " ".join(printable.split())


def is_collapsed(printable: str) -> bool:
    """Whether a printable text (whose only whitespace is spaces) has no runs of them and no ends of them."""
    return "  " not in printable and not printable.startswith(" ") and not printable.endswith(" ")


def html_to_text(html: str, base_url: str | None = None) -> str:
    """Plain text of an HTML fragment or document: entities decoded, scripts/styles dropped.

    Block elements become line breaks, other whitespace collapses to single spaces.
    `base_url` is accepted so callers can pass their page URL; plain text keeps no links,
    so it does not change the result today.
    """
    del base_url
    html = html[:MAX_INPUT_CHARS]
    if "<" not in html and "&" not in html:
        return plain_collapsed(html)
    # Controls first: NUL and friends upset some HTML parsers' notion of where text ends; the
    # break mark is a private-use character no honest text carries, so any in the input go too.
    marked = _BLOCK_TAG.sub(_BREAK_MARK + "<", strip_controls(html).replace(_BREAK_MARK, ""))
    from selectolax.lexbor import LexborHTMLParser  # imported by the first markup: a run that parses none spares it

    tree = LexborHTMLParser(marked)
    root = tree.root
    if root is None:
        return ""
    for node in root.css(_DROPPED_TAGS):
        node.decompose()
    for image in root.css("img[alt]"):  # an image's alt text is often all a media post says
        image.replace_with(f" {image.attributes.get('alt') or ''} ")
    text = " ".join(strip_controls(root.text(separator="")).split())
    return _MARK_RUN.sub("\n", text).strip("\n ")
