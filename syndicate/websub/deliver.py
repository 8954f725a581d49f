"""Content distribution (section 7): push a topic's new bytes to every subscriber.

It runs in the leader only, on the change door (syndicate.documents.changes):
a change lists the documents whose bytes differ from the last ones seen, so
unchanged bytes are never pushed. For each changed first page, every live
subscriber is owed the new bytes: a row in the store (one per subscriber, a
newer change replacing an older one), so a restart, even after kill -9,
sends what was owed. The engine then POSTs each owed delivery in a task of
its own (the identity body the change announced, its Content-Type, the
``Link`` to hub and self, ``X-Hub-Signature`` when a secret was given), so a
slow or dead subscriber holds up no one but itself. A failure is tried again
after ``retry_base``, then twice that and so on, until ``retry_for`` has
passed since the change; then the delivery is dropped and logged.
Outcomes are written to the store in batches, so a thousand deliveries cost
a few transactions, not a thousand.

The bytes a change announced are kept (:attr:`Deliverer.announced`) and
every delivery of that change sends them: a thousand subscribers of one feed
cost one look in the document cache, not a thousand. That matters because the
cache lives on the serving loop: a look from the pusher's thread is a
callback there, and a thousand of them at once held that loop for a whole
turn (bench/bench_websub.py: feed p99 150-190 ms during the push, 20 ms
without it). The door announces every change of a topic's bytes, so the kept
bytes are always the newest announced; after a restart nothing is kept and a
delivery asks the cache once per topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from typing import Protocol

from syndicate.catalog import DocKey
from syndicate.clock import Clock
from syndicate.documents.cache import Unavailable
from syndicate.documents.changes import Change
from syndicate.documents.headers import websub_link
from syndicate.documents.rendered import NotFound, Rendered
from syndicate.live import LiveConfig
from syndicate.store.websub import Outcome, Owed, WebSubStore
from syndicate.websub.client import CallbackError, Callbacks
from syndicate.websub.counts import HubCounts
from syndicate.websub.rules import delivered, gone, is_topic, retry_at, signature, topic_key

log = logging.getLogger("syndicate.websub")

#: Longest sleep between looks at the queue (retries come due; leases expire).
TICK = 0.5
#: Outcomes are written when this many are waiting, or FLUSH_EVERY seconds after the first.
FLUSH_AT = 256
FLUSH_EVERY = 0.05
#: Seconds between sweeps of expired subscriptions.
EXPIRE_EVERY = 30.0
#: Deliveries started per look at the queue.
BATCH = 1000
#: Topics whose announced bytes are kept (the oldest go first; a miss asks the cache).
KEEP_ANNOUNCED = 256


class DocumentSource(Protocol):
    """Where a delivery gets a topic's bytes: the document cache, or a way to ask it."""

    async def get(self, key: DocKey) -> Rendered: ...


async def owe(
    live: LiveConfig,
    subscriptions: WebSubStore,
    cache: DocumentSource,
    change: Change,
    now: float,
) -> list[tuple[DocKey, Rendered]]:
    """Queue, in the store, a delivery of each changed topic's bytes to its live subscribers.

    Returns the topics queued with their bytes (the change door just built
    them, so ``cache`` has them). Nothing is owed unless the built-in hub
    is in use: otherwise the feeds name another hub, or none.
    """
    if live.config.websub.hub != "builtin":
        return []
    queued: list[tuple[DocKey, Rendered]] = []
    owed: list[tuple[str, str]] = []
    for key, url in zip(change.documents, change.urls, strict=True):
        if not is_topic(key) or key in change.gone:
            continue
        try:
            rendered = await cache.get(key)
        except (NotFound, Unavailable):
            continue
        queued.append((key, rendered))
        owed.append((url, rendered.etag))
    if owed:
        await asyncio.to_thread(subscriptions.enqueue, owed, now)
    return queued


class Deliverer:
    """The leader's delivery engine: ``on_change`` queues, ``run`` delivers."""

    def __init__(
        self,
        live: LiveConfig,
        subscriptions: WebSubStore,
        cache: DocumentSource,
        client: Callbacks,
        counts: HubCounts,
        clock: Clock,
        *,
        tick: float = TICK,
        rand: random.Random | None = None,
    ) -> None:
        self.live = live
        self.subscriptions = subscriptions
        self.cache = cache
        self.client = client
        self.counts = counts
        self.clock = clock
        self.tick = tick
        self.rand = rand or random.Random()
        self.wake = asyncio.Event()
        #: Subscription ids with a delivery in flight or an outcome not yet written.
        self.busy: set[int] = set()
        self.outcomes: list[Outcome] = []
        self.flushed = asyncio.Event()
        self.slots = asyncio.Semaphore(live.config.websub.concurrency)
        self.tasks: set[asyncio.Task[None]] = set()
        #: The newest bytes announced (or looked up) per topic, most recent last.
        self.announced: OrderedDict[DocKey, Rendered] = OrderedDict()
        #: Lookups in the cache under way, shared by every delivery that waits for one.
        self.asking: dict[DocKey, asyncio.Future[Rendered]] = {}
        self._last_expiry = 0.0

    async def on_change(self, change: Change) -> None:
        """The door's listener: owe every live subscriber of each changed feed its new bytes."""
        for key in change.gone:
            self.announced.pop(key, None)
        queued = await owe(self.live, self.subscriptions, self.cache, change, self.clock.time())
        for key, rendered in queued:
            self._keep(key, rendered)
        if queued:
            self.wake.set()

    def _keep(self, key: DocKey, rendered: Rendered) -> None:
        self.announced[key] = rendered
        self.announced.move_to_end(key)
        while len(self.announced) > KEEP_ANNOUNCED:
            self.announced.popitem(last=False)

    async def _bytes(self, key: DocKey, etag: str) -> Rendered:
        """The bytes owed (``etag``) if kept; else the cache's newest, asked once for all waiting.

        Newer bytes than those owed are sent gladly (a newer change owes them
        anyway); a delivery never sends older ones.
        """
        found = self.announced.get(key)
        if found is not None and found.etag == etag:
            return found
        asking = self.asking.get(key)
        if asking is None:
            asking = self.asking[key] = asyncio.ensure_future(self.cache.get(key))
            asking.add_done_callback(lambda _: self.asking.pop(key, None))
        found = await asyncio.shield(asking)
        self._keep(key, found)
        return found

    async def run(self) -> None:
        flusher = asyncio.create_task(self._flush_loop())
        try:
            while True:
                pause = self.tick
                try:
                    now = self.clock.time()
                    if await self._look(now) < BATCH:
                        pause = await self._sleep(now)
                    else:
                        pause = 0.0  # more are due than one look takes
                except Exception:  # the engine must outlive any one bad look
                    log.exception("looking for deliveries failed; trying again")
                with contextlib.suppress(TimeoutError):
                    # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a
                    # cancel that lands as the event is set, and the loop would never stop.
                    async with asyncio.timeout(pause):
                        await self.wake.wait()
                self.wake.clear()
        finally:
            flusher.cancel()
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(flusher, *self.tasks, return_exceptions=True)
            await asyncio.shield(self._flush())

    async def _sleep(self, now: float) -> float:
        """Until the next retry comes due, at most a tick (what is due now is under way)."""
        upcoming = await asyncio.to_thread(self.subscriptions.next_due, now)
        if upcoming is None:
            return self.tick
        return max(0.0, min(self.tick, upcoming - self.clock.time()))

    async def _look(self, now: float) -> int:
        """Start every delivery due by ``now`` that is not under way; how many started."""
        if now - self._last_expiry >= EXPIRE_EVERY or now < self._last_expiry:
            self._last_expiry = now
            if gone_count := await asyncio.to_thread(self.subscriptions.expire, now):
                log.info("%d WebSub subscription(s) expired", gone_count)
        due = await asyncio.to_thread(self.subscriptions.due, now, set(self.busy), BATCH)
        for owed in due:
            self.busy.add(owed.subscription.id)
            task = asyncio.create_task(self._deliver(owed))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return len(due)

    async def _deliver(self, owed: Owed) -> None:
        try:
            async with self.slots:
                outcome = await self._attempt(owed)
        except Exception as exc:  # never lose the row: count it as a failure
            log.exception("delivery to %s failed", owed.subscription.callback)
            outcome = self._failed(owed, f"error: {exc}")
        self.counts.deliveries[outcome.kind] += 1
        self.outcomes.append(outcome)
        if len(self.outcomes) >= FLUSH_AT:
            self.flushed.set()

    async def _attempt(self, owed: Owed) -> Outcome:
        sub = owed.subscription
        config = self.live.config
        key = topic_key(config.site.root, sub.topic)
        try:
            if key is None:
                raise NotFound(sub.topic)
            rendered = await self._bytes(key, owed.etag)
        except NotFound:
            return self._outcome(owed, "dropped", None, "topic gone")
        except Unavailable:
            return self._failed(owed, "topic cannot be built")
        if rendered.etag == sub.last_etag:  # already has these bytes
            return self._outcome(owed, "skipped", None, sub.last_status or "")
        hub = config.hub_url or ""
        headers = {
            "Content-Type": rendered.content_type,
            "Link": websub_link(hub, sub.topic),
        }
        if sub.secret:
            headers["X-Hub-Signature"] = signature(sub.secret, rendered.body)
        try:
            status, _ = await self.client.request(
                "POST", sub.callback, data=rendered.body, headers=headers, read=0
            )
        except CallbackError as exc:
            return self._failed(owed, str(exc))
        if delivered(status):
            return self._outcome(owed, "delivered", rendered.etag, f"HTTP {status}")
        if gone(status):
            log.info("%s answered 410 Gone: subscription removed", sub.callback)
            return self._outcome(owed, "gone", None, f"HTTP {status}")
        return self._failed(owed, f"HTTP {status}")

    def _outcome(self, owed: Owed, kind: str, sent: str | None, status: str) -> Outcome:
        return Outcome(
            kind,  # type: ignore[arg-type]
            owed.subscription.id,
            owed.etag,
            sent,
            status,
            self.clock.time(),
            owed.attempts,
        )

    def _failed(self, owed: Owed, status: str) -> Outcome:
        now = self.clock.time()
        websub = self.live.config.websub
        attempts = owed.attempts + 1
        at = retry_at(
            now,
            owed.first_at,
            attempts,
            base=websub.retry_base,
            retry_for=websub.retry_for,
            jitter=self.rand.uniform(0.5, 1.0),
        )
        if at is None:
            log.warning(
                "delivery to %s dropped after %d attempts: %s",
                owed.subscription.callback,
                attempts,
                status,
            )
            return Outcome("dropped", owed.subscription.id, owed.etag, None, status, now, attempts)
        return Outcome("retry", owed.subscription.id, owed.etag, None, status, now, attempts, at)

    async def _flush_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a
                # cancel that lands as the event is set, and the loop would never stop.
                async with asyncio.timeout(FLUSH_EVERY):
                    await self.flushed.wait()
            self.flushed.clear()
            try:
                await self._flush()
            except Exception:  # kept in memory; written at the next try
                log.exception("recording WebSub deliveries failed; trying again")

    async def _flush(self) -> None:
        if not self.outcomes:
            return
        batch, self.outcomes = self.outcomes, []
        try:
            await asyncio.to_thread(self.subscriptions.record, batch)
        except BaseException:
            self.outcomes[:0] = batch
            raise
        for outcome in batch:
            self.busy.discard(outcome.subscription_id)
        if any(o.kind == "retry" for o in batch):
            self.wake.set()
