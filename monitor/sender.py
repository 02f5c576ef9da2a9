"""The daemon's alert sender: works through the outbox, one rule's channel at a time.

Each pass plans every rule's queue (monitor.alerts.plan), holds what is past the hourly budget,
folds held alerts into a digest when one is due, and sends what is due, oldest first, stopping at
a rule's first failure: that channel then waits out its retry time (its own Retry-After when it gave
one, else our backoff: monitor.alerts.retry_at), and the others go on. Sends run
in a thread of their own, so a slow channel never holds up a poll; every database step is handed to
`db` (the daemon's one writer thread). An alert is marked sent only once its channel took it, so a
crash before that sends it again after the restart (at least once), and one marked sent never goes again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from monitor.alerts import BUDGET_WINDOW, DIGEST, DIGEST_AFTER, asked_wait, digest_json, plan, retry_at
from monitor.channels import Answer, Channel
from monitor.clock import Clock
from monitor.config import AlertRule
from storage.store import Store
from storage.types import Alert, NewAlert, QueuedAlert

log = logging.getLogger("monitor.alerts")
Db = Callable[..., Awaitable[Any]]


class AlertSender:
    def __init__(self, store: Store, rules: Sequence[AlertRule], channels: Mapping[str, Channel], clock: Clock,
                 db: Db) -> None:
        self.store = store
        self.rules = list(rules)
        self.channels = channels
        self.clock = clock
        self._db = db
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-alerts")
        self._stopping = False

    def stop(self) -> None:
        """Finish the send in flight, start no other."""
        self._stopping = True

    def close(self) -> None:
        self._thread.shutdown(wait=True)

    async def run(self) -> None:
        """One pass over every rule's queue. Never raises: a database or channel failure waits for the next."""
        try:
            queue: list[QueuedAlert] = await self._db(self.store.alert_queue)
            if not queue:
                return
            now = self.clock()
            spent: dict[str, int] = await self._db(self.store.sent_since, now - BUDGET_WINDOW)
            for rule in self.rules:
                rows = [q for q in queue if q.rule == rule.name]
                if rows and not self._stopping:
                    await self._work(rule, rows, spent.get(rule.name, 0), now)
        except Exception as e:  # the sender must never stop the daemon; the next pass tries again
            log.warning("alerts: %s", e)
            log.debug("alerts: unexpected error", exc_info=True)

    async def _work(self, rule: AlertRule, rows: list[QueuedAlert], spent: int, now: datetime) -> None:
        decided = plan(rule, rows, spent, now)
        if decided.hold:
            await self._db(self.store.hold_alerts, decided.hold, now + DIGEST_AFTER, now)
            log.info("alerts: rule %s is past %d an hour; %d held for a digest", rule.name, rule.max_per_hour,
                     len(decided.hold))
        send = list(decided.send)
        if decided.digest:
            digest = await self._digest(rule, decided.digest, now)
            if digest is not None and decided.ready:
                send.append(digest)
        if send:
            await self._send(rule, await self._db(self.store.alerts, send))

    async def _digest(self, rule: AlertRule, held: Sequence[int], now: datetime) -> int | None:
        alerts: list[Alert] = await self._db(self.store.alerts, held)
        payload = digest_json(rule.name, rule.topic, [json.loads(a.payload) for a in alerts], now)
        digest = NewAlert(rule.name, DIGEST, f"digest:{held[0]}", rule.topic, None,
                          json.dumps(payload, ensure_ascii=False))
        made: int | None = await self._db(self.store.fold_into_digest, held, digest, now)
        return made

    async def _send(self, rule: AlertRule, alerts: list[Alert]) -> None:
        channel = self.channels[rule.name]
        loop = asyncio.get_running_loop()
        for alert in alerts:
            if self._stopping:
                return
            payload = json.loads(alert.payload)
            answer: Answer = await loop.run_in_executor(self._thread, channel.send, payload)
            now = self.clock()
            if answer.delivered:
                await self._db(self.store.alert_sent, alert.id, answer.text, now)
                log.info("alert #%d (%s, %s) sent: %s", alert.id, rule.name, alert.event, answer.text)
                continue
            asked = asked_wait(answer.retry_after, now)  # on our clock, as the channel answered just now
            again = retry_at(alert.attempts + 1, now, asked=asked)
            await self._db(self.store.alert_failed, alert.id, answer.text, again, now)
            log.warning("alert #%d (%s, %s) not sent: %s (retry at %s%s)", alert.id, rule.name, alert.event,
                        answer.text, again.strftime("%H:%M:%SZ"), ", as the channel asked" if asked is not None else "")
            return  # the channel is failing: the rule's other alerts wait for its retry
