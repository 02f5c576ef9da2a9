"""Where things live by default: feeds.toml and the database, when the command line names neither.

$MONITOR_CONFIG first, then ./feeds.toml where there is one (a project folder), else the platform's
user config folder (platformdirs: ~/.config/monitor on Linux, ~/Library/Application Support/monitor
on macOS). A feeds.toml there keeps its database in the platform's user data folder, not beside it:
a config folder is for settings.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from platformdirs import user_config_path, user_data_path

APP = "monitor"
FILE = "feeds.toml"


def default_config(environ: Mapping[str, str] = os.environ, cwd: Path | None = None) -> Path:
    if environ.get("MONITOR_CONFIG"):
        return Path(environ["MONITOR_CONFIG"])
    here = (cwd or Path()) / FILE
    return here if here.exists() else user_config_path(APP) / FILE


def default_database(config: Path) -> Path:
    """The SQLite file of a feeds.toml without [storage] url: beside it, or in the user data folder
    (made here when missing) when it is the user's own feeds.toml."""
    config = config.resolve()
    if config.parent != user_config_path(APP).resolve():
        return config.parent / "monitor.db"
    folder = user_data_path(APP).resolve()
    with contextlib.suppress(OSError):  # made on first use; where it cannot be, opening the database says so
        folder.mkdir(parents=True, exist_ok=True)
    return folder / "monitor.db"
