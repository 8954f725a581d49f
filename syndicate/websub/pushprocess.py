"""The built-in hub's deliveries and announcements, in a process of their own.

Why a process: pushing a change to 1,000 subscribers is about half a second
of Python (a request built, sent and answered per subscriber). On the
serving loop it held feed requests for whole turns; on a thread of its own
(syndicate.websub.pusher) it still shares the interpreter's lock, and the
serving thread, which gives the lock up at every system call (each recv,
send and poll), waited to get it back behind the pushing thread and its
helpers: bench/bench_websub.py measured the serving loop stalled 100-150 ms
at each push to 1,000, the origin's feed p99 at 150-190 ms. A process has
its own interpreter and runs on another core.

What stays in the leader: the change door's listener, which queues what a
change owes in the store (:func:`syndicate.websub.deliver.owe`, and
:func:`syndicate.websub.announce.announce_later` for an outside hub), as
before, then wakes the process with one byte on a pipe. The process sends
what is due, reading the bytes from a document cache of its own (one build
per changed topic, not per subscriber), and records outcomes in the store,
where /admin reads them. Its counts come back over a second pipe every
second for /metrics. A config reload in the leader is passed on (the process
reads config.toml again). The process dies with the leader
(syndicate.lifetime), and a process that dies is started again with a
doubling delay; what it owed is still in the store.

``syndicate serve`` uses this host; an app made in a test process keeps the
thread (:class:`~syndicate.websub.pusher.Pusher`), whose clock a test can
move.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from collections import Counter
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from syndicate import logs
from syndicate.catalog import DocKey
from syndicate.clock import SYSTEM, Clock
from syndicate.config import Config
from syndicate.documents.build import build_document
from syndicate.documents.cache import DocumentCache
from syndicate.documents.changes import Change
from syndicate.documents.rendered import Rendered
from syndicate.lifetime import die_with_parent, name_process
from syndicate.live import LiveConfig
from syndicate.store import Store
from syndicate.store.watch import ChangeWatcher
from syndicate.store.websub import WebSubStore
from syndicate.websub.announce import Announcer, announce_later
from syndicate.websub.client import Callbacks
from syndicate.websub.counts import HubCounts
from syndicate.websub.deliver import Deliverer, DocumentSource, owe

log = logging.getLogger("syndicate.websub")

#: The process's name in ps and top.
NAME = "syndicate-push"
#: What the leader writes on the wake pipe: something is due; config.toml changed.
WAKE = b"w"
RELOAD = b"c"
#: Seconds between the process's reports of its counts.
REPORT_EVERY = 1.0
#: Seconds the process gets to stop (it flushes its outcomes) before it is killed.
STOP_PATIENCE = 5.0
#: Restart delays for a process that keeps dying young: FIRST_DELAY, twice that...
FIRST_DELAY = 1.0
MAX_DELAY = 30.0
#: A process that lived this long before dying is started again after FIRST_DELAY.
STEADY = 10.0


# -- in the leader ---------------------------------------------------------------


class PushProcess:
    """The leader's handle on the push process: :meth:`start`, :meth:`on_change`, :meth:`stop`."""

    def __init__(
        self,
        live: LiveConfig,
        subscriptions: WebSubStore,
        cache: DocumentSource,
        counts: HubCounts,
        clock: Clock,
    ) -> None:
        self.live = live
        self.subscriptions = subscriptions
        self.cache = cache
        self.counts = counts
        self.clock = clock
        self.process: BaseProcess | None = None
        self._wake: Connection | None = None
        self._report: Connection | None = None
        #: Counts of processes that ended, and the latest report of the running one.
        self._ended = HubCounts()
        self._latest = HubCounts()
        self._keeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the process (its engine comes up on its own; owed rows wait in the store).

        With ``websub.hub = "off"`` there is nothing to push or announce, and
        no process (about 100 MiB) is started until a reload turns the hub on.
        A process that cannot even be started does not stop the worker from
        serving: the failure is logged and the keeper tries again.
        """
        self.live.listeners.append(self._reloaded)
        if self.live.config.websub.hub != "off":
            self._begin()

    def _begin(self) -> None:
        self._try_spawn()
        self._keeper = asyncio.create_task(self._keep_alive())

    def _try_spawn(self) -> None:
        try:
            self._spawn()
        except Exception:  # out of processes or memory: the keeper tries again
            log.exception("the WebSub push process could not be started")
            self.process = None

    def _spawn(self) -> None:
        context = multiprocessing.get_context("spawn")
        wake_in, wake_out = context.Pipe(duplex=False)
        report_in, report_out = context.Pipe(duplex=False)
        process = context.Process(
            target=run_process,
            args=(self.live.config, wake_in, report_out, os.getpid()),
            name=NAME,
            daemon=True,
        )
        process.start()
        wake_in.close()
        report_out.close()
        os.set_blocking(wake_out.fileno(), False)  # a full pipe already holds a wake
        self._wake, self._report, self.process = wake_out, report_in, process
        asyncio.get_running_loop().add_reader(report_in.fileno(), self._heard)
        log.info("WebSub push process %d started", process.pid)

    def _heard(self) -> None:
        """A report from the process (on the serving loop; small and rare)."""
        report = self._report
        try:
            while report is not None and report.poll():
                kind, figures = report.recv()
                if kind == "counts":
                    self._latest = _counts(figures)
                    self._sum()
        except (EOFError, OSError):  # the process ended: the keeper notices
            self._close_report()

    def _sum(self) -> None:
        for name in ("deliveries", "announcements"):
            total = getattr(self._ended, name) + getattr(self._latest, name)
            mine: Counter[str] = getattr(self.counts, name)
            mine.clear()
            mine.update(total)

    def _close_report(self) -> None:
        if self._report is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._report.fileno())
            self._report.close()
            self._report = None

    def _send(self, what: bytes) -> None:
        if self._wake is None:
            return
        with contextlib.suppress(BlockingIOError, BrokenPipeError, OSError):
            self._wake.send_bytes(what)

    def _reloaded(self, config: Config) -> None:
        """A reload the leader took: pass it on, or start the process if the hub just came on."""
        if self._keeper is None:
            if config.websub.hub != "off":
                self._begin()
            return
        self._send(RELOAD)

    async def on_change(self, change: Change) -> None:
        """The change door's listener: queue what the change owes, then wake the process."""
        now = self.clock.time()
        owed = await owe(self.live, self.subscriptions, self.cache, change, now)
        announced = await announce_later(self.live, self.subscriptions, change, now)
        if owed or announced:
            self._send(WAKE)

    async def _ended_process(self) -> int | None:
        """Wait for the running process to end; its exit code."""
        process = self.process
        if process is None:
            return None
        loop = asyncio.get_running_loop()
        gone: asyncio.Future[None] = loop.create_future()

        def ended() -> None:
            if not gone.done():
                gone.set_result(None)

        loop.add_reader(process.sentinel, ended)
        try:
            await gone
        finally:
            loop.remove_reader(process.sentinel)
        process.join(0)
        return process.exitcode

    async def _keep_alive(self) -> None:
        delay = FIRST_DELAY
        while True:
            began = self.clock.monotonic()
            code = await self._ended_process()
            had = self.process is not None
            self._heard()  # its last report
            self._close_report()
            self._close_process()
            self._ended = _added(self._ended, self._latest)
            self._latest = HubCounts()
            self._sum()
            delay = FIRST_DELAY if self.clock.monotonic() - began >= STEADY else delay
            if had:
                log.error(
                    "the WebSub push process ended (exit code %s); starting another in %g s",
                    code,
                    delay,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
            self._try_spawn()

    def _close_process(self) -> None:
        """Let go of an ended process's pipe and handle (their descriptors)."""
        if self._wake is not None:
            self._wake.close()
            self._wake = None
        if self.process is not None and self.process.exitcode is not None:
            self.process.close()
            self.process = None

    async def stop(self) -> None:
        """Ask the process to stop (it records what it did), wait, and kill it if it lingers."""
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        with contextlib.suppress(ValueError):
            self.live.listeners.remove(self._reloaded)
        if self._wake is not None:
            self._wake.close()  # the process reads the end of the pipe as "stop"
            self._wake = None
        process = self.process
        if process is not None and process.is_alive():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_PATIENCE):
                    await self._ended_process()
            if process.is_alive():
                log.error("the WebSub push process did not stop; killing it")
                process.kill()
                await asyncio.to_thread(process.join, STOP_PATIENCE)
        self._heard()
        self._close_report()


def _counts(figures: dict[str, dict[str, int]]) -> HubCounts:
    return HubCounts(
        deliveries=Counter(figures.get("deliveries", {})),
        announcements=Counter(figures.get("announcements", {})),
    )


def _added(a: HubCounts, b: HubCounts) -> HubCounts:
    return HubCounts(
        deliveries=a.deliveries + b.deliveries, announcements=a.announcements + b.announcements
    )


# -- in the process ----------------------------------------------------------------


class FreshCache:
    """The process's document cache, looking at the store before each lookup."""

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache

    async def get(self, key: DocKey) -> Rendered:
        self.cache.refresh()
        return await self.cache.get(key)


def run_process(config: Config, wake: Connection, report: Connection, parent: int) -> None:
    """The process's main: deliver and announce until the leader closes the wake pipe."""
    die_with_parent(parent)
    name_process(NAME)
    # Ctrl-C reaches the whole process group; the leader stops this process itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.setup()
    asyncio.run(_engine(config, wake, report))


async def _engine(config: Config, wake: Connection, report: Connection) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    live = LiveConfig(config)
    store = Store.open(config.store_path)
    watcher = ChangeWatcher(config.store_path)
    cache = DocumentCache(
        watcher, lambda key, now: build_document(live.config, store, key, now), clock=SYSTEM
    )
    counts = HubCounts()
    subscriptions = WebSubStore(store)
    try:
        async with Callbacks(config) as client:
            deliverer = Deliverer(live, subscriptions, FreshCache(cache), client, counts, SYSTEM)
            announcer = Announcer(live, subscriptions, client, counts, SYSTEM)

            def heard() -> None:
                try:
                    while wake.poll():
                        what = wake.recv_bytes()
                        if what == RELOAD:
                            live.reload("signal")
                        deliverer.wake.set()
                        announcer.wake.set()
                except (EOFError, OSError):  # the leader closed it, or died
                    loop.remove_reader(wake.fileno())
                    stop.set()

            def tell() -> None:
                with contextlib.suppress(OSError):
                    report.send(("counts", _figures(counts)))

            async def reporting() -> None:
                while True:
                    await asyncio.sleep(REPORT_EVERY)
                    tell()

            loop.add_reader(wake.fileno(), heard)
            tasks = [
                asyncio.create_task(deliverer.run()),
                asyncio.create_task(announcer.run()),
                asyncio.create_task(reporting()),
            ]
            await stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            tell()
    finally:
        watcher.close()
        store.close()


def _figures(counts: HubCounts) -> dict[str, Any]:
    return {"deliveries": dict(counts.deliveries), "announcements": dict(counts.announcements)}
