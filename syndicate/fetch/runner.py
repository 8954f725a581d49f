"""The one place that touches both the network and the store (Miniflux's "handler").

It decides nothing itself: retrieve says what the server answered, parse and
clean say what the document holds, schedule says when to come back, and the
store records it. Each source runs alone: whatever one source does (hang,
flood, lie, attack the parser) ends as an error recorded on that source.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import random
import signal
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

from syndicate.clock import SYSTEM, Clock
from syndicate.config import Config, SourceConfig
from syndicate.fetch import schedule
from syndicate.fetch.clean import clean, clean_language, clean_title
from syndicate.fetch.parse import parse
from syndicate.fetch.retrieve import Retriever
from syndicate.fetch.types import CleanEntry, FetchError
from syndicate.lifetime import die_with_parent
from syndicate.store import Store
from syndicate.store.sources import KEEP_PER_SOURCE, SourceRow, Sources

Outcome = Literal["updated", "not modified", "failed", "retired"]
T = TypeVar("T")


@dataclass(frozen=True)
class SourceReport:
    """One line of `syndicate fetch`'s summary table."""

    name: str
    url: str
    outcome: Outcome
    status: int | None
    new: int
    updated: int
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class Parsed:
    """What crosses back from the parser process: small, picklable, already clean."""

    title: str | None
    ttl: int | None
    warning: str | None
    entries: tuple[CleanEntry, ...]
    #: The source's language, a BCP 47 tag, or None when the document declares none.
    language: str | None = None


def parse_and_clean(
    body: bytes, url: str, headers: Mapping[str, str], fetched_at: datetime
) -> Parsed:
    """Runs in the parser process: bytes in, clean entries out (or a FetchError)."""
    feed = parse(body, url=url, headers=dict(headers))
    entries = clean(feed, fetched_at=fetched_at, limit=KEEP_PER_SOURCE)
    return Parsed(feed.title, feed.ttl, feed.warning, tuple(entries), clean_language(feed.language))


#: Seconds one document may take to parse; a pathological one is cut off and
#: its parser process replaced, so it costs its own source and nothing else.
PARSE_TIMEOUT = 20.0


def parser_pool(workers: int = 1) -> ProcessPoolExecutor:
    """Parser processes, started fresh ("spawn"): feedparser is CPU-bound and
    holds the GIL, so parsing in a thread would stall the server's event loop;
    a process also contains a parser blow-up (an XML bomb) to itself.

    Each one dies with the process that made the pool (SIGTERM when it dies,
    even by kill -9), so no parser outlives `syndicate fetch` or a worker.
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_parser_started,
        initargs=(os.getpid(),),
    )


def _parser_started(parent: int) -> None:
    """Runs first in each parser process: die with ``parent`` (the process that
    made the pool), and die quietly on Ctrl-C, which the terminal sends to
    the whole process group (SIGINT's default action, rather than a
    KeyboardInterrupt traceback; the parent is stopping anyway)."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_pool(pool: Executor, *, reap: bool = True) -> None:
    """Stop a pool now, even one whose process is stuck on a document (a
    running task cannot be cancelled); ``reap`` waits for its processes to go
    (at shutdown; not on the event loop while serving), killing any that
    outlast the wait."""
    processes = list(getattr(pool, "_processes", {}).values())
    for process in processes:
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    if reap:
        for process in processes:
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join(timeout=1)


async def _to_the_end(call: Callable[[], T]) -> T:
    """Run a store write in a thread and see it finish even if the run is
    cancelled meanwhile: a stop (SIGTERM) lands between sources, never in the
    middle of recording one, and the store is not closed under the write."""
    write = asyncio.ensure_future(asyncio.to_thread(call))
    try:
        return await asyncio.shield(write)
    except asyncio.CancelledError:
        await asyncio.wait({write})
        raise


class FetchRunner:
    """One fetch run over the configured sources.

    ``clock`` gives every date recorded and scheduled (``now``) and every
    duration reported (``monotonic``); ``rng`` the schedule's jitter.
    """

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        pool: Executor | None = None,
        clock: Clock = SYSTEM,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.sources = Sources(store)
        self.pool = pool
        self.clock = clock
        self.rng = rng or random.Random()
        self.by_url: dict[str, SourceConfig] = {s.url: s for s in config.sidebar.sources}
        self.parsers = getattr(pool, "_max_workers", 1) if pool is not None else 4
        self._slots = asyncio.Semaphore(self.parsers)

    def configured(self) -> list[tuple[str, str]]:
        return [(s.name, s.url) for s in self.config.sidebar.sources if s.enabled]

    async def run(
        self, *, everything: bool = False, on_report: Callable[[SourceReport], None] | None = None
    ) -> list[SourceReport]:
        """Fetch every due source once (all of them with ``everything``, retired ones never)."""
        await _to_the_end(functools.partial(self.sources.sync, self.configured()))
        due = await _to_the_end(
            functools.partial(self.sources.due, self.clock.now(), everything=everything)
        )
        reports: list[SourceReport] = []
        async with Retriever(self.config.fetcher, clock=self.clock) as retriever:

            async def one(source: SourceRow) -> None:
                report = await self.fetch_one(retriever, source)
                reports.append(report)
                if on_report is not None:
                    on_report(report)

            await asyncio.gather(*(one(s) for s in due))
        await _to_the_end(functools.partial(self.sources.prune_orphans, self.clock.now()))
        order = {s.id: i for i, s in enumerate(due)}
        names = {s.name: s.id for s in due}
        reports.sort(key=lambda r: order.get(names.get(r.name, -1), 0))
        return reports

    def _base_interval(self, source: SourceRow) -> float:
        configured = self.by_url.get(source.url)
        minimum = configured.min_interval if configured else 0
        return float(max(self.config.sidebar.refresh_interval, minimum))

    async def fetch_one(self, retriever: Retriever, source: SourceRow) -> SourceReport:
        """Fetch, parse and record one source; anything it does ends recorded on it."""
        started = self.clock.monotonic()
        try:
            return await self._fetch_one(retriever, source, started)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must cost one source, not the run
            error = FetchError("parse", f"unexpected {type(exc).__name__}: {exc}")
            return await self._failed(source, error, started, self._base_interval(source))

    async def _fetch_one(
        self, retriever: Retriever, source: SourceRow, started: float
    ) -> SourceReport:
        base = self._base_interval(source)
        try:
            got = await retriever.fetch(source.fetch_url, source.validators)
        except FetchError as exc:
            return await self._failed(source, exc, started, base)
        fetched_at = self.clock.now()
        if got.body is None:  # 304: nothing to parse
            plan = schedule.plan_success(
                fetched_at, base_interval=base, headers=got.headers, ttl=None, rng=self.rng
            )
            await _to_the_end(
                functools.partial(
                    self.sources.record_not_modified,
                    source.id,
                    now=fetched_at,
                    validators=got.validators,
                    next_fetch=plan,
                    seconds=self.clock.monotonic() - started,
                    permanent_url=got.permanent_url,
                )
            )
            return SourceReport(
                source.name, source.url, "not modified", 304, 0, 0, self.clock.monotonic() - started
            )
        try:
            parsed = await self._parse(got.body, got.final_url, dict(got.headers), fetched_at)
        except FetchError as exc:
            return await self._failed(source, exc, started, base, status=got.status)
        # A valid feed with no entries (or none worth keeping) is a success: nothing new.
        plan = schedule.plan_success(
            fetched_at, base_interval=base, headers=got.headers, ttl=parsed.ttl, rng=self.rng
        )
        new, updated = await _to_the_end(
            functools.partial(
                self.sources.record_entries,
                source.id,
                list(parsed.entries),
                now=fetched_at,
                validators=got.validators,
                status=got.status,
                next_fetch=plan,
                seconds=self.clock.monotonic() - started,
                permanent_url=got.permanent_url,
                # Cleaned as entry titles are; "" (a title of nothing but markup) clears it.
                title=None if parsed.title is None else clean_title(parsed.title),
                # The document's own; None (it declares none now) clears the stored one.
                language=parsed.language,
            )
        )
        return SourceReport(
            source.name,
            source.url,
            "updated",
            got.status,
            new,
            updated,
            self.clock.monotonic() - started,
        )

    async def _parse(
        self, body: bytes, url: str, headers: dict[str, str], fetched_at: datetime
    ) -> Parsed:
        """Parse in the pool, one document per parser process at a time.

        The timeout counts parsing only, not waiting for a free parser. A
        parser that dies or hangs takes the documents in flight with it, so
        each gets one more try on fresh processes; the one that breaks the
        parser twice is the culprit and fails alone.
        """
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = self.pool
            async with self._slots:
                if pool is not self.pool:  # replaced while we waited
                    continue
                try:
                    return await asyncio.wait_for(
                        loop.run_in_executor(pool, parse_and_clean, body, url, headers, fetched_at),
                        PARSE_TIMEOUT,
                    )
                except (BrokenProcessPool, TimeoutError) as exc:
                    if isinstance(pool, ProcessPoolExecutor) and pool is self.pool:
                        stop_pool(pool, reap=False)
                        self.pool = parser_pool(self.parsers)
                    if attempt == 2 or isinstance(exc, TimeoutError):
                        what = "took too long" if isinstance(exc, TimeoutError) else "crashed"
                        raise FetchError("parse", f"the parser {what} on this document") from None
        raise FetchError("parse", "the parser kept failing")  # pragma: no cover

    async def _failed(
        self,
        source: SourceRow,
        exc: FetchError,
        started: float,
        base: float,
        *,
        status: int | None = None,
    ) -> SourceReport:
        now = self.clock.now()
        failures = source.failures + 1
        plan = schedule.plan_failure(
            now, base_interval=base, failures=failures, retry_after=exc.retry_after, rng=self.rng
        )
        message = str(exc)
        if exc.gone:
            message += (
                " (source retired: an editor must re-enable it with `syndicate sources enable`)"
            )
        await _to_the_end(
            functools.partial(
                self.sources.record_failure,
                source.id,
                now=now,
                error=message,
                status=exc.status if exc.status is not None else status,
                failures=failures,
                next_fetch=plan,
                seconds=self.clock.monotonic() - started,
                retire=exc.gone,
                permanent_url=exc.permanent_url,
            )
        )
        return SourceReport(
            source.name,
            source.url,
            "retired" if exc.gone else "failed",
            exc.status if exc.status is not None else status,
            0,
            0,
            self.clock.monotonic() - started,
            message,
        )
