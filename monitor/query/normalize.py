"""Text folding shared by the query compiler and the matcher.

Both sides go through `fold_words`, so a query term and a post agree on what a word is:
NFKC (full-width → ASCII), casefold, Latin accents stripped, every run of non-word characters
turned into one space, the whole padded with spaces. Whole-word matching is then a substring
search for " word " — no regex alternation, no boundary checks per hit.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata

from monitor.query.marks import mark_ranges

# Combining marks of the Latin-oriented blocks only: stripping Devanagari or Thai vowel signs
# would change the word, stripping an acute accent does not.
_LATIN_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# '#' and '@' survive only at the start of a word (hashtags, mentions).
_STRAY_SIGILS = re.compile(r"(?<=[\w#@])[#@]|[#@](?!\w)")


def _mark_ranges() -> str:
    """Regex class body for every combining mark: `\\w` leaves them out, which would cut
    Devanagari or Arabic words apart at each vowel sign."""
    return "".join(f"{chr(start)}-{chr(end)}" for start, end in mark_ranges())


_NON_WORD = re.compile(f"[^\\w{_mark_ranges()}#@]+")
# ASCII fast path: bytes.translate is a plain table lookup in C, ten times faster than
# str.translate with a dict or a regex; collapsing spaces by halving beats split/join.
_HASH, _AT = ord("#"), ord("@")
_ASCII_BYTES = bytes(
    32 if not (chr(c).isalnum() or chr(c) in "_#@") else ord(chr(c).lower()) if c < 128 else c for c in range(256)
)


def fold(text: str) -> str:
    """Case-, width- and accent-insensitive form of `text` (punctuation kept)."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKC", text).casefold()
    if folded.isascii():
        return folded
    return unicodedata.normalize("NFC", _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", folded)))


class _NeedsFullFold(Exception):
    """A run of non-ASCII characters whose fold is not ASCII (Arabic, Greek, Devanagari...)."""


@functools.lru_cache(maxsize=4096)
def _ascii_run(run: str) -> str | None:
    """A run of non-ASCII characters folded on its own, non-word characters as spaces, if that is ASCII.

    Cached: in English text the runs are a few typographic marks (’ “ ” — … NBSP) and accented
    letters, over and over."""
    folded = _NON_WORD.sub(" ", fold(run))
    return folded if folded.isascii() else None


def _fold_run(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    folded = _ascii_run(error.object[error.start : error.end])
    if folded is None:
        raise _NeedsFullFold
    return folded, error.end


codecs.register_error("monitor.fold_run", _fold_run)


# The typography of English text: non-word characters whose fold is non-word and which compose with
# nothing, so a space in their place gives the same words. A replace in C costs far less than a call
# of the error handler for each of them.
_TYPOGRAPHY = "\u2019\u2018\u201c\u201d\u2014\u2013\u2026\u00ab\u00bb\u00a0"  # ’ ‘ “ ” — – … « » NBSP


def _ascii_bytes(text: str) -> bytes | None:
    """`text` as ASCII with each run of other characters folded on its own, or None where a run's fold
    is not ASCII. Same words as folding the whole text: an ASCII character never composes with or
    decomposes into its neighbours, except a base with a Latin accent, which both ways drop."""
    if not text.isascii():
        for mark in _TYPOGRAPHY:
            if mark in text:
                text = text.replace(mark, " ")
    try:
        return text.encode("ascii", "monitor.fold_run")
    except _NeedsFullFold:
        return None


def fold_words(text: str) -> str:
    """`text` as ' word word #tag @name ': folded, one space between words, padded."""
    raw = _ascii_bytes(f" {text} ")
    if raw is None:
        return _fold_words_unicode(text)
    raw = raw.translate(_ASCII_BYTES)
    # Halve runs of spaces until none is left; a replace that finds nothing returns its input,
    # which costs one search instead of a separate `in` test before every replace.
    while len(shorter := raw.replace(b"  ", b" ")) != len(raw):
        raw = shorter
    folded = raw.decode("ascii")
    if "#" in folded or "@" in folded:
        return _padded(_STRAY_SIGILS.sub(" ", folded))
    return folded


def _fold_words_unicode(text: str) -> str:
    """`fold_words` the long way, for any text: the definition the fast path must agree with."""
    folded = fold(text)
    if "#" in folded or "@" in folded:  # the look-behind regex is slow; most text has no sigil
        folded = _STRAY_SIGILS.sub(" ", folded)
    return _padded(_NON_WORD.sub(" ", folded))


def _padded(spaced: str) -> str:
    """Words separated by any whitespace → ' w1 w2 '; no words → ' ' (one space, never two)."""
    joined = " ".join(spaced.split())
    return f" {joined} " if joined else " "


def loose_words(text: str) -> str | None:
    """`text` folded like `fold_words` but with runs of spaces left as they are, or None when the
    text needs the full fold (a run with no ASCII fold, or '#'/'@' to sort out). A cheap screen."""
    raw = _ascii_bytes(f" {text} ")
    if raw is None or _HASH in raw or _AT in raw:  # an int: `b"#" in raw` takes a much slower search
        return None
    return raw.translate(_ASCII_BYTES).decode("ascii")


def collapse_spaces(loose: str) -> str:
    """`fold_words` of a text, from its `loose_words` form (cheaper than folding the text again)."""
    return _padded(loose)


def words(text: str) -> list[str]:
    """The folded words of `text` (hashtags keep their '#')."""
    return fold_words(text).split()
