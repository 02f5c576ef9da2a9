"""What a user sees of the workers sharing PostgreSQL: `monitor status` lists them (host, pid, last
beat, feeds leased), says which folds the stories and how far the inbox lags; the dashboard's status
line says how many are alive and the lag. Worker rows written through the store, as workers write them."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.leases import choose
from monitor.tui.app import MonitorApp
from monitor.tui.widgets.status import StatusLine
from storage.store import open_store
from storage.types import FeedState, Post, WorkerInfo
from tests.support.cli import monitor
from tests.support.dashboard import until
from tests.support.feeds import feeds_toml


def two_workers_and_a_waiting_post(url: str, now: datetime) -> None:
    """Two alive workers (one folds the stories, one holds a lease), one long gone, one post waiting 3 s."""
    with open_store(url) as store:
        store.sync_feeds(["a", "b"], now)
        work = store.work()
        work.beat(WorkerInfo("alpha:11:x", "alpha", 11, now - timedelta(hours=1), now, clustering=True, polls=1234))
        work.beat(WorkerInfo("beta:22:y", "beta", 22, now - timedelta(hours=1), now - timedelta(seconds=2)))
        work.beat(WorkerInfo("gamma:33:z", "gamma", 33, now - timedelta(days=2), now - timedelta(days=1)))
        work.lease("beta:22:y", ["a"], now, now + timedelta(minutes=2), functools.partial(choose, want=5))
        post = Post("p1", "b", "ann", "https://example.org/1", "volcano", now)
        work.deliver("alpha:11:x", FeedState("b"), [post], now - timedelta(seconds=3))


def test_status_lists_the_workers_which_one_folds_and_the_inbox_lag(tmp_path: Path, postgres_url: str) -> None:
    now = datetime.now(UTC)
    two_workers_and_a_waiting_post(postgres_url, now)
    config = tmp_path / "feeds.toml"
    config.write_text(feeds_toml({"a": "http://127.0.0.1:9/a", "b": "http://127.0.0.1:9/b"},
                                 extra=f'[storage]\nurl = "{postgres_url}"\n\n'))
    shown = monitor("status", "--config", str(config), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    workers = [line for line in lines if line.startswith("worker ")]
    assert len(workers) == 2, "the worker silent for a day is history"
    assert workers[0].startswith("worker alpha pid 11: alive, folds the stories, last beat ")
    assert workers[0].endswith(", 0 feeds leased, 1,234 polls")
    assert workers[1].startswith("worker beta pid 22: alive, last beat ") and ", 1 feeds leased" in workers[1]
    [inbox] = [line for line in lines if line.startswith("inbox: ")]
    assert inbox.startswith("inbox: 1 posts waiting, the oldest ") and inbox.endswith("; folded by pid 11 on alpha")
    assert lines[-2].endswith("; 2 workers running")

    as_json = json.loads(monitor("status", "--json", "--config", str(config), cwd=tmp_path).stdout)
    assert [(w["host"], w["pid"], w["alive"], w["clusters"], w["feeds_leased"]) for w in as_json["workers"]] == [
        ("alpha", 11, True, True, 0), ("beta", 22, True, False, 1)]
    assert as_json["inbox"]["waiting"] == 1 and as_json["inbox"]["lag_s"] >= 3


async def test_the_dashboards_status_line_says_how_many_workers_are_alive_and_the_lag(postgres_url: str) -> None:
    now = datetime.now(UTC)
    two_workers_and_a_waiting_post(postgres_url, now)
    app = MonitorApp(open_store(postgres_url, readonly=True), poll_interval=0.1)
    async with app.run_test(size=(160, 40)) as pilot:
        line = app.screen.query_one(StatusLine)
        await until(pilot, lambda: "2 workers alive, inbox lag" in str(line.render()))
        assert not line.has_class("-down")
        with open_store(postgres_url) as store:
            work = store.work()
            for worker in work.workers(now):
                work.stopped(worker.id)
            store.heartbeat(now)  # a fresh daemon row must not make stopped workers look alive
        await until(pilot, lambda: "no worker alive" in str(line.render()))
        assert line.has_class("-down")
