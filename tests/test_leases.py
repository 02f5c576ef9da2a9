"""Which due feeds a worker leases: the pure decider (monitor.leases), no database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from monitor.config import parse
from monitor.leases import choose, feed_host, poll_deadline, scan, wanted
from storage.types import LeaseCandidate
from tests.support.feeds import T0


def due(name: str, host: str | None, minutes: int = 0) -> LeaseCandidate:
    return LeaseCandidate(name, host, T0 + timedelta(minutes=minutes))


def test_at_most_two_feeds_of_one_host_counting_the_leases_other_workers_hold() -> None:
    candidates = [due("a1", "a:80"), due("a2", "a:80"), due("a3", "a:80"), due("b1", "b:80"), due("b2", "b:80")]
    assert choose(candidates, {}, want=10) == ["a1", "a2", "b1", "b2"]
    assert choose(candidates, {"a:80": 1}, want=10) == ["a1", "b1", "b2"]
    assert choose(candidates, {"a:80": 2, "b:80": 2}, want=10) == []


def test_no_more_than_wanted_soonest_due_first_and_a_feed_without_a_known_host_goes_alone() -> None:
    candidates = [due("x", None), due("y", None), due("a1", "a:80"), due("b1", "b:80")]
    assert choose(candidates, {}, want=3) == ["x", "y", "a1"]
    assert choose(candidates, {}, want=0) == []
    assert wanted(16, 10) == 6 and wanted(16, 16) == 0 and wanted(16, 20) == 0


def test_the_worker_that_folds_the_stories_polls_less_while_its_inbox_is_behind_and_others_poll() -> None:
    assert wanted(16, 0, folding_behind=True, others=2) == 4 and wanted(16, 3, folding_behind=True, others=1) == 1
    assert wanted(16, 0, folding_behind=True, others=0) == 16, "alone, it polls as much as any worker"
    assert wanted(16, 0, folding_behind=False, others=2) == 16, "an inbox that keeps up leaves it all its polls"


def test_a_poll_is_cut_short_before_its_lease_runs_out() -> None:
    assert 0 < poll_deadline(120) < 120
    assert poll_deadline(8) == 6


def test_a_feeds_host_is_where_its_first_request_goes(tmp_path: Path) -> None:
    config = parse(
        '[[topics]]\nname = "v"\nkeywords = ["v"]\n\n'
        '[[feeds]]\nname = "r"\ntype = "rss"\nurl = "http://Example.org/feed.xml"\n\n'
        '[[feeds]]\nname = "s"\ntype = "rss"\nurl = "https://example.org:8443/x"\n\n'
        '[[feeds]]\nname = "m"\ntype = "mastodon"\nbase_url = "https://mastodon.social"\nhashtag = "volcano"\n',
        tmp_path / "feeds.toml", environ={})
    hosts = {feed.name: feed_host(feed) for feed in config.feeds}
    assert hosts == {"r": "example.org:80", "s": "example.org:8443", "m": "mastodon.social:443"}


def test_a_lease_reads_a_few_candidates_per_wanted_feed_within_bounds() -> None:
    assert scan(1) == 32 and scan(10) == 80 and scan(100) == 400
