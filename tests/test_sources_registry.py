"""One home per source type: every kind is a module that declares itself, and one registry lists them."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest

import monitor.sources
from monitor.config import ConfigError, parse
from monitor.sources import SOURCES, source_for

HELPERS = {"base", "jsonapi", "text", "sse"}
"""Modules of monitor/sources that are not kinds: what the kinds share."""


def test_every_source_module_is_registered_under_the_name_it_declares() -> None:
    modules = {m.name for m in pkgutil.iter_modules(monitor.sources.__path__)} - HELPERS
    assert modules == {name.replace("-", "_") for name in SOURCES}
    for name, module in SOURCES.items():
        assert module.TYPE.name == name and module.__name__ == f"monitor.sources.{name.replace('-', '_')}"


@pytest.mark.parametrize("kind", list(SOURCES))
def test_feeds_toml_accepts_exactly_the_keys_a_kind_declares(kind: str, tmp_path: Path) -> None:
    declared = source_for(kind).TYPE
    urls = {**dict.fromkeys(declared.urls, "https://example.org/x"), **dict.fromkeys(declared.sockets, "wss://example.org")}
    values = {key: urls.get(key, "VALUE") for key in sorted(declared.keys)}
    values |= {"topic": "t"} if "topic" in values else {}
    body = "".join(f'{key} = "{value}"\n' for key, value in values.items())
    toml = f'[[topics]]\nname = "t"\nkeywords = ["a"]\n[[feeds]]\nname = "f"\ntype = "{kind}"\n{body}'
    feed = parse(toml, tmp_path / "feeds.toml").feeds[0]
    assert set(feed.options) == declared.keys
    assert feed.secrets == dict.fromkeys(declared.secrets, "VALUE")
    with pytest.raises(ConfigError, match=r'key "colour": unknown key \(expected one of: '):
        parse(toml + 'colour = "red"\n', tmp_path / "feeds.toml")


@pytest.mark.parametrize("kind", list(SOURCES))
def test_a_kind_that_searches_declares_its_search_syntax(kind: str) -> None:
    declared = source_for(kind).TYPE
    assert ("topic" in declared.selects) == (declared.search is not None)


@pytest.mark.parametrize("kind", [k for k, m in SOURCES.items() if m.TYPE.sockets])
def test_a_socket_key_takes_a_websocket_url_and_nothing_else(kind: str, tmp_path: Path) -> None:
    key = source_for(kind).TYPE.sockets[0]
    head = f'[[topics]]\nname = "t"\nkeywords = ["a"]\n[[feeds]]\nname = "f"\ntype = "{kind}"\n'
    for good in ("wss://jetstream.example", "ws://127.0.0.1:6008", "https://jetstream.example"):
        assert parse(f'{head}{key} = "{good}"\n', tmp_path / "feeds.toml").feeds[0].options[key] == good
    with pytest.raises(ConfigError, match=f'key "{key}": "ftp://x" is not a WebSocket'):
        parse(f'{head}{key} = "ftp://x"\n', tmp_path / "feeds.toml")
