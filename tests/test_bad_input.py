"""Broken feeds.toml files and command lines, each run as a real `python -m monitor.cli` subprocess.

Every case must end with exit code 2, exactly one line on stderr that names the problem, no
traceback, and every file in its directory byte for byte as it was (no half-written feeds.toml,
no database created or touched).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import clean_env, monitor

TOPIC = '[[topics]]\nname = "volcano"\nkeywords = ["volcano"]\n\n'
FEED = '[[feeds]]\nname = "f"\ntype = "rss"\nurl = "http://127.0.0.1:9/feed"\ninterval = "1m"\n\n'
GOOD = TOPIC + FEED
POST = '{"id": "1", "text": "volcano", "published": "2024-03-01T12:00:00Z"}\n'


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    """Arguments after `monitor`; {dir} is replaced by the case's directory."""
    names: str
    """What the one line must mention (case-insensitive)."""
    files: dict[str, bytes | str]
    database: str | None = None
    """'good' a current monitor database, 'newer' one stamped by a future schema, else raw bytes."""
    env: dict[str, str] | None = None


def toml(name: str, text: str, names: str, command: tuple[str, ...] = ("run", "--once")) -> Case:
    return Case(f"toml-{name}", (*command, "--config", "{dir}/feeds.toml"), names, {"feeds.toml": text})


def cli(name: str, argv: tuple[str, ...], names: str, files: dict[str, bytes | str] | None = None,
        database: str | None = "good", env: dict[str, str] | None = None) -> Case:
    return Case(f"cli-{name}", argv, names, {"feeds.toml": GOOD, **(files or {})}, database, env)


CONFIG = ("--config", "{dir}/feeds.toml")
UNKNOWN_TOPIC = 'no topic "nosuch"; the topics are "volcano"'
CASES = [
    toml("unknown-top-table", GOOD + "[stoarge]\nurl = 'x'\n", "stoarge"),
    toml("unknown-feed-key", GOOD.replace('url = "http', 'urll = "http'), "urll"),
    toml("unknown-topic-key", TOPIC.replace("keywords", "keyword") + FEED, "keyword"),
    toml("interval-wrong-type", GOOD.replace('interval = "1m"', "interval = 60"), "interval"),
    toml("interval-unparsable", GOOD.replace('"1m"', '"five minutes"'), "interval"),
    toml("interval-zero", GOOD.replace('"1m"', '"0s"'), "interval"),
    toml("name-wrong-type", GOOD.replace('name = "f"', "name = 3"), "name"),
    toml("ftp-url", GOOD.replace("http://127.0.0.1:9/feed", "ftp://example.org/feed"), "url"),
    toml("not-a-url", GOOD.replace("http://127.0.0.1:9/feed", "feed please"), "url"),
    toml("javascript-url", GOOD.replace("http://127.0.0.1:9/feed", "javascript:alert(1)"), "url"),
    toml("duplicate-feed", GOOD + FEED, '"f"'),
    toml("unknown-feed-type", GOOD.replace('type = "rss"', 'type = "gopher"'), "gopher"),
    toml("topic-without-query", '[[topics]]\nname = "volcano"\n\n' + FEED, "query"),
    toml("keywords-not-a-list", GOOD.replace('["volcano"]', '"volcano"'), "keywords"),
    toml("feed-topic-unknown", GOOD.replace('type = "rss"', 'type = "rss"\ntopic = "lava"'), "lava"),
    toml("invalid-toml", GOOD + "[[feeds]\n", "TOML"),
    toml("not-utf8", b"\xff\xfe[[topics]]\n", "feeds.toml"),
    toml("feeds-not-an-array", TOPIC + 'feeds = "all of them"\n', "feeds"),
    toml("storage-url-wrong-type", "[storage]\nurl = 5\n\n" + GOOD, "url"),
    toml("storage-url-unknown-driver", "[storage]\nurl = 'nosuchdb://x/y'\n\n" + GOOD, "nosuchdb"),
    toml("weights-not-numbers", TOPIC + '[topics.weights]\nvolcano = "a lot"\n\n' + FEED, "volcano"),
    toml("threshold-not-a-number", TOPIC.replace("\n\n", '\nthreshold = "high"\n\n') + FEED, "threshold"),
    toml("hostile-name", GOOD.replace('name = "f"\ntype = "rss"', 'name = "f\\u001b[2J\\n\\u202eevil"\ntype = "x1"'),
         "x1", ("status",)),
    toml("hostile-name-init", GOOD + "[[feeds]]\nname = 7\n", "name", ("init", "{dir}/article.txt")),
    Case("toml-missing-file", ("status", "--config", "{dir}/nowhere.toml"), "nowhere.toml", {}),
    Case("toml-is-a-directory", ("run", "--once", "--config", "{dir}/sub"), "sub", {"sub/keep": ""}),
    cli("limit-zero", ("posts", "--limit", "0", *CONFIG), "limit"),
    cli("limit-negative", ("clusters", "--limit", "-3", *CONFIG), "limit"),
    cli("limit-not-a-number", ("posts", "--limit", "ten", *CONFIG), "limit"),
    cli("cluster-not-a-number", ("posts", "--cluster", "first", *CONFIG), "cluster"),
    cli("limit-huge", ("posts", "--limit", "99999999999999999999", *CONFIG), "limit"),
    cli("limit-huge-clusters", ("clusters", "--limit", "99999999999999999999", *CONFIG), "limit"),
    cli("limit-huge-test-query", ("test-query", "volcano", "--limit", "99999999999999999999", *CONFIG), "limit"),
    cli("limit-thousands-of-digits", ("posts", "--limit", "9" * 5000, *CONFIG), "limit"),
    cli("cluster-huge", ("posts", "--cluster", "99999999999999999999", *CONFIG), "cluster"),
    cli("cluster-negative", ("posts", "--cluster", "-1", *CONFIG), "cluster"),
    cli("keywords-top-negative", ("keywords", "{dir}/article.txt", "--top", "-3", *CONFIG), "top"),
    cli("init-top-zero", ("init", "{dir}/article.txt", "--top", "0", *CONFIG), "top"),
    cli("unknown-topic-posts", ("posts", "--topic", "nosuch", *CONFIG), UNKNOWN_TOPIC),
    cli("unknown-topic-clusters", ("clusters", "--topic", "nosuch", *CONFIG), UNKNOWN_TOPIC),
    cli("unknown-topic-test-query", ("test-query", "volcano", "--topic", "nosuch", *CONFIG), UNKNOWN_TOPIC),
    cli("unknown-topic-export", ("export", "--topic", "nosuch", *CONFIG), UNKNOWN_TOPIC),
    cli("unknown-topic-dash", ("dash", "--topic", "nosuch", *CONFIG), UNKNOWN_TOPIC),
    cli("unknown-story", ("posts", "--cluster", "7", *CONFIG), "no story #7"),
    cli("export-format", ("export", "--format", "xml", *CONFIG), "format"),
    cli("unknown-command", ("frobnicate",), "frobnicate"),
    cli("unknown-option", ("status", "--jsn", *CONFIG), "--jsn"),
    cli("db-missing-for-reader", ("status", *CONFIG), "database", database=None),
    cli("db-is-a-directory", ("run", "--once", *CONFIG), "monitor.db", {"monitor.db/keep": ""}, database=None),
    cli("db-is-a-directory-reader", ("posts", *CONFIG), "monitor.db", {"monitor.db/keep": ""}, database=None),
    cli("db-garbage", ("run", "--once", *CONFIG), "not a database", database="garbage"),
    cli("db-garbage-reader", ("status", "--json", *CONFIG), "not a database", database="garbage"),
    cli("db-newer-schema-run", ("run", "--once", *CONFIG), "newer", database="newer"),
    cli("db-newer-schema-reader", ("posts", "--json", *CONFIG), "newer", database="newer"),
    cli("db-newer-schema-ingest", ("ingest", "{dir}/posts.jsonl", *CONFIG), "newer", {"posts.jsonl": POST},
        database="newer"),
    cli("db-url-env-garbage", ("status", *CONFIG), "database", env={"MONITOR_DATABASE_URL": "::::"}),
    cli("ingest-missing-file", ("ingest", "{dir}/none.jsonl", *CONFIG), "none.jsonl"),
    cli("ingest-missing-file-no-db", ("ingest", "{dir}/none.jsonl", *CONFIG), "none.jsonl", database=None),
    cli("ingest-bad-json-late", ("ingest", "{dir}/p.jsonl", *CONFIG), "p.jsonl:3",
        {"p.jsonl": POST + POST.replace('"1"', '"2"') + '{"id": "3", "text": \n'}),
    cli("ingest-not-an-object", ("ingest", "{dir}/p.jsonl", *CONFIG), "p.jsonl:1", {"p.jsonl": "[1, 2]\n"}),
    cli("ingest-bad-date", ("ingest", "{dir}/p.jsonl", *CONFIG), "published",
        {"p.jsonl": POST.replace("2024-03-01T12:00:00Z", "yesterday")}),
    cli("ingest-csv-missing-text", ("ingest", "{dir}/p.csv", *CONFIG), "text",
        {"p.csv": "id,published\n1,2024-03-01T12:00:00Z\n"}),
    cli("ingest-not-utf8", ("ingest", "{dir}/p.jsonl", *CONFIG), "UTF-8", {"p.jsonl": b'{"id": "\xff"}\n'}),
    cli("ingest-hostile-line", ("ingest", "{dir}/p.jsonl", *CONFIG), "p.jsonl:1",
        {"p.jsonl": '{"id": "1", "text": "\\u001b]0;pwned\\u0007", "published": "\\u001b[31m"}\n'}),
]


def _database(path: Path, kind: str) -> None:
    if kind == "garbage":
        path.write_bytes(b"this is not SQLite\n" * 64)
        return
    from storage.store import open_store

    open_store(f"sqlite:///{path}").close()
    if kind == "newer":
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
        conn.close()


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file's bytes. SQLite's shared-memory index is skipped, and an empty write-ahead log
    counts as none: a read-only reader of a WAL database may leave both behind, holding no data."""
    files = {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}
    return {name: data for name, data in files.items()
            if not name.endswith("-shm") and not (name.endswith("-wal") and not data)}


@dataclass
class Outcome:
    returncode: int
    stderr: str
    before: dict[str, bytes | None]
    after: dict[str, bytes | None]


def _prepare(case: Case, root: Path) -> Path:
    where = root / case.name
    where.mkdir()
    for name, content in case.files.items():
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        (where / name).write_bytes(data)
    (where / "article.txt").write_text("A volcano erupted near Grindavik. The volcano is quiet now.\n")
    if case.database in ("good", "newer", "garbage"):
        _database(where / "monitor.db", case.database)
    return where


def _run(case: Case, where: Path) -> Outcome:
    before = _snapshot(where)
    argv = [a.replace("{dir}", str(where)) for a in case.argv]
    done = monitor(*argv, cwd=where, env=clean_env(**(case.env or {})))
    return Outcome(done.returncode, done.stderr, before, _snapshot(where))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Case], Outcome]]:
    """Every case runs once, several at a time (each is a fresh interpreter), before the asserts."""
    root = tmp_path_factory.mktemp("bad-input")
    places = {case.name: _prepare(case, root) for case in CASES}  # Alembic's context is global: one at a time
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case.name: pool.submit(_run, case, places[case.name]) for case in CASES}
        yield lambda case: futures[case.name].result()


def test_there_are_at_least_twenty_broken_feeds_files_and_twenty_command_lines() -> None:
    assert sum(c.name.startswith("toml-") for c in CASES) >= 20
    assert sum(c.name.startswith("cli-") for c in CASES) >= 20
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_one_line_exit_2_and_changes_no_file(case: Case, outcomes: Callable[[Case], Outcome]) -> None:
    outcome = outcomes(case)
    lines = outcome.stderr.splitlines()
    assert outcome.returncode == 2, outcome.stderr[-2000:]
    assert "Traceback" not in outcome.stderr
    assert len(lines) == 1, f"expected one line, got:\n{outcome.stderr}"
    assert lines[0].startswith("monitor"), lines[0]
    assert case.names.lower() in lines[0].lower(), f"{case.names!r} not named in: {lines[0]}"
    assert all(ch == "\t" or ch >= " " for ch in lines[0]) and "\x1b" not in lines[0], repr(lines[0])
    assert not any("\u202a" <= ch <= "\u202e" for ch in lines[0]), repr(lines[0])
    assert outcome.after == outcome.before, "a file was created, changed or removed"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_database_is_one_line(tmp_path: Path) -> None:
    case = cli("db-unreadable", ("status", *CONFIG), "monitor.db")
    where = tmp_path / case.name
    (where).mkdir()
    (where / "feeds.toml").write_text(GOOD)
    _database(where / "monitor.db", "good")
    (where / "monitor.db").chmod(0)
    done = monitor("status", "--config", str(where / "feeds.toml"), cwd=where)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
