"""Announcing changed feeds to an outside hub (``websub.hub`` set to its URL).

A publication that outgrows one machine's pushes hands them to a hub
elsewhere: syndicate only tells it which topics changed, with a form-encoded
``hub.mode=publish`` (the parameter naming the topic is
``websub.publish_with``; see :func:`syndicate.websub.rules.publish_form`),
and the hub fetches the topic and pushes it itself. Runs in the leader, on
the change door; each announcement waits in the store until the hub took it
(any 2xx), tried again with backoff for ``retry_for`` seconds, then dropped
and logged. The outcome of the last try per topic is on /admin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from syndicate.clock import Clock
from syndicate.documents.changes import Change
from syndicate.live import LiveConfig
from syndicate.store.websub import Announcement, WebSubStore
from syndicate.websub.client import CallbackError, Callbacks
from syndicate.websub.counts import HubCounts
from syndicate.websub.rules import is_topic, publish_form, retry_at

log = logging.getLogger("syndicate.websub")

#: Announcements in flight at once (one hub: be polite to it).
AT_ONCE = 4
TICK = 0.5


async def announce_later(
    live: LiveConfig, subscriptions: WebSubStore, change: Change, now: float
) -> bool:
    """Queue, in the store, an announcement of each changed topic to the outside hub.

    Whether any was queued; none unless ``websub.hub`` names an outside hub.
    """
    hub = live.config.websub.hub
    if hub in ("builtin", "off"):
        return False
    topics = [
        url
        for key, url in zip(change.documents, change.urls, strict=True)
        if is_topic(key) and key not in change.gone
    ]
    if topics:
        await asyncio.to_thread(subscriptions.announce, topics, hub, now)
    return bool(topics)


class Announcer:
    def __init__(
        self,
        live: LiveConfig,
        subscriptions: WebSubStore,
        client: Callbacks,
        counts: HubCounts,
        clock: Clock,
        *,
        tick: float = TICK,
        rand: random.Random | None = None,
    ) -> None:
        self.live = live
        self.subscriptions = subscriptions
        self.client = client
        self.counts = counts
        self.clock = clock
        self.tick = tick
        self.rand = rand or random.Random()
        self.wake = asyncio.Event()
        self.slots = asyncio.Semaphore(AT_ONCE)

    async def on_change(self, change: Change) -> None:
        if await announce_later(self.live, self.subscriptions, change, self.clock.time()):
            self.wake.set()

    async def run(self) -> None:
        while True:
            try:
                due = await asyncio.to_thread(
                    self.subscriptions.announcements, due_by=self.clock.time()
                )
                await asyncio.gather(*(self._announce(a) for a in due))
            except Exception:  # the loop must outlive any one bad look
                log.exception("announcing to the outside hub failed; trying again")
            with contextlib.suppress(TimeoutError):
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a
                # cancel that lands as the event is set, and the loop would never stop.
                async with asyncio.timeout(self.tick):
                    await self.wake.wait()
            self.wake.clear()

    async def _announce(self, row: Announcement) -> None:
        websub = self.live.config.websub
        async with self.slots:
            try:
                status, _ = await self.client.request(
                    "POST", row.hub, data=publish_form(row.topic, websub.publish_with), read=0
                )
                text, ok = f"HTTP {status}", 200 <= status < 300
            except CallbackError as exc:
                text, ok = str(exc), False
        now = self.clock.time()
        attempts = row.attempts + 1
        due = None
        if not ok:
            due = retry_at(
                now,
                row.first_at or now,
                attempts,
                base=websub.retry_base,
                retry_for=websub.retry_for,
                jitter=self.rand.uniform(0.5, 1.0),
            )
            if due is None:
                log.warning("announcing %s to %s dropped: %s", row.topic, row.hub, text)
        outcome = "sent" if ok else ("retry" if due is not None else "dropped")
        self.counts.announcements[outcome] += 1
        await asyncio.to_thread(
            self.subscriptions.announced,
            row.topic,
            row.first_at,
            status=text,
            at=now,
            done=due is None,
            attempts=attempts,
            due_at=due,
        )
