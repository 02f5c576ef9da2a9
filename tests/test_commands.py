"""The command line as a whole: how commands are found, named and called."""

from __future__ import annotations

from pathlib import Path

import monitor.commands
from monitor.commands import COMMANDS

COMMANDS_DIR = Path(monitor.commands.__file__).parent


def test_no_command_module_looks_like_a_test() -> None:
    modules = sorted(p.name for p in COMMANDS_DIR.glob("*.py"))
    assert [m for m in modules if m.startswith("test_") or m.endswith("_test.py")] == []
    assert "test-query" in [c.NAME for c in COMMANDS], "the command keeps its name"


def test_help_lists_commands_by_name() -> None:
    names = [c.NAME for c in COMMANDS]
    assert names == sorted(names)
