"""Text from the internet, made safe for a terminal: no escape sequences, no bidi tricks.

Sources already strip control characters; this is the last line before anything is printed.
"""

from __future__ import annotations

import json
import re
import unicodedata

# C0 controls but tab/newline, DEL, C1 controls, bidi embeddings/overrides/isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` without escape sequences or control characters; newlines folded when `one_line`."""
    text = _UNSAFE.sub("", _ESCAPE_SEQUENCE.sub("", text))
    if one_line:
        text = " ".join(text.split())
    return text


def truncate(text: str, width: int) -> str:
    """At most `width` characters, ending in an ellipsis when cut."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def json_dumps(value: object, *, indent: int | None = 2) -> str:
    """JSON that keeps readable Unicode but escapes what a terminal would act on."""
    raw = json.dumps(value, ensure_ascii=False, indent=indent, default=str)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", raw)


def strip_marks(text: str) -> str:
    """Zero-width and format characters removed (they break column widths in tables)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf" or ch == "\u200d")
