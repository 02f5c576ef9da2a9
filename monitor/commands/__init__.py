"""One module per command. Each has NAME, HELP, `configure(parser)` and `run(args) -> exit code`.

Modules here are found by name, so adding a command is adding a module (named for what it does: a
command module never starts with test_, which reads as a test).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import Protocol, cast


class Command(Protocol):
    NAME: str
    HELP: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _discover() -> list[Command]:
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    commands = [cast(Command, importlib.import_module(f"{__name__}.{n}")) for n in names]
    return sorted(commands, key=lambda c: c.NAME)


COMMANDS: list[Command] = _discover()
