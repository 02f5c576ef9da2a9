"""One home for text cleaning: every rule that strips or escapes characters lives in monitor/textsafe.py."""

from __future__ import annotations

import re
from pathlib import Path

from monitor.sources import reddit
from monitor.textsafe import json_dumps, one_line, printable, strip_controls

ROOT = Path(__file__).resolve().parents[1]
# What a copy of the rules looks like in source: the C1 range, or a CSI pattern.
RULE_COPY = re.compile(r"x7f-\\x9f|x1b\\\\?\[|\\x1b\\\[")


def test_no_module_but_textsafe_holds_a_control_character_rule() -> None:
    copies = [
        str(path.relative_to(ROOT))
        for room in ("monitor", "storage")
        for path in sorted((ROOT / room).rglob("*.py"))
        if path.name != "textsafe.py" and RULE_COPY.search(path.read_text(encoding="utf-8"))
    ]
    assert copies == []


def test_an_api_source_drops_escape_sequences_whole() -> None:
    item = {"name": "t3_x", "created_utc": 1_700_000_000, "permalink": "/r/x/comments/1/",
            "title": "Volcano \x1b[31mred\x1b[0m alert \x9b1m now", "author": "a"}
    post = reddit.to_post("reddit", item)
    assert post is not None
    assert post.title == "Volcano red alert now", "no '[31m' debris is stored"


def test_stored_text_keeps_direction_marks_shown_text_does_not() -> None:
    hebrew = "\u200fשלום\u200e 123 \u061c"
    assert strip_controls(hebrew) == hebrew, "right-to-left writing uses the marks: the data keeps them"
    assert printable(hebrew) == "שלום 123 "
    assert json_dumps(hebrew) == '"\\u200fשלום\\u200e 123 \\u061c"'


def test_shown_text_has_no_invisible_format_characters_but_keeps_emoji_joined() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert printable(f"zero\u200bwidth soft\u00adhyphen \ufeffbom {family}") == f"zerowidth softhyphen bom {family}"


def test_one_line_folds_and_cuts() -> None:
    assert one_line("a\n\n b\t\x1b]8;;http://evil.example\x07c\x1b]8;;\x07", 4) == "a b…"
    assert one_line("a\n\n b\tc") == "a b c"


def test_the_format_characters_written_out_are_regexs_unicode_category_cf_but_the_joiner() -> None:
    import regex

    from monitor.textsafe import FORMAT_RANGES

    category = regex.compile(r"[\p{Cf}--\u200d]", regex.V1)
    written = {code for low, high in FORMAT_RANGES for code in range(low, high + 1)}
    assert written == {code for code in range(0x110000) if category.match(chr(code))}
    assert printable("a\u00adb\u200bc\u200d\U000e0041") == "abc\u200d"
