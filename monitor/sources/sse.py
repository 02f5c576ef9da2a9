"""Server-sent events (the EventSource wire format) from bytes as they arrive, with a size bound.

Written here rather than taken from httpx-sse: that library buffers a line until its end without
limit, and a server that never ends one would grow memory for ever. Here an event longer than
`limit` bytes is skipped whole and reported, and memory stays within about `limit`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    """The `event:` field ("message" when the event names none)."""
    data: str
    oversize: bool = False
    """The event was longer than the limit: skipped, its name and data empty."""


class EventDecoder:
    """Feed it the body's chunks; it returns the events they complete. Comments (heartbeats) and
    the `id` and `retry` fields are read past."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._pending = bytearray()
        self._name = ""
        self._data: list[str] = []
        self._size = 0
        self._skipping = False

    def feed(self, chunk: bytes) -> list[Event]:
        self._pending += chunk
        events: list[Event] = []
        start = 0
        while (end := _line_end(self._pending, start)) is not None:
            cut, after = end
            event = self._line(bytes(self._pending[start:cut]))
            if event is not None:
                events.append(event)
            start = after
        del self._pending[:start]
        if len(self._pending) > self.limit:  # one endless line: drop it as it comes
            self._pending.clear()
            self._skip()
        return events

    def _line(self, line: bytes) -> Event | None:
        if not line:
            return self._dispatch()
        if self._skipping or line.startswith(b":"):
            return None
        self._size += len(line)
        if self._size > self.limit:
            self._skip()
            return None
        field, _, value = line.partition(b":")
        text = value.removeprefix(b" ").decode("utf-8", "replace")
        if field == b"event":
            self._name = text
        elif field == b"data":
            self._data.append(text)
        return None

    def _dispatch(self) -> Event | None:
        skipped, name, data = self._skipping, self._name, self._data
        self._name, self._data, self._size, self._skipping = "", [], 0, False
        if skipped:
            return Event("", "", oversize=True)
        if not data:
            return None
        return Event(name or "message", "\n".join(data))

    def _skip(self) -> None:
        self._skipping, self._data, self._name = True, [], ""


def _line_end(buffer: bytearray, start: int) -> tuple[int, int] | None:
    """Where the line from `start` ends and the next begins (LF, CRLF or CR); None when it has not
    ended yet (a CR at the very end may still be followed by its LF)."""
    lf, cr = buffer.find(b"\n", start), buffer.find(b"\r", start)
    if cr == -1 or (lf != -1 and lf < cr):
        return (lf, lf + 1) if lf != -1 else None
    if cr + 1 == len(buffer):
        return None
    return cr, cr + 2 if buffer[cr + 1] == 0x0A else cr + 1
