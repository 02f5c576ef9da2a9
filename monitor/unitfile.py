"""The systemd unit that runs `monitor run` as a service: pure, paths in, unit text out.

Type=notify: the daemon says READY=1 after its first tick, feeds the watchdog from its tick and says
STOPPING=1 when it drains (monitor.sdnotify). ExecReload sends SIGHUP, which reloads feeds.toml
(the daemon also follows the file's changes by itself). Secrets the feeds name come from an
optional environment file beside feeds.toml, never from the unit, which anyone may read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

NAME = "monitor.service"
SYSTEM_DIR = Path("/etc/systemd/system")
WATCHDOG_SECONDS = 60
"""The daemon pings every second: a minute without one means it hangs, and systemd restarts it."""
_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


@dataclass(frozen=True, slots=True)
class Service:
    command: Sequence[str]
    """How to start `monitor` here, absolute: the console script, or the interpreter with -m."""
    config: Path
    """feeds.toml, absolute."""
    environment_file: Path
    user: str | None = None
    """Who a system service runs as (None: a user service runs as its user)."""
    kill: str = "/bin/kill"


def unit_dir(user: bool, environ: Mapping[str, str] = os.environ) -> Path:
    """Where systemd looks for units: the user's own (`--user`), or the system's."""
    if not user:
        return SYSTEM_DIR
    config_home = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".config")
    return Path(config_home) / "systemd" / "user"


def render(service: Service) -> str:
    user_unit = service.user is None
    start = " ".join(_quote(a) for a in (*service.command, "run", "--config", str(service.config)))
    lines = [
        f"# Written by `monitor service install{' --user' if user_unit else ''}`: `monitor run` on {service.config}.",
        "# Remove it with `monitor service uninstall`; feeds.toml edits need no restart.",
        "[Unit]",
        f"Description=monitor: news and social media for the topics of {_specifiers(str(service.config))}",
    ]
    if not user_unit:  # a user manager has no network targets to wait for
        lines += ["Wants=network-online.target", "After=network-online.target"]
    lines += [
        "",
        "[Service]",
        "Type=notify",
        "NotifyAccess=main",
        f"ExecStart={start}",
        f"ExecReload={service.kill} -HUP $MAINPID",
        f"WorkingDirectory={_specifiers(str(service.config.parent))}",
        f"EnvironmentFile=-{_specifiers(str(service.environment_file))}",
        *([f"User={service.user}"] if service.user else []),
        "Restart=on-failure",
        "RestartSec=10",
        f"WatchdogSec={WATCHDOG_SECONDS}",
        "TimeoutStopSec=60",
        "",
        "[Install]",
        f"WantedBy={'default.target' if user_unit else 'multi-user.target'}",
    ]
    return "\n".join(lines) + "\n"


def enable_commands(user: bool) -> list[str]:
    flag = " --user" if user else ""
    return [f"systemctl{flag} daemon-reload", f"systemctl{flag} enable --now {NAME}"]


def _quote(arg: str) -> str:
    """One argument of a command line as systemd reads it: `%` and `$` doubled (a specifier, a
    variable), and in double quotes with \\ and " escaped unless it is plain."""
    escaped = _specifiers(arg).replace("$", "$$")
    if _PLAIN.fullmatch(arg):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _specifiers(text: str) -> str:
    """`%` starts a specifier in every setting: doubled to mean itself (paths take no quotes)."""
    return text.replace("%", "%%")
