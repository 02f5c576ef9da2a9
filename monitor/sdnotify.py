"""Tell systemd how the daemon is doing: sd_notify(3)'s protocol, a datagram of `NAME=VALUE` lines
sent to the socket named in $NOTIFY_SOCKET (a path, or `@name` in the abstract namespace).

A dozen lines rather than a dependency: the protocol is that small, and the libraries for it are
either C bindings (systemd-python needs libsystemd's headers to build) or unmaintained.
Outside systemd ($NOTIFY_SOCKET unset) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger("monitor.sdnotify")


class Notifier:
    """READY=1 once, WATCHDOG=1 from every tick while systemd watches, STOPPING=1 at the end."""

    def __init__(self, address: str | None, *, watchdog: bool = False) -> None:
        self.address = "\0" + address[1:] if address and address.startswith("@") else address
        self.watchdog = watchdog
        self.ready = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Notifier:
        """Watchdog pings only when systemd asked for them ($WATCHDOG_USEC, for this process)."""
        watched = bool(environ.get("WATCHDOG_USEC")) and environ.get("WATCHDOG_PID", str(os.getpid())) == str(
            os.getpid())
        return cls(environ.get("NOTIFY_SOCKET") or None, watchdog=watched)

    def tick(self, status: str) -> None:
        """The daemon's tick ran: the first one says READY=1 (with `status`), each one feeds the watchdog."""
        if not self.ready:
            self.ready = True
            self.send("READY=1", f"STATUS={status}")
        if self.watchdog:
            self.send("WATCHDOG=1")

    def stopping(self) -> None:
        self.send("STOPPING=1", "STATUS=stopping: finishing the polls in flight")

    def send(self, *fields: str) -> None:
        """One datagram; a socket that went away is logged, never raised (the daemon goes on)."""
        if not self.address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(fields).encode("utf-8"), self.address)
        except OSError as e:
            log.debug("sd_notify to %r failed: %s", self.address, e)
