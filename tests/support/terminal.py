"""`monitor` in a real pseudo-terminal of a fixed size: what it drew, and how it left the terminal."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.support.cli import clean_env

# What a full-screen app must write on its way out, or the shell is left unusable.
LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"
MOUSE_OFF = b"\x1b[?1000l"


class Terminal:
    """`monitor *argv` with a pty as its stdout and stderr, and as its stdin unless `stdin` is given;
    `output` is every byte it wrote."""

    def __init__(self, *argv: str, cwd: Path, size: tuple[int, int] = (120, 30), stdin: int | None = None) -> None:
        self.master, slave = os.openpty()
        columns, lines = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        env = clean_env(TERM="xterm-256color", COLUMNS=str(columns), LINES=str(lines))
        self.process = subprocess.Popen([sys.executable, "-m", "monitor.cli", *argv],
                                        stdin=slave if stdin is None else stdin, stdout=slave,
                                        stderr=slave, cwd=cwd, env=env, start_new_session=True)
        os.close(slave)
        self.output = b""

    def read_until(self, wanted: bytes, timeout: float = 60) -> None:
        """Read what the app writes until `wanted` has appeared; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while wanted not in self.output:
            if time.monotonic() > deadline or not self._read(deadline - time.monotonic()):
                raise AssertionError(f"{wanted!r} not drawn within {timeout:g} s; got {self.output[-400:]!r}")

    def wait(self, timeout: float = 60) -> int:
        """Read to the end of the app's output, then its exit code."""
        deadline = time.monotonic() + timeout
        while self._read(deadline - time.monotonic()):
            pass
        return self.process.wait(max(0.0, deadline - time.monotonic()))

    def _read(self, timeout: float) -> bool:
        """One read; False at the end of output (or when `timeout` passes with nothing to read)."""
        ready, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every process holding the terminal has closed it
            return False
        self.output += chunk
        return bool(chunk)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def left_clean(output: bytes) -> bool:
    """After its last drawing, the app left the alternate screen and turned mouse reporting off."""
    tail = output[output.rfind(b"\x1b[?1049h"):]
    return LEAVE_ALTERNATE_SCREEN in tail and MOUSE_OFF in tail
