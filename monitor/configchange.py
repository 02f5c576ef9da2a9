"""What an edit of feeds.toml changes for a running daemon: pure, two configs in, one change out.

The daemon (monitor.daemon) applies it without a restart: new feeds are polled at once, removed ones
are no longer polled (their posts stay), a feed that now reads something else starts afresh (the old
address's ETag and cursor mean nothing to the new one), a new interval applies from the next poll,
new topics mean a new matcher, and new alert rules a new sender. The storage URL cannot change under a running daemon.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.config import Config, Feed


@dataclass(frozen=True, slots=True)
class ConfigChange:
    added: tuple[Feed, ...] = ()
    removed: tuple[str, ...] = ()
    readdressed: tuple[Feed, ...] = ()
    """Feeds that read something else now (another kind, URL, account, topic ...)."""
    retimed: tuple[Feed, ...] = ()
    """Feeds whose only change is their interval."""
    topics: bool = False
    alerts: bool = False
    storage: bool = False
    """The storage URL changed: only a restart can follow it."""

    def __bool__(self) -> bool:
        return any((self.added, self.removed, self.readdressed, self.retimed, self.topics, self.alerts, self.storage))

    def summary(self) -> str:
        """One line for the log: `+2 feeds (a, b); -1 feed (c); topics changed`."""
        parts = [
            _listed("+", self.added_names), _listed("-", self.removed), _listed("changed ", self.readdressed_names),
            _listed("new interval for ", tuple(f.name for f in self.retimed)),
            "topics changed" if self.topics else "", "alert rules changed" if self.alerts else "",
        ]
        return "; ".join(p for p in parts if p) or "nothing the daemon uses"

    @property
    def added_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.added)

    @property
    def readdressed_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.readdressed)


def changes(old: Config, new: Config) -> ConfigChange:
    before = {f.name: f for f in old.feeds}
    after = {f.name: f for f in new.feeds}
    kept = [name for name in after if name in before and after[name] != before[name]]
    return ConfigChange(
        added=tuple(f for name, f in after.items() if name not in before),
        removed=tuple(name for name in before if name not in after),
        readdressed=tuple(after[n] for n in kept if _reads(after[n]) != _reads(before[n])),
        retimed=tuple(after[n] for n in kept if _reads(after[n]) == _reads(before[n])),
        topics=old.topics != new.topics,
        alerts=old.alerts != new.alerts,
        storage=old.storage_url != new.storage_url,
    )


def _reads(feed: Feed) -> tuple[object, ...]:
    return feed.type, dict(feed.options), dict(feed.secrets)


def _listed(sign: str, names: tuple[str, ...]) -> str:
    if not names:
        return ""
    noun = "feed" if len(names) == 1 else "feeds"
    return f"{sign}{len(names)} {noun} ({', '.join(names)})"
