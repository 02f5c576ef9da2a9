"""The rooms of DESIGN.md hold: core modules stay free of I/O libraries, and startup stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = [
    "monitor.config", "monitor.keywords", "monitor.query.parse", "monitor.query.matcher", "monitor.query.pushdown",
    "monitor.match", "monitor.schedule", "monitor.dedup", "monitor.storybuilder", "monitor.sources.rss",
    "monitor.sources.mastodon", "monitor.sources.bluesky", "monitor.sources.reddit", "monitor.sources.hackernews",
    "monitor.sources.x",
]
IO_LIBRARIES = ("httpx", "sqlalchemy", "textual")
HEAVY_FOR_STARTUP = (
    "sqlalchemy", "alembic", "httpx", "textual", "trafilatura", "wordfreq", "ahocorasick", "apscheduler",
)
OTHER_COMMANDS_ONLY = ("monitor.commands.dash", "monitor.commands.ingest", "monitor.unitfile", "monitor.records")
"""Modules that commands other than `status` import (the dashboard's, ingest's, service's, export's)."""


def loaded_after(statement: str, names: tuple[str, ...]) -> list[str]:
    code = f"import sys; {statement}; print(' '.join(m for m in {names!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.parametrize("module", CORE)
def test_core_rooms_import_no_io_library(module: str) -> None:
    assert loaded_after(f"import {module}", IO_LIBRARIES) == []


def test_the_command_line_starts_without_loading_what_a_command_may_not_need() -> None:
    assert loaded_after("import monitor.cli; monitor.cli.build_parser()", HEAVY_FOR_STARTUP) == []


def test_a_command_imports_its_own_module_and_no_other_commands() -> None:
    parse = "import monitor.cli; monitor.cli.build_parser().parse_args(['status'])"
    assert loaded_after(parse, ("monitor.commands.status", *OTHER_COMMANDS_ONLY)) == ["monitor.commands.status"]
