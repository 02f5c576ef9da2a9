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

from selectolax.lexbor import LexborHTMLParser, LexborNode

MAX_INPUT_CHARS = 1_000_000
"""Longer input is cut before parsing: a post's text is never legitimately bigger."""

_DROPPED_TAGS = "script, style, noscript, template, head, iframe, object, svg, math"

_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)

# Terminal escape sequences are removed whole, so no "[31m" debris is left behind.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC ... BEL / ST
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC ... ST
    r"|\x1b[ -/]*[0-~]?"  # any other ESC sequence (or a lone ESC)
)
# C0 except \t and \n, DEL, C1; bidi embeddings/overrides/isolates (they reorder what follows).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[^\S\n]+")
_BREAKS = re.compile(r" ?\n[\s]*")


def strip_controls(text: str) -> str:
    """Remove terminal escape sequences, control characters and bidi overrides."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def collapse_whitespace(text: str) -> str:
    """Runs of spaces become one space; runs of line breaks one newline; ends trimmed."""
    return _BREAKS.sub("\n", _SPACES.sub(" ", text)).strip()


def html_to_text(html: str, base_url: str | None = None) -> str:
    """Plain text of an HTML fragment or document: entities decoded, scripts/styles dropped.

    Block elements become line breaks, other whitespace collapses to single spaces.
    `base_url` is accepted so callers can pass their page URL; plain text keeps no links,
    so it does not change the result today.
    """
    del base_url
    html = html[:MAX_INPUT_CHARS]
    if "<" not in html and "&" not in html:
        return collapse_whitespace(strip_controls(html))
    # Controls first: NUL and friends upset some HTML parsers' notion of where text ends.
    tree = LexborHTMLParser(strip_controls(html))
    root = tree.root
    if root is None:
        return ""
    for node in root.css(_DROPPED_TAGS):
        node.decompose()
    return collapse_whitespace(strip_controls(_text_with_breaks(root)))


def _text_with_breaks(root: LexborNode) -> str:
    parts: list[str] = []
    for node in root.traverse(include_text=True):
        if node.is_text_node:
            parts.append(node.text_content or "")
        elif node.tag in _BLOCK_TAGS:
            parts.append("\n")
        elif node.tag == "img":
            # An image's alt text is often the only text of a media post.
            alt = node.attributes.get("alt")
            if alt:
                parts.append(f" {alt} ")
    return "".join(parts)
