"""monitor ingest reads the whole file before storing anything, and reads it once when it is small."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.commands import ingest
from monitor.errors import UsageError
from monitor.records import read_posts
from storage.types import Post


def write_posts(path: Path, count: int, tail: str = "") -> Path:
    rows = [{"id": str(n), "source": "rss", "text": f"post {n}", "published": "2024-03-01T12:00:00Z"}
            for n in range(count)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows) + tail, encoding="utf-8")
    return path


def counting(reads: list[Path]) -> Callable[[Path], Iterator[Post]]:
    """read_posts, noting each read in `reads`."""

    def read(path: Path) -> Iterator[Post]:
        reads.append(path)
        return read_posts(path)
    return read


@pytest.mark.parametrize(("kept", "reads_expected"), [(10, 1), (2, 2)])
def test_every_post_comes_back_after_one_read_of_a_small_file_or_two_of_a_big_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int, reads_expected: int,
) -> None:
    monkeypatch.setattr(ingest, "KEPT", kept)
    path = write_posts(tmp_path / "p.jsonl", 5)
    reads: list[Path] = []
    posts = list(ingest._checked(path, counting(reads)))
    assert [p.id for p in posts] == ["0", "1", "2", "3", "4"]
    assert len(reads) == reads_expected


@pytest.mark.parametrize("kept", [10, 2])
def test_a_bad_row_at_the_end_fails_before_any_post_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int,
) -> None:
    monkeypatch.setattr(ingest, "KEPT", kept)
    path = write_posts(tmp_path / "p.jsonl", 5, tail='{"id": "x", "text": \n')
    with pytest.raises(UsageError, match=r"p\.jsonl:6"):
        ingest._checked(path, read_posts)
