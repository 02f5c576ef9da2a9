"""The reader's own state (muted, read, pinned): a small JSON file, never the daemon's database."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Prefs:
    """Muted stories and authors, stories marked read (with their size then), pinned stories."""

    path: Path | None = None
    muted_stories: set[int] = field(default_factory=set)
    muted_authors: set[str] = field(default_factory=set)
    read: dict[int, int] = field(default_factory=dict)
    pinned: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def load(cls, path: Path | None) -> Prefs:
        """The prefs at `path`; empty ones when the file is missing or unreadable (never fatal)."""
        prefs = cls(path)
        if path is None or not path.exists():
            return prefs
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            prefs._fill(raw)
        except (OSError, ValueError, TypeError, AttributeError) as e:
            log.warning("%s: ignoring unreadable dashboard state: %s", path, e)
        return prefs

    def _fill(self, raw: dict[str, Any]) -> None:
        self.muted_stories = {int(x) for x in raw.get("muted_stories", [])}
        self.muted_authors = {str(x) for x in raw.get("muted_authors", [])}
        self.read = {int(k): int(v) for k, v in dict(raw.get("read", {})).items()}
        self.pinned = [int(x) for x in raw.get("pinned", [])]

    def to_json(self) -> dict[str, Any]:
        return {
            "muted_stories": sorted(self.muted_stories),
            "muted_authors": sorted(self.muted_authors),
            "read": {str(k): v for k, v in sorted(self.read.items())},
            "pinned": list(self.pinned),
        }

    def save(self) -> None:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        if self.path is None:
            return
        with self._lock:
            data = json.dumps(self.to_json(), indent=1)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".dash-", suffix=".json", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(data)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def toggle_mute_story(self, story_id: int) -> bool:
        """Mute or unmute; returns whether it is muted now."""
        return _toggle(self.muted_stories, story_id)

    def toggle_mute_author(self, author: str) -> bool:
        return _toggle(self.muted_authors, author)

    def toggle_pin(self, story_id: int) -> bool:
        if story_id in self.pinned:
            self.pinned.remove(story_id)
            return False
        self.pinned.insert(0, story_id)
        return True

    def mark_read(self, story_id: int, size: int) -> None:
        self.read[story_id] = size

    def is_new(self, story_id: int, size: int) -> bool:
        """Unread, or grown since it was marked read."""
        return size > self.read.get(story_id, 0)


def _toggle(items: set[T], item: T) -> bool:
    if item in items:
        items.discard(item)
        return False
    items.add(item)
    return True


def prefs_path_for(storage_url: str, config_path: Path) -> Path:
    """Beside a SQLite file (`monitor.db` → `monitor.db.dash.json`); beside feeds.toml otherwise."""
    from storage.engine import normalize_url, sqlite_path

    db = sqlite_path(normalize_url(storage_url))
    if db is not None:
        return db.with_name(db.name + ".dash.json")
    return config_path.resolve().parent / ".monitor-dash.json"
