"""The leader's delivery engine and announcer, on a thread and event loop of their own.

Why a thread: pushing a change to 1,000 subscribers is about half a second
of Python work (a request built, sent and answered per subscriber). On the
event loop that serves feeds, it ran in long turns of hundreds of ready
callbacks, and a feed request arriving meanwhile waited behind all of them
(bench/bench_websub.py: the origin's feed p99 went from a few ms to 145-177 ms
during a push). On its own loop the push still shares the interpreter, but
CPython hands the GIL over at least every switch interval (5 ms) and at
every system call, so the serving loop is never held for a whole turn of
the push. A process would also isolate memory, at the price of a second
document cache and every change built twice.

What crosses threads, and how: the change door calls :meth:`Pusher.on_change`
on the serving loop, which hands the change to the pusher's loop and waits
for it to be queued (in the store, as before); a delivery asks the serving
loop's document cache for the bytes through :class:`CacheFromThread`, so the
cache keeps one owner. The store is safe from any thread (its lock), and the
counters are plain Counters read under the GIL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from syndicate.catalog import DocKey
from syndicate.clock import Clock
from syndicate.documents.cache import DocumentCache
from syndicate.documents.changes import Change
from syndicate.documents.rendered import Rendered
from syndicate.live import LiveConfig
from syndicate.store.websub import WebSubStore
from syndicate.websub.announce import Announcer
from syndicate.websub.client import Callbacks
from syndicate.websub.counts import HubCounts
from syndicate.websub.deliver import Deliverer

log = logging.getLogger("syndicate.websub")

T = TypeVar("T")

#: Seconds to wait for the pusher's loop to start or to stop.
THREAD_PATIENCE = 10.0


class CacheFromThread:
    """The serving loop's document cache, asked from another thread's event loop."""

    def __init__(self, cache: DocumentCache, loop: asyncio.AbstractEventLoop) -> None:
        self.cache = cache
        self.loop = loop

    async def get(self, key: DocKey) -> Rendered:
        future = asyncio.run_coroutine_threadsafe(self.cache.get(key), self.loop)
        return await asyncio.wrap_future(future)


class Pusher:
    """A :class:`Deliverer` and an :class:`Announcer` on a thread: :meth:`start`, :meth:`stop`."""

    def __init__(
        self,
        live: LiveConfig,
        subscriptions: WebSubStore,
        cache: DocumentCache,
        counts: HubCounts,
        clock: Clock,
    ) -> None:
        self.live = live
        self.subscriptions = subscriptions
        self.cache = cache
        self.counts = counts
        self.clock = clock
        self.deliverer: Deliverer | None = None
        self.announcer: Announcer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    async def start(self) -> None:
        """Start the thread (from the serving loop) and wait until its engine runs."""
        serving = asyncio.get_running_loop()
        self._thread = threading.Thread(
            target=self._main, args=(serving,), name="websub-pusher", daemon=True
        )
        self._thread.start()
        if not await asyncio.to_thread(self._ready.wait, THREAD_PATIENCE):
            raise RuntimeError("the WebSub pusher thread did not start")
        if self._failure is not None:
            raise RuntimeError("the WebSub pusher thread failed to start") from self._failure

    def _main(self, serving: asyncio.AbstractEventLoop) -> None:
        try:
            asyncio.run(self._run(serving))
        except BaseException as exc:  # reported to start(), or logged once running
            self._failure = exc
            if self._ready.is_set():
                log.exception("the WebSub pusher stopped")
            self._ready.set()

    async def _run(self, serving: asyncio.AbstractEventLoop) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        cache = CacheFromThread(self.cache, serving)
        async with Callbacks(self.live.config) as client:
            self.deliverer = Deliverer(
                self.live, self.subscriptions, cache, client, self.counts, self.clock
            )
            self.announcer = Announcer(
                self.live, self.subscriptions, client, self.counts, self.clock
            )
            tasks = [
                asyncio.create_task(self.deliverer.run()),
                asyncio.create_task(self.announcer.run()),
            ]
            self._ready.set()
            await self._stop.wait()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _there(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the pusher's loop and wait for it from this one."""
        assert self._loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    async def on_change(self, change: Change) -> None:
        """The change door's listener (on the serving loop): queue what the change owes."""
        if self.deliverer is None or self.announcer is None:
            return
        await self._there(self.deliverer.on_change(change))
        await self._there(self.announcer.on_change(change))

    async def stop(self) -> None:
        """Stop the engine (owed deliveries stay in the store) and join the thread."""
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # its loop already closed
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, THREAD_PATIENCE)
