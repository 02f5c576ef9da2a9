"""Delivery: an alert to its rule's channel, an Apprise URL or a command, and what the channel answered.

Apprise speaks to ~100 services (ntfy, Slack, Discord, Telegram, Matrix, e-mail, webhooks, desktop
notifications) through one URL per channel. Those URLs often hold tokens (in the user part, the
host, the path or the query), so a channel is shown as its scheme alone, every answer is redacted
against every part of its URL, and Apprise's own log, which quotes URLs at DEBUG, never reaches ours.

Apprise never shows us the receiver's answer beyond delivered-or-not, so a webhook's Retry-After
would be lost: `json://` and `jsons://` are sent by WebhookChannel here instead, on httpx, with
the request Apprise would send (its URL parsed by Apprise, its JSON body byte for byte), and the
answer's Retry-After handed to the sender.

A command (`exec`) reads the alert's JSON on stdin; its title and text are in MONITOR_ALERT_TITLE and
MONITOR_ALERT_TEXT, so `sh -c 'notify-send "$MONITOR_ALERT_TITLE" "$MONITOR_ALERT_TEXT"'` works. It runs
without a shell (argv as written) and is killed after EXEC_TIMEOUT.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

import httpx

from monitor.alerts import render, scheme_only
from monitor.config import AlertRule, Config, ConfigError
from monitor.feedstate import redact
from monitor.textsafe import one_line

EXEC_TIMEOUT = 30.0
ANSWER_LENGTH = 300
_URL_PARTS = re.compile(r"[/:@?&=#]+")
_HOST = re.compile(r"(?:[^/@?#]*@)?([^/:@?#]+)")
_SECRET_FROM = 4  # pieces of a URL shorter than this ("x", "80") are no secret and would wreck messages

# Apprise logs URLs (tokens and all) at DEBUG, and so does urllib3 under it ("POST /hook/TOKEN"): their
# records stay with the captures below, never in our log. (httpx, which fetches the feeds, is not urllib3.)
for _quoting_urls in ("apprise", "urllib3"):
    logging.getLogger(_quoting_urls).propagate = False


@dataclass(frozen=True, slots=True)
class Answer:
    """What the channel said: delivered or not, in one printable line with no secret in it."""

    delivered: bool
    text: str
    retry_after: str | None = None  # the receiver's Retry-After, as it wrote it (the sender reads it on its clock)


class Channel(Protocol):
    shown: str  # for people: the kind of channel, never a secret

    def send(self, alert: Mapping[str, Any]) -> Answer: ...


class AppriseChannel:
    def __init__(self, url: str, where: str = "") -> None:
        """`where` places a ConfigError ('feeds.toml: [[alerts]] "x": key "notify"') for a URL Apprise
        cannot use; the reason Apprise gives is redacted like every answer."""
        import apprise

        self._secrets = url_secrets(url)
        self.shown = scheme_only(url)
        self._apprise = apprise.Apprise()
        with _apprise_log() as said:
            added = self._apprise.add(url)
        if not added:
            reason = self._said(said.getvalue()) or "unknown service or incomplete URL"
            raise ConfigError(f"{where}: Apprise cannot use this URL: {reason}")

    def send(self, alert: Mapping[str, Any]) -> Answer:
        import apprise

        title, body = render(alert)
        with _apprise_log() as said:
            delivered = bool(self._apprise.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT))
        if delivered:
            return Answer(True, f"delivered by {self.shown}")
        return Answer(False, self._said(said.getvalue()) or f"{self.shown} did not take it")

    def _said(self, log: str) -> str:
        return redacted(log, self._secrets)

    def webhook(self) -> WebhookChannel | None:
        """This channel sent by us, when it is a json:// or jsons:// webhook Apprise parsed as it does today."""
        plugin = self._apprise[0]
        if getattr(plugin, "protocol", None) != "json":
            return None
        try:
            return WebhookChannel(plugin, self._secrets, self.shown)
        except AttributeError:  # another Apprise keeps its parsed URL elsewhere: Apprise sends it, no Retry-After
            return None


class WebhookChannel:
    """A json:// (jsons://) webhook sent on httpx as Apprise sends it, so the answer's Retry-After is seen.

    The URL is Apprise's to parse (user:password, port, path, `+Header=`, `-param=`, `:field=`,
    `method=`, `verify=`, `cto=`/`rto=`, `redirects=`), so a URL means what Apprise's documentation says.
    """

    def __init__(self, plugin: Any, secrets: dict[str, str], shown: str) -> None:
        port = f":{plugin.port}" if isinstance(plugin.port, int) else ""
        self._url = f"{'https' if plugin.secure else 'http'}://{plugin.host}{port}{plugin.fullpath or '/'}"
        self._method = str(plugin.method)
        self._version = str(plugin.json_version)
        self._params = dict(plugin.params)
        self._headers = {"User-Agent": str(plugin.app_id), "Content-Type": "application/json", **plugin.headers}
        self._extras = dict(plugin.payload_extras)
        self._auth = (str(plugin.user), str(plugin.password or "")) if plugin.user else None
        self._verify = bool(plugin.verify_certificate)
        self._timeout = httpx.Timeout(float(plugin.socket_read_timeout), connect=float(plugin.socket_connect_timeout))
        self._redirects = bool(plugin.redirects)
        self._secrets = secrets
        self.shown = shown

    def send(self, alert: Mapping[str, Any]) -> Answer:
        title, body = render(alert)
        try:
            answer = httpx.request(self._method, self._url, content=self.body(title, body), params=self._params or None,
                                   headers=self._headers, auth=self._auth, verify=self._verify, timeout=self._timeout,
                                   follow_redirects=self._redirects)
        except httpx.HTTPError as e:
            return Answer(False, self._said(f"A connection error occurred sending JSON notification: {e}"))
        if 200 <= answer.status_code < 300:
            return Answer(True, f"delivered by {self.shown}")
        asked = answer.headers.get("Retry-After")
        said = (f"Failed to send JSON {self._method} notification: {answer.reason_phrase}, error={answer.status_code}."
                + (f" Retry-After: {asked}" if asked else ""))
        return Answer(False, self._said(said), asked)

    def body(self, title: str, body: str) -> bytes:
        """Apprise's JSON (custom_json.py): the same keys in the same order, `:field=` renames, drops or adds."""
        payload: dict[str, Any] = {"version": self._version, "title": title, "message": body, "attachments": [],
                                   "type": "info"}
        for key, value in self._extras.items():
            if key in payload:
                if value:
                    payload[value] = payload[key]
                del payload[key]  # Apprise's order of steps, even for ":title=title"
            else:
                payload[key] = value
        return json.dumps(payload).encode()

    def _said(self, text: str) -> str:
        return redacted(text, self._secrets)


class ExecChannel:
    def __init__(self, argv: tuple[str, ...], timeout: float = EXEC_TIMEOUT) -> None:
        self.argv = argv
        self.timeout = timeout
        self.shown = f"exec {one_line(argv[0], 60)}"

    def send(self, alert: Mapping[str, Any]) -> Answer:
        title, body = render(alert)
        env = os.environ | {"MONITOR_ALERT_EVENT": str(alert.get("event")), "MONITOR_ALERT_TITLE": title,
                            "MONITOR_ALERT_TEXT": body}
        data = json.dumps(alert, ensure_ascii=False).encode()
        try:
            done = subprocess.run(self.argv, input=data, capture_output=True, timeout=self.timeout, env=env,
                                  check=False)
        except subprocess.TimeoutExpired:
            return Answer(False, f"{self.shown}: no answer within {self.timeout:g} s (killed)")
        except OSError as e:
            return Answer(False, f"{self.shown}: {one_line(e.strerror or str(e))}")
        said = _last_line(done.stderr) or _last_line(done.stdout)
        if done.returncode == 0:
            return Answer(True, f"{self.shown}: exit 0" + (f": {said}" if said else ""))
        return Answer(False, f"{self.shown}: exit {done.returncode}" + (f": {said}" if said else ""))


class UnsetChannel:
    """A rule whose `notify_env` names a variable the daemon's environment lacks: failing, and saying why."""

    def __init__(self, variable: str) -> None:
        self.shown = f"${variable}"

    def send(self, alert: Mapping[str, Any]) -> Answer:
        return Answer(False, f"{self.shown} is not set in the daemon's environment")


def channel_for(rule: AlertRule, config_path: object, environ: Mapping[str, str] = os.environ) -> Channel:
    """The rule's channel; ConfigError for an Apprise URL that Apprise cannot use."""
    where = f'{config_path}: [[alerts]] "{rule.name}": key "{"notify_env" if rule.notify_env else "notify"}"'
    if rule.exec:
        return ExecChannel(rule.exec)
    url = environ.get(rule.notify_env, "").strip() if rule.notify_env else rule.notify
    if not url:
        assert rule.notify_env is not None
        return UnsetChannel(rule.notify_env)
    channel = AppriseChannel(url, where)
    return channel.webhook() or channel


def channels(config: Config, environ: Mapping[str, str] = os.environ) -> dict[str, Channel]:
    """Every rule's channel by rule name, each URL checked by Apprise (ConfigError naming the rule)."""
    return {rule.name: channel_for(rule, config.path, environ) for rule in config.alerts}


def url_secrets(url: str) -> dict[str, str]:
    """Every piece of the URL after its scheme, as written and decoded: any may be a token (Telegram's
    and Slack's sit where a host would), but a host name with a dot in it ("ntfy.sh"), which would
    otherwise blot out the service's own name in every answer."""
    rest = url.split("://", 1)[-1]
    host = _HOST.match(rest)
    public = host.group(1) if host and "." in host.group(1) else None
    pieces = {p for p in _URL_PARTS.split(rest) if len(p) >= _SECRET_FROM and p != public}
    pieces |= {unquote(p) for p in pieces}
    # Longest first: a piece inside another ("tok" in "tok-1234") must not leave the rest behind.
    ordered = sorted(pieces | {url, rest}, key=len, reverse=True)
    return {str(i): piece for i, piece in enumerate(ordered) if piece}


def redacted(said: str, secrets: dict[str, str]) -> str:
    """What a channel said, in one printable line with no piece of its URL in it."""
    return one_line(redact(" ".join(said.split()), secrets), ANSWER_LENGTH)


def _apprise_log() -> Any:
    """Apprise's warnings and errors during one call, as text (its own handler, not our log)."""
    import apprise

    return apprise.LogCapture(level=logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]


def _last_line(output: bytes) -> str:
    lines = [line for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    return one_line(lines[-1], ANSWER_LENGTH) if lines else ""
