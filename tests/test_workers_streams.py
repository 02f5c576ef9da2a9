"""A streamed feed among workers sharing PostgreSQL: only the worker that folds the stories reads it
(one connection at a time), and when that worker is SIGKILLed the stream moves with the story lock,
resuming from the stored cursor: every matching post stored once."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.support import jetstream as js
from tests.support.cli import start_daemon, wait_for
from tests.support.server import FixtureServer
from tests.support.streams import profiles_route

T0 = 1_747_670_000_000_000
FRAMES = 400


def view(n: int) -> dict[str, Any]:
    when = (datetime.now(UTC) - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    text_ = f"Volcano note {n} from the ridge" if n % 2 else f"Harbour weather {n}"
    return {"uri": f"at://did:plc:ann/app.bsky.feed.post/p{n}", "cid": "bafy",
            "author": {"did": "did:plc:ann", "handle": "ann.example", "displayName": "Ann"},
            "record": {"$type": "app.bsky.feed.post", "text": text_, "createdAt": when, "langs": ["en"]}}


def test_only_the_story_worker_reads_a_stream_and_it_moves_with_the_lock(
        tmp_path: Path, server: FixtureServer, postgres_url: str) -> None:
    views = [view(n) for n in range(FRAMES)]
    server.routes["/xrpc/app.bsky.actor.getProfiles"] = profiles_route(views)
    frames = [js.post_frame(v, T0 + n * 100_000) for n, v in enumerate(views)]
    engine = create_engine(postgres_url)

    def query(sql: str) -> list[tuple[Any, ...]]:
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(sql))]
        except Exception:  # the first worker has not made the tables yet
            return []

    with js.Jetstream(frames[:200], pace=0.01) as jet:
        config = tmp_path / "feeds.toml"
        config.write_text(f'[storage]\nurl = "{postgres_url}"\nlease = "6s"\n\n'
                          '[[topics]]\nname = "volcano"\nkeywords = ["volcano"]\n\n'
                          f'[[feeds]]\nname = "bsky-live"\ntype = "bluesky-stream"\nbase_url = "{jet.url}"\n'
                          f'profiles_url = "{server.base}"\n')
        logs = [(tmp_path / f"w{i}.log").open("wb") for i in range(3)]
        running = [start_daemon(config, stderr=log) for log in logs]
        try:
            wait_for(lambda: query("SELECT count(*) FROM posts") and query("SELECT count(*) FROM posts")[0][0] >= 20,
                     what="streamed posts stored")
            gone = [(p.pid, p.returncode) for p in running if p.poll() is not None]
            assert len(jet.connections) == 1, f"one worker reads the stream: {jet.connections}; exited {gone}"
            [(folder,)] = query("SELECT id FROM workers WHERE clustering")
            victim = next(p for p in running if p.pid == int(str(folder).split(":")[-2]))
            victim.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            victim.wait(10)
            jet.add(frames[200:])
            wait_for(lambda: len(jet.connections) == 2, timeout=15, what="another worker reads the stream")
            assert time.monotonic() - killed <= 15
            last = str(frames[-1].time_us)
            wait_for(lambda: any(last in str(c) for (c,) in query("SELECT cursor FROM feeds WHERE name = 'bsky-live'")),
                     timeout=60, what="the whole stream stored")
            assert len(jet.connections) == 2, f"never two readers: {jet.connections}"
        finally:
            for process in running:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(60)
            for log in logs:
                log.close()
    ids = [post_id for (post_id,) in query("SELECT post_id FROM posts")]
    engine.dispose()
    assert "cursor" in jet.connections[1].query, "the new reader resumes from the stored cursor"
    assert len(ids) == len(set(ids)) and len(ids) == FRAMES // 2, "every matching post stored once"
