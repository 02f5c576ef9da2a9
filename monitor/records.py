"""Posts to and from files: JSONL and CSV with the DESIGN.md fields (ingest and export)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from monitor.errors import UsageError
from monitor.textsafe import printable
from storage.types import Post

FIELDS = ("id", "source", "author", "url", "text", "published")


def read_posts(path: Path) -> Iterator[Post]:
    """Posts from a .jsonl or .csv file; a malformed row stops with its line number."""
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None
    with handle:
        rows = _csv_rows(handle) if path.suffix.lower() == ".csv" else _jsonl_rows(handle, path)
        try:
            for line, row in rows:
                yield _post(row, f"{path}:{line}")
        except UnicodeDecodeError:
            raise UsageError(f"{path}: not UTF-8 text") from None
        except csv.Error as e:
            raise UsageError(f"{path}: bad CSV: {e}") from None


def _jsonl_rows(handle: IO[str], path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise UsageError(f"{path}:{number}: not a JSON object: {e.msg}") from None
        if not isinstance(row, dict):
            raise UsageError(f"{path}:{number}: not a JSON object")
        yield number, row


def _csv_rows(handle: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(handle)
    for row in reader:
        yield reader.line_num, row


def _post(row: dict[str, Any], where: str) -> Post:
    missing = [f for f in ("id", "text") if not str(row.get(f) or "").strip()]
    if missing:
        raise UsageError(f"{where}: missing {', '.join(missing)}")
    return Post(
        id=str(row["id"]),
        source=str(row.get("source") or "ingest"),
        author=str(row.get("author") or ""),
        url=str(row.get("url") or ""),
        text=str(row["text"]),
        published=_when(row.get("published"), where),
        title=str(row.get("title") or ""),
        kind="ingest",
    )


def _when(value: object, where: str) -> datetime:
    if value in (None, ""):
        raise UsageError(f"{where}: missing published")
    try:
        if isinstance(value, int | float) or str(value).isdigit():
            seconds = float(value)  # type: ignore[arg-type]
            return datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, UTC)
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"{where}: published {str(value)[:40]!r} is not an ISO 8601 time") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str], columns: list[str]) -> None:
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        value = ";".join(map(str, value))
    return printable(value) if isinstance(value, str) else value
