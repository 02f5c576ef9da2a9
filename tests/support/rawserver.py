"""A TCP server on 127.0.0.1 that speaks raw bytes: what HTTP servers must not do, or exactly what a
test scripts, below any HTTP library's own rules."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

Handler = Callable[[socket.socket, threading.Event], None]


class RawServer:
    """Reads each connection's first request head, then leaves the connection to `handle(conn, stop)`;
    it counts the connections it accepts."""

    def __init__(self, handle: Handler) -> None:
        self.handle = handle
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.sent = 0
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            read_head(conn)
            with contextlib.suppress(OSError):  # the client hung up: what most tests want
                self.handle(conn, self.stop)

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def read_head(conn: socket.socket) -> bytes:
    """A request's head, or what came before the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def scripted(answers: list[bytes]) -> Handler:
    """Each request on a connection answered with the next of `answers`, from the first on every new
    connection; the connection stays open until the client closes it or the answers run out."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        for n, answer in enumerate(answers):
            if n and b"\r\n\r\n" not in read_head(conn):
                return
            conn.sendall(answer)

    return handle
