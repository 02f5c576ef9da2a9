"""One module per command. Each has NAME, HELP, `configure(parser)` and `run(args) -> exit code`.

Modules here are found by name, so adding a command is adding a module (named for what it does: a
command module never starts with test_, which reads as a test). NAME and HELP are each one line
`NAME = "..."` that `listed` reads from the module's text without importing it: `monitor --help`
names every command, and a command imports its own module alone, not all of them and their imports.
"""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path
from typing import NamedTuple, Protocol, cast

_FIELD = re.compile(r'\n(NAME|HELP) = "([^"\\\n]*)"$', re.MULTILINE)
"""A line `NAME = "..."` or `HELP = "..."`, matched from its newline (a tenth of the time `^` takes)."""


class Command(Protocol):
    NAME: str
    HELP: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


class Listed(NamedTuple):
    name: str
    help: str
    module: str


def listed() -> list[Listed]:
    """Every command, by name, as its module's text declares it."""
    commands = []
    for path in Path(__file__).parent.glob("[!_]*.py"):
        fields = dict(_FIELD.findall(path.read_text(encoding="utf-8")))
        commands.append(Listed(fields["NAME"], fields["HELP"], path.stem))
    return sorted(commands)


def load(module: str) -> Command:
    return cast(Command, importlib.import_module(f"{__name__}.{module}"))
