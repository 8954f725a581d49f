"""Verification of intent (sections 5.2 and 5.3), after the hub has answered 202.

Whichever worker receives a subscription request verifies it: a topic that
is not one of the site's feeds gets a ``hub.mode=denied`` callback; any
other request a GET with a fresh ``hub.challenge``, and only a 2xx whose body
is exactly that challenge makes the subscription (or its renewal, or the
unsubscription) real, in the store, where every worker and the leader's
delivery engine see it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from syndicate.clock import Clock
from syndicate.documents.cache import DocumentCache, Unavailable
from syndicate.documents.rendered import NotFound
from syndicate.live import LiveConfig
from syndicate.store.websub import WebSubStore
from syndicate.websub.client import CallbackError, Callbacks
from syndicate.websub.counts import HubCounts
from syndicate.websub.rules import Request, clamp_lease, topic_key, verified, with_params

log = logging.getLogger("syndicate.websub")

#: Verifications running at once per worker, and waiting at most: past that
#: the hub answers 503 rather than queue without bound.
RUNNING = 32
WAITING = 2000


class Verifier:
    """Runs each accepted request's verification as a task of its own."""

    def __init__(
        self,
        live: LiveConfig,
        subscriptions: WebSubStore,
        cache: DocumentCache,
        client: Callbacks,
        counts: HubCounts,
        clock: Clock,
    ) -> None:
        self.live = live
        self.subscriptions = subscriptions
        self.cache = cache
        self.client = client
        self.counts = counts
        self.clock = clock
        self.running = asyncio.Semaphore(RUNNING)
        self.tasks: set[asyncio.Task[None]] = set()

    def accept(self, request: Request) -> bool:
        """Start verifying ``request``; False when too many are waiting already."""
        if len(self.tasks) >= WAITING:
            return False
        task = asyncio.create_task(self.verify(request))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return True

    async def _ours(self, topic: str) -> bool:
        key = topic_key(self.live.config.site.root, topic)
        if key is None:
            return False
        try:
            await self.cache.get(key)
        except NotFound:
            return False
        except Unavailable:
            return True  # it exists; it just cannot be built this moment
        return True

    async def verify(self, request: Request) -> None:
        async with self.running:
            try:
                await self._verify(request)
            except Exception:  # a task's failure must be logged, not lost
                log.exception("verifying %s for %s failed", request.mode, request.callback)

    async def _verify(self, request: Request) -> None:
        config = self.live.config
        if request.mode == "subscribe" and not await self._ours(request.topic):
            self.counts.verifications["denied"] += 1
            reason = f"{request.topic} is not a feed of {config.site.root}"
            params = {"hub.mode": "denied", "hub.topic": request.topic, "hub.reason": reason}
            try:
                await self.client.request("GET", with_params(request.callback, params), read=0)
            except CallbackError as exc:
                log.info("denial to %s not delivered: %s", request.callback, exc)
            return
        challenge = secrets.token_urlsafe(24)
        params = {"hub.mode": request.mode, "hub.topic": request.topic, "hub.challenge": challenge}
        lease = clamp_lease(request.lease_seconds, config.websub)
        if request.mode == "subscribe":
            params["hub.lease_seconds"] = str(lease)
        try:
            status, answer = await self.client.request("GET", with_params(request.callback, params))
        except CallbackError as exc:
            self.counts.verifications["failed"] += 1
            log.info("verification of %s failed: %s", request.callback, exc)
            return
        if not verified(status, answer, challenge):
            self.counts.verifications["refused"] += 1
            log.info("%s did not confirm (HTTP %d)", request.callback, status)
            return
        if request.mode == "subscribe":
            await asyncio.to_thread(
                self.subscriptions.subscribe,
                request.topic,
                request.callback,
                request.secret,
                lease,
                self.clock.time(),
            )
            self.counts.verifications["verified"] += 1
        else:
            await asyncio.to_thread(self.subscriptions.unsubscribe, request.topic, request.callback)
            self.counts.verifications["unsubscribed"] += 1

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
