"""monitor alerts [--json] [--limit N], monitor alerts test NAME: recent alerts and their delivery; a test send.

The list reads the outbox (read-only, beside a running daemon): each rule's channel, whether it is
failing and why, what waits, then the alerts newest first. `test` sends a sample alert through one
rule's channel at once (not through the outbox) and prints what the channel answered.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.clock import Clock, utc_now
from monitor.commands._common import config_of, limit_arg, reading
from monitor.config import AlertRule, Config
from monitor.errors import UsageError
from monitor.textsafe import json_dumps, one_line

if TYPE_CHECKING:
    from storage.types import Alert

NAME = "alerts"
HELP = "recent alerts and their delivery; `alerts test NAME` sends a sample through one rule"
RECENT = 20
EXIT_NOT_DELIVERED = 1


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
    limit_arg(parser)
    sub = parser.add_subparsers(dest="action", metavar="test NAME")
    test = sub.add_parser("test", help="send a sample alert through one rule now and say what its channel answered")
    test.add_argument("name", metavar="NAME", help="the rule's name in feeds.toml ([[alerts]] name)")
    # Also after the action (`monitor alerts test phone --config f.toml`); SUPPRESS keeps the command's value.
    test.add_argument("--config", type=Path, default=argparse.SUPPRESS, metavar="PATH", help="feeds.toml to use")


def run(args: argparse.Namespace, clock: Clock = utc_now) -> int:
    if args.action == "test":
        return _test(args, clock)
    return _list(args)


def _list(args: argparse.Namespace) -> int:
    from monitor.alerts import channel_states
    from monitor.channels import channels

    channels(config_of(args))  # each URL checked as the daemon will, before the store: a bad one exits 2
    with reading(args) as (config, store):
        recent = store.recent_alerts(limit=args.limit or RECENT)
        states = channel_states(config.alerts, store.alert_queue(), store.last_sent())
    if args.json:
        print(json_dumps({"rules": [s.json() for s in states], "alerts": [_alert_json(a) for a in recent]}))
        return 0
    if not config.alerts:
        print("no alert rules: add an [[alerts]] table to feeds.toml (see README, Alerts)")
    for state in states:
        print(state.line())
    if recent:
        print()
    for alert in recent:
        print(_alert_line(alert))
    return 0


def _test(args: argparse.Namespace, clock: Clock) -> int:
    from monitor.alerts import sample
    from monitor.channels import channel_for

    config = config_of(args)
    rule = _rule(config, args.name)
    channel = channel_for(rule, config.path)
    answer = channel.send(sample(rule, [t.name for t in config.topics], clock()))
    verdict = "delivered" if answer.delivered else "NOT delivered"
    print(f"{one_line(rule.name)}: test alert {verdict} through {channel.shown}: {answer.text}")
    return 0 if answer.delivered else EXIT_NOT_DELIVERED


def _rule(config: Config, name: str) -> AlertRule:
    for rule in config.alerts:
        if rule.name == name:
            return rule
    names = ", ".join(f'"{r.name}"' for r in config.alerts) or "none yet (add an [[alerts]] table to feeds.toml)"
    raise UsageError(f'no alert rule "{one_line(name, 60)}"; the rules are {names}')


def _alert_json(alert: Alert) -> dict[str, Any]:
    import json

    from monitor.output import iso

    return {
        "id": alert.id,
        "rule": alert.rule,
        "event": alert.event,
        "topic": alert.topic,
        "story": alert.story,
        "created": iso(alert.created),
        "state": alert.state,
        "attempts": alert.attempts,
        "sent": iso(alert.sent),
        "next_attempt": iso(alert.next_attempt),
        "answer": alert.answer,
        "digest": alert.digest,
        "alert": json.loads(alert.payload),
    }


def _alert_line(alert: Alert) -> str:
    """'2024-03-01 12:03:04Z  #12  phone  spike      sent 12:03:05Z  volcano: Lava reaches the road'."""
    import json

    from monitor.alerts import delivery, headline
    from monitor.output import short_time

    topic = one_line(alert.topic or "every topic", 20)
    return (f"{short_time(alert.created)}  #{alert.id:<5} {one_line(alert.rule, 16):16} {alert.event:9}  "
            f"{delivery(alert):22}  {topic}: {one_line(headline(json.loads(alert.payload)), 70)}")
