"""A screen that reads the store in a worker thread when it opens and every two seconds after, and
shows what it read in a keyed table: the feeds and alerts screens."""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar, cast

from textual import work
from textual.message import Message
from textual.screen import Screen

from monitor.tui.widgets.rows import KeyedTable
from storage.errors import StorageError

T = TypeVar("T")
EVERY = 2.0  # seconds: ages and delivery states move on their own, so no revision check decides


class Refreshing(Screen[None], Generic[T]):
    """Subclasses give the table's `COLUMNS`, `read` (in the worker: the store, nothing of Textual) and
    `show` (on the screen's thread)."""

    COLUMNS: ClassVar[tuple[str, ...]] = ()

    class Read(Message):
        def __init__(self, value: object) -> None:
            super().__init__()
            self.value = value

    def read(self) -> T:
        raise NotImplementedError

    def show(self, value: T) -> None:
        raise NotImplementedError

    def on_mount(self) -> None:
        table = self.query_one(KeyedTable)
        for name in self.COLUMNS:
            table.add_column(name, key=name)
        self.load()
        self.set_interval(EVERY, self.load)

    @work(thread=True, exclusive=True, group="refresh")
    def load(self) -> None:
        try:
            value = self.read()
        except StorageError as e:
            self.app.call_from_thread(self.notify, str(e), severity="error", markup=False)
            return
        self.post_message(self.Read(value))

    def on_refreshing_read(self, message: Read) -> None:
        self.show(cast(T, message.value))
