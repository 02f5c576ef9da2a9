"""Running it as a service: the systemd unit `monitor service install` writes, and what the daemon tells
systemd through $NOTIFY_SOCKET (READY=1 after the first tick, WATCHDOG=1 from the tick, STOPPING=1)."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.commands import service
from monitor.sdnotify import Notifier
from monitor.unitfile import Service, render
from tests.support.cli import clean_env, monitor, start_daemon, wait_for
from tests.support.feeds import feeds_toml, rss
from tests.support.server import FixtureServer, Reply

CONFIG = feeds_toml({"a": "http://127.0.0.1:9/a.xml"}) + (
    '[[feeds]]\nname = "x"\ntype = "x"\ntopic = "volcano"\ntoken_env = "X_BEARER_TOKEN"\n')


def _install(tmp_path: Path, *, user: bool, config: Path | None = None) -> tuple[Path, str]:
    config = config or tmp_path / "feeds.toml"
    if not config.exists():
        config.write_text(CONFIG)
    units = tmp_path / "units"
    args = argparse.Namespace(action="install", user=user, config=config)
    assert service.run(args, units=units) == 0
    return units / "monitor.service", (units / "monitor.service").read_text()


def test_install_writes_a_notify_unit_that_runs_monitor_run_with_absolute_paths(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, text = _install(tmp_path, user=False)
    out = capsys.readouterr().out
    config = (tmp_path / "feeds.toml").resolve()
    start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    executable = start.removeprefix("ExecStart=").split()[0]
    assert Path(executable).is_absolute() and Path(executable).exists()
    assert start.endswith(f" run --config {config}")
    assert "Type=notify" in text and "WatchdogSec=" in text and "ExecReload=" in text and "-HUP $MAINPID" in text
    assert f"WorkingDirectory={config.parent}" in text and "WantedBy=multi-user.target" in text
    assert "systemctl daemon-reload" in out and "systemctl enable --now monitor.service" in out
    assert f"X_BEARER_TOKEN in {config.parent / 'monitor.env'}" in out


def test_a_user_unit_needs_no_network_target_and_says_how_to_start_at_boot(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, text = _install(tmp_path, user=True)
    out = capsys.readouterr().out
    assert "network-online" not in text and "User=" not in text and "WantedBy=default.target" in text
    assert "systemctl --user enable --now monitor.service" in out and "loginctl enable-linger" in out


def test_install_user_puts_the_unit_where_systemd_looks_and_uninstall_removes_it(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text(CONFIG)
    env = clean_env(XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    installed = monitor("service", "install", "--user", "--config", "feeds.toml", cwd=tmp_path, env=env)
    assert installed.returncode == 0, installed.stderr
    unit = tmp_path / "xdg" / "systemd" / "user" / "monitor.service"
    assert unit.is_file()
    wants = unit.parent / "default.target.wants"
    wants.mkdir()
    (wants / "monitor.service").symlink_to(unit)  # what `systemctl --user enable` makes
    removed = monitor("service", "uninstall", "--user", cwd=tmp_path, env=env)
    assert removed.returncode == 0 and "systemctl --user stop monitor.service" in removed.stdout
    assert not unit.exists() and not (wants / "monitor.service").is_symlink()
    again = monitor("service", "uninstall", "--user", cwd=tmp_path, env=env)
    assert again.returncode == 0 and "nothing to remove" in again.stdout


def test_install_refuses_a_feeds_toml_that_does_not_load(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text("[[feeds]\n")
    out = monitor("service", "install", "--user", "--config", "feeds.toml", cwd=tmp_path,
                  env=clean_env(XDG_CONFIG_HOME=str(tmp_path / "xdg")))
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and not (tmp_path / "xdg").exists()


@pytest.mark.parametrize("user", [False, True])
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path, user: bool) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here (systemd machines have it)")
    unit, _ = _install(tmp_path, user=user)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    argv = [analyze, *(["--user"] if user else []), "verify", str(unit)]
    done = subprocess.run(argv, capture_output=True, text=True, env={**clean_env(), "XDG_RUNTIME_DIR": str(runtime)},
                          check=False, timeout=60)
    said = [line for line in (done.stdout + done.stderr).splitlines() if str(unit) in line or "monitor.service" in line]
    assert done.returncode == 0 and not said, done.stdout + done.stderr


def test_paths_with_spaces_percent_and_dollar_stay_one_argument() -> None:
    text = render(Service(["/opt/my tools/monitor"], Path("/srv/50% $HOME/feeds.toml"), Path("/srv/x/monitor.env")))
    assert 'ExecStart="/opt/my tools/monitor" run --config "/srv/50%% $$HOME/feeds.toml"' in text
    assert "WorkingDirectory=/srv/50%% $HOME" in text


# --- sd_notify ---------------------------------------------------------------------------------------------


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    """A datagram socket like the one systemd gives a Type=notify service."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(30)
    yield sock
    sock.close()


def _messages(sock: socket.socket, until: str) -> list[str]:
    """Datagrams as they come, up to the first holding `until` (the socket's timeout bounds the wait)."""
    got = []
    while not got or until not in got[-1]:
        got.append(sock.recv(4096).decode())
    return got


def test_monitor_run_says_ready_after_its_first_tick_pings_the_watchdog_and_says_stopping(
        tmp_path: Path, server: FixtureServer, notify_socket: socket.socket) -> None:
    server.routes["/a.xml"] = Reply(200, rss([("1", "volcano")]), {"Content-Type": "application/rss+xml"})
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml({"a": server.url("/a.xml")}))
    env = clean_env(NOTIFY_SOCKET=notify_socket.getsockname(), WATCHDOG_USEC="60000000")
    daemon = start_daemon(config, env=env)
    try:
        first = _messages(notify_socket, "READY=1")
        assert first[-1].splitlines()[0] == "READY=1" and "STATUS=" in first[-1]
        wait_for(lambda: bool(server.requests_to("/a.xml")), what="a first poll")
        pings = _messages(notify_socket, "WATCHDOG=1")
        pings += _messages(notify_socket, "WATCHDOG=1")
        assert pings.count("WATCHDOG=1") >= 2
    finally:
        daemon.send_signal(signal.SIGTERM)
    last = _messages(notify_socket, "STOPPING=1")
    assert last[-1].startswith("STOPPING=1")
    assert daemon.wait(timeout=30) == 0


def test_without_a_watchdog_no_pings_and_without_a_socket_nothing(notify_socket: socket.socket) -> None:
    address = notify_socket.getsockname()
    quiet = Notifier.from_environment({"NOTIFY_SOCKET": address})
    quiet.tick("polling")
    quiet.tick("polling")
    quiet.stopping()
    notify_socket.settimeout(1)
    assert [notify_socket.recv(4096).decode().splitlines()[0] for _ in range(2)] == ["READY=1", "STOPPING=1"]
    Notifier.from_environment({}).tick("nothing to tell")  # no socket: nothing sent, nothing raised
    Notifier("/nonexistent/socket").stopping()  # a socket gone away: logged, not raised


def test_an_abstract_socket_address_is_reached(tmp_path: Path) -> None:
    name = f"monitor-test-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        Notifier(f"@{name}").send("READY=1")
        assert sock.recv(64) == b"READY=1"


def test_log_format_json_is_one_object_per_line(tmp_path: Path, server: FixtureServer) -> None:
    """What a log shipper reads from the journal: every line of stderr one JSON object."""
    server.routes["/a.xml"] = Reply(200, rss([("1", "volcano \x1b[31mred")]), {"Content-Type": "application/rss+xml"})
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml({"a": server.url("/a.xml")}))
    done = monitor("--log-format", "json", "run", "--once", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0
    events = [json.loads(line) for line in done.stderr.splitlines()]
    assert events and all({"time", "level", "logger", "message"} <= set(e) for e in events)
    assert any(e["message"].startswith("poll a status=200") and e["level"] == "INFO" for e in events)
    assert "\x1b" not in done.stderr
