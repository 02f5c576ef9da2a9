"""monitor service install|uninstall [--user]: a systemd unit that runs `monitor run` at boot.

It writes the unit and prints the commands that enable it; it never runs systemctl itself.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import sys
from pathlib import Path

from monitor.commands._common import config_of
from monitor.config import ConfigError
from monitor.textsafe import one_line
from monitor.unitfile import NAME as UNIT
from monitor.unitfile import Service, enable_commands, render, unit_dir

NAME = "service"
HELP = "install or uninstall a systemd unit that runs `monitor run` (--user: your own, no root needed)"
ENV_FILE = "monitor.env"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in (("install", "write the unit (for this feeds.toml) and print how to enable it"),
                         ("uninstall", "remove the unit and its enablement links")):
        p = sub.add_parser(action, help=text, description=text)
        p.add_argument("--user", action="store_true", help="a user unit (~/.config/systemd/user), not a system one")
        p.add_argument("--config", type=Path, default=argparse.SUPPRESS, metavar="PATH", help="feeds.toml to use")


def run(args: argparse.Namespace, units: Path | None = None) -> int:
    """`units`: where the unit goes (default: where systemd looks for it)."""
    folder = units or unit_dir(args.user)
    return _install(args, folder) if args.action == "install" else _uninstall(args, folder)


def _install(args: argparse.Namespace, folder: Path) -> int:
    config = config_of(args)  # a service on a feeds.toml that does not load would only fail at boot
    path = config.path.resolve()
    service = Service(_command(), path, path.parent / ENV_FILE, user=None if args.user else _system_user(),
                      kill=shutil.which("kill") or "/bin/kill")
    unit = folder / UNIT
    try:
        folder.mkdir(parents=True, exist_ok=True)
        unit.write_text(render(service), encoding="utf-8")
    except OSError as e:
        hint = "" if args.user else " (a system unit needs root; or use --user)"
        raise ConfigError(f"{unit}: cannot write: {e.strerror or e}{hint}") from None
    flag = " --user" if args.user else ""
    print(f"wrote {unit}: `monitor run` on {path}")
    print("start it now and at every boot:")
    for command in enable_commands(args.user):
        print(f"  {command}")
    if args.user:
        print(f"  loginctl enable-linger {getpass.getuser()}    # a user's services start at boot, not at login")
    print(f"its log: journalctl{flag} -u {UNIT} -f")
    secrets = sorted({v for f in config.feeds for v in f.secrets.values()})
    if os.environ.get("MONITOR_DATABASE_URL"):
        secrets.insert(0, "MONITOR_DATABASE_URL")
    if secrets:
        print(f"the service has none of your shell's variables: put {', '.join(secrets)} in {service.environment_file} "
              "(NAME=value lines; chmod 600)")
    return 0


def _uninstall(args: argparse.Namespace, folder: Path) -> int:
    unit = folder / UNIT
    links = [link for link in folder.glob(f"*.wants/{UNIT}") if link.is_symlink()]
    if not unit.exists() and not links:
        print(f"no {UNIT} in {folder}: nothing to remove")
        return 0
    try:
        for link in links:  # what `systemctl disable` removes
            link.unlink()
        unit.unlink(missing_ok=True)
    except OSError as e:
        raise ConfigError(f"{unit}: cannot remove: {e.strerror or e}") from None
    flag = " --user" if args.user else ""
    print(f"removed {unit}; if it is running, stop it and let systemd forget it:")
    print(f"  systemctl{flag} stop {UNIT}")
    print(f"  systemctl{flag} daemon-reload")
    return 0


def _command() -> list[str]:
    """This `monitor`, absolute: the console script beside the interpreter, else the interpreter with -m."""
    script = Path(sys.executable).with_name("monitor")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "monitor.cli"]


def _system_user() -> str:
    """Who the system service runs as: whoever ran `sudo monitor service install`, else this user."""
    return one_line(os.environ.get("SUDO_USER") or getpass.getuser())
