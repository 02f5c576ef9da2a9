"""feeds.toml loading: good files load, every bad one names the file, the table and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, load, parse, parse_interval

GOOD = """
# a comment
[storage]
url = "sqlite:///tmp/x.db"

[[topics]]
name = "volcano"
keywords = ["Grindavik", "volcano"]

[[topics]]
name = "all"
query = "*"

[[feeds]]
name = "a"
url = "https://example.org/a.xml"
interval = "90s"

[[feeds]]
name = "tag"
type = "mastodon"
hashtag = "Hamas"
interval = "1h"

[[feeds]]
name = "news"
type = "rss"
topic = "volcano"
"""


def test_a_good_file_loads_into_typed_values(tmp_path: Path) -> None:
    config = parse(GOOD, tmp_path / "feeds.toml", environ={})
    assert config.storage_url == "sqlite:///tmp/x.db"
    assert [t.name for t in config.topics] == ["volcano", "all"]
    assert config.topics[0].keywords == ("Grindavik", "volcano")
    assert config.topics[1].query == "*"
    assert [(f.name, f.type, f.interval) for f in config.feeds] == [
        ("a", "rss", 90.0), ("tag", "mastodon", 3600.0), ("news", "rss", 300.0)
    ]
    assert config.feeds[0].url == "https://example.org/a.xml"


def test_the_database_defaults_to_a_file_beside_feeds_toml(tmp_path: Path) -> None:
    config = parse('[[topics]]\nname = "t"\nquery = "*"\n', tmp_path / "feeds.toml", environ={})
    assert config.storage_url == f"sqlite:///{tmp_path.resolve() / 'monitor.db'}"


def test_the_environment_names_another_database(tmp_path: Path) -> None:
    env = {"MONITOR_DATABASE_URL": "postgresql://postgres@127.0.0.1/test"}
    assert parse(GOOD, tmp_path / "feeds.toml", environ=env).storage_url == env["MONITOR_DATABASE_URL"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[feeds]]\nname = "a"\nurl = "http://x.org/"\nintervl = "5m"\n',
         ['[[feeds]] "a"', '"intervl"', "unknown key"]),
        ('[[feeds]]\nname = "a"\nurl = "http://x.org/"\ninterval = 5\n', ['[[feeds]] "a"', '"interval"']),
        ('[[feeds]]\nname = "a"\nurl = "http://x.org/"\ninterval = "5 minutes"\n', ['"interval"', "5 minutes"]),
        ('[[feeds]]\nname = "a"\nurl = "http://x.org/"\ninterval = "0s"\n', ['"interval"']),
        ('[[feeds]]\nname = "a"\nurl = "ftp://x.org/"\n', ['[[feeds]] "a"', '"url"', "not an http(s) URL"]),
        ('[[feeds]]\nname = "a"\nurl = "not a url"\n', ['"url"']),
        ('[[feeds]]\nname = "a"\n', ['[[feeds]] "a"', "needs one of"]),
        ('[[feeds]]\nurl = "http://x.org/"\n', ["[[feeds]] #1", '"name"', "required"]),
        ('[[feeds]]\nname = "a"\ntype = "myspace"\nurl = "http://x.org/"\n', ['"type"', "myspace"]),
        ('[[feeds]]\nname = "a"\nurl = "http://x.org/"\n[[feeds]]\nname = "a"\nurl = "http://y.org/"\n',
         ['[[feeds]] "a"', "duplicate"]),
        ('[[feeds]]\nname = "a"\ntype = "mastodon"\nhashtag = "x"\nsubreddit = "y"\n', ['"subreddit"', "unknown key"]),
        ('[[feeds]]\nname = "a"\ntype = "rss"\ntopic = "nope"\n', ['"topic"', "nope"]),
        ('[[topics]]\nname = "t"\n', ['[[topics]] "t"', '"query"']),
        ('[[topics]]\nname = "t"\nkeywords = "Hamas"\n', ['[[topics]] "t"', '"keywords"']),
        ('[[topics]]\nname = "t"\nquery = "*"\ncolour = "red"\n', ['"colour"', "unknown key"]),
        ('[[topics]]\nname = "t"\nquery = "*"\nthreshold = "high"\n', ['"threshold"']),
        ('[[topics]]\nname = "t"\nquery = "*"\n[[topics]]\nname = "t"\nquery = "x"\n', ['[[topics]] "t"', "duplicate"]),
        ('[storage]\nurl = 5\n', ["[storage]", '"url"']),
        ('[storage]\npath = "x"\n', ["[storage]", '"path"']),
        ('[daemon]\nthreads = 4\n', ['"daemon"', "unknown key"]),
        ("feeds = 3\n", ['"feeds"', "array of tables"]),
        ("[[feeds]\nname = 1\n", ["not valid TOML"]),
        # issue 10.1: an interval past 30 days overflowed the scheduler in `run`
        ('[[feeds]]\nname = "a"\nurl = "http://x.org/"\ninterval = "100000000h"\n', ['"interval"', "30 days"]),
        ('[[feeds]]\nname = "a"\nurl = "http://x.org/"\ninterval = "31d"\n', ['"interval"', "30 days"]),
        # issue 10.18: caught when the config loads, not when `run` first polls
        ('[[topics]]\nname = "t"\nquery = "(Hamas OR"\n', ['[[topics]] "t"', '"query"', "column 10"]),
        ('[[topics]]\nname = "t"\nquery = "*"\n[topics.weights]\n"Iran AND" = 1.0\n',
         ['[[topics]] "t".weights', '"Iran AND"', "column"]),
        ('[[feeds]]\nname = "a"\nurl = "http://exa mple.com/x"\n', ['"url"', "not an http(s) URL"]),
        ('[[feeds]]\nname = "a"\nurl = "http://example.com/a b"\n', ['"url"', "not an http(s) URL"]),
        ('[[topics]]\nname = "t"\nquery = "*"\nthreshold = -1\n', ['"threshold"', "finite number of 0 or more"]),
        ('[[topics]]\nname = "t"\nquery = "*"\nthreshold = nan\n', ['"threshold"', "finite number of 0 or more"]),
        ('[[topics]]\nname = "t"\nquery = "*"\nthreshold = inf\n', ['"threshold"', "finite number of 0 or more"]),
        ('[[topics]]\nname = "t"\nquery = "*"\n[topics.weights]\nIran = nan\n', ['"Iran"', "finite number"]),
        ('[[topics]]\nname = "t"\nquery = "*"\n[topics.weights]\nIran = -inf\n', ['"Iran"', "finite number"]),
    ],
)
def test_every_bad_file_gives_one_line_naming_the_table_and_key(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = tmp_path / "feeds.toml"
    with pytest.raises(ConfigError) as caught:
        parse(text, path, environ={})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    for part in expected:
        assert part in message


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file.*monitor init"):
        load(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("", None), ("5", None), ("1x", None)],
)
def test_intervals(text: str, seconds: float | None) -> None:
    assert parse_interval(text) == seconds


X_FEED = ('[[topics]]\nname = "t"\nquery = "*"\n'
          '[[feeds]]\nname = "x"\ntype = "x"\ntopic = "t"\ntoken_env = "{token_env}"\n')


def test_a_pasted_token_is_a_config_error_that_does_not_echo_it(tmp_path: Path) -> None:
    """issue 10.12: `token_env = "<the token itself>"` was logged, stored as last_error and shown by status."""
    token = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0"
    feed = X_FEED.format(token_env=token)
    with pytest.raises(ConfigError) as caught:
        parse(feed, tmp_path / "feeds.toml", environ={})
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "feeds.toml")) and '"token_env"' in message
    assert "name of an environment variable" in message
    assert token not in message and token[:8] not in message


@pytest.mark.parametrize("name", ["X_BEARER_TOKEN", "bsky_password", "_T2"])
def test_a_variable_name_is_fine(tmp_path: Path, name: str) -> None:
    feed = X_FEED.format(token_env=name)
    assert parse(feed, tmp_path / "feeds.toml", environ={}).feeds[0].secrets == {"token": name}


def test_thirty_days_is_the_longest_interval(tmp_path: Path) -> None:
    feed = '[[feeds]]\nname = "a"\nurl = "http://x.org/"\ninterval = "30d"\n'
    assert parse(feed, tmp_path / "feeds.toml", environ={}).feeds[0].interval == 30 * 86400
