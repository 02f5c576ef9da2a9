"""Text from the internet, made safe: the one home of every rule that strips or escapes characters.

Two levels, because stored text and shown text need different things:

- `strip_controls`: what the sources store. Terminal escape sequences, control characters and bidi
  overrides go; direction marks (LRM, RLM, ALM) stay, since right-to-left writing uses them.
- `printable` and `one_line`: what a terminal is given. Also without direction marks and the other
  invisible format characters (they spoof order and break column widths); `json_dumps` escapes them.
"""

from __future__ import annotations

import json
import re

# C0 controls but tab and newline, DEL, C1 controls.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
# Bidi embeddings, overrides and isolates: they reorder everything after them.
_BIDI_OVERRIDES = "\u202a-\u202e\u2066-\u2069"
# Direction marks: harmless in data, but they spoof the order of what a terminal shows.
_DIRECTION_MARKS = "\u200e\u200f\u061c"

_UNSAFE_IN_DATA = re.compile(f"[{_CONTROLS}{_BIDI_OVERRIDES}]")
_UNSAFE_ON_SCREEN = re.compile(f"[{_CONTROLS}{_BIDI_OVERRIDES}{_DIRECTION_MARKS}]")

# Escape sequences are removed whole, so no "[31m" debris is left behind.
_ESCAPE_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC ... BEL / ST
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC ... ST
    r"|\x1b[ -/]*[0-~]?"  # any other ESC sequence (or a lone ESC)
)
_ESCAPE_START = re.compile("[\x1b\x90-\x9f]")
# The 7-bit sequences only: in raw UTF-8 bytes, 0x80-0x9f are continuation bytes, not C1 controls.
_ESCAPE_SEQUENCES_IN_BYTES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]?"
)
# Unicode's format characters (category Cf: direction marks, zero-width spaces, soft hyphens...) but the
# zero-width joiner, which holds emoji together. Written out as ranges because the stdlib's re has no
# categories and importing `regex` for this one class cost ~8 ms of every start; a loop per character
# is 3-8x slower (bench/textsafe.py). tests/test_textsafe.py checks them against regex's \p{Cf}.
FORMAT_RANGES = (
    (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891), (0x8E2, 0x8E2),
    (0x180E, 0x180E), (0x200B, 0x200C), (0x200E, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)
_INVISIBLE_FORMAT = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in FORMAT_RANGES) + "]")


def strip_controls(text: str) -> str:
    """`text` without terminal escape sequences, control characters (but tab and newline) or bidi overrides."""
    if text.isprintable() or not _UNSAFE_IN_DATA.search(text):  # controls and bidi overrides are not printable
        return text
    if _ESCAPE_START.search(text):  # the full pattern is slow to scan; most text has no ESC at all
        text = _ESCAPE_SEQUENCES.sub("", text)
    return _UNSAFE_IN_DATA.sub("", text)


def strip_escape_sequences(body: bytes) -> bytes:
    """Raw bytes without 7-bit terminal escape sequences (parsers drop a lone ESC but keep its tail)."""
    return _ESCAPE_SEQUENCES_IN_BYTES.sub(b"", body) if b"\x1b" in body else body


def printable(text: str) -> str:
    """`text` safe to show: `strip_controls`, and no direction marks or other invisible format characters."""
    text = strip_controls(text)
    return text if text.isascii() else _INVISIBLE_FORMAT.sub("", text)


def one_line(text: str, limit: int | None = None) -> str:
    """`printable` on one line (runs of whitespace become one space), cut to `limit` characters."""
    line = " ".join(printable(text).split())
    return line if limit is None else truncate(line, limit)


def truncate(text: str, width: int) -> str:
    """At most `width` characters, ending in an ellipsis when cut."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def json_dumps(value: object, *, indent: int | None = 2) -> str:
    """JSON that keeps readable Unicode but escapes what a terminal would act on."""
    raw = json.dumps(value, ensure_ascii=False, indent=indent, default=str)
    return _UNSAFE_ON_SCREEN.sub(lambda m: f"\\u{ord(m.group()):04x}", raw)
