"""`monitor ARGS` run in this process, the way `main` runs it, with what it printed: fast enough for a
test to call it dozens of times (tests/support/cli.py runs the real subprocess)."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from typing import Literal, overload

from monitor.cli import main


@overload
def run_cli(*argv: str, binary: Literal[False] = False) -> tuple[int, str, str]: ...


@overload
def run_cli(*argv: str, binary: Literal[True]) -> tuple[int, bytes, str]: ...


def run_cli(*argv: str, binary: bool = False) -> tuple[int, str, str] | tuple[int, bytes, str]:
    """(exit code, stdout, stderr); stdout as bytes with `binary` (what a command wrote to sys.stdout.buffer)."""
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    err = io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code if isinstance(exit_.code, int) else 2
        sys.stdout.flush()
    return (code, raw.getvalue(), err.getvalue()) if binary else (code, raw.getvalue().decode(), err.getvalue())
