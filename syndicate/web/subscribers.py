"""Counting who reads each feed, without slowing the answer down.

The feed handler does one thing per request (``syndicate.web.feeds``): it
adds (raw path, User-Agent, address) to a set in memory, unless the set is
already full. Everything else happens every :data:`FLUSH_EVERY` seconds in
the background: the set is taken, each distinct entry is judged once (page 1
of a feed only; an aggregator's reported count, else a direct reader; see
``syndicate.subscribers``), and the batch is merged into the store in a
thread (``syndicate.store.subscribers``), which sums and merges the batches of
every worker and keeps them across restarts. A worker that stops flushes what
it holds. A request counts for the UTC day of the flush that carries it, so
one made seconds before midnight may count for the next day.

Behind a reverse proxy every direct reader has the proxy's address and is
told apart by User-Agent alone (X-Forwarded-For is not trusted).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import parse_qs

from aiohttp import web

from syndicate.catalog import FORMATS, feed_path
from syndicate.models import Scope
from syndicate.store import Store
from syndicate.store.subscribers import Batch, FeedCount, SubscriberCounts, day_of
from syndicate.subscribers import Reported, reported
from syndicate.web.keys import CLOCK, STORE

log = logging.getLogger("syndicate.subscribers")

#: Seconds between flushes of each worker's counts to the store.
FLUSH_EVERY: Final = 15.0
#: Distinct (path, agent, address) entries held between flushes; past it the
#: rest of the window is not counted (a flood of made-up agents costs no memory).
MOST_PENDING: Final = 20_000
#: Characters kept of a request's raw path and User-Agent (slicing a shorter
#: string returns it as it is): an entry stays under a kilobyte.
KEPT: Final = 300

Seen = tuple[str, str, str | None]


@dataclass
class Tally:
    """One worker's entries since its last flush."""

    seen: set[Seen] = field(default_factory=set)
    every: float = FLUSH_EVERY

    def take(self) -> set[Seen]:
        taken = set(self.seen)
        self.seen.clear()
        return taken


SUBSCRIBERS = web.AppKey("subscribers", Tally)


@functools.lru_cache(maxsize=4096)
def _judge(agent: str) -> Reported | None:
    return reported(agent)


def _feed(raw_path: str) -> str | None:
    """The feed a raw request path counts for: page 1 only, without its query."""
    path, _, query = raw_path.partition("?")
    if query and "page" in parse_qs(query):
        return None
    return path


def batch_of(seen: Iterable[Seen]) -> Batch:
    """Judge each distinct entry once: an aggregator's figure (the highest it gave
    in this window), else one reader (address and agent, hashed by the store)."""
    aggregators: dict[tuple[str, str], int] = {}
    readers: set[tuple[str, str]] = set()
    for raw_path, agent, address in seen:
        path = _feed(raw_path)
        if path is None:
            continue
        said = _judge(agent)
        if said is None:
            readers.add((path, f"{address or ''}\x00{agent}"))
        else:
            key = (path, said.aggregator)
            aggregators[key] = max(aggregators.get(key, 0), said.subscribers)
    return Batch(aggregators, readers)


async def flush(app: web.Application) -> None:
    """Hand this worker's entries to the store; on failure keep them for the next try."""
    tally = app[SUBSCRIBERS]
    if not tally.seen:
        return
    taken = tally.take()
    try:
        batch = batch_of(taken)
        await asyncio.to_thread(SubscriberCounts(app[STORE]).flush, batch, app[CLOCK].now())
    except Exception:
        log.exception("could not store subscriber counts; trying again later")
        room = MOST_PENDING - len(tally.seen)
        tally.seen.update(list(taken)[: max(room, 0)])


async def subscribers_ctx(app: web.Application) -> AsyncIterator[None]:
    """Flush every few seconds while the app runs, and once more when it stops."""

    async def keep_flushing() -> None:
        while True:
            await asyncio.sleep(app[SUBSCRIBERS].every)
            await flush(app)

    task = asyncio.create_task(keep_flushing())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await flush(app)


def install(app: web.Application) -> Tally:
    """Give the app its tally and the task that flushes it."""
    tally = app[SUBSCRIBERS] = Tally()
    app.cleanup_ctx.append(subscribers_ctx)
    return tally


# -- what /admin shows ----------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Subscribers of one feed (its three formats together), today so far and yesterday."""

    today: FeedCount
    yesterday: FeedCount


def _sum(counts: Iterable[FeedCount]) -> FeedCount:
    aggregated = readers = 0
    for count in counts:
        aggregated += count.aggregated
        readers += count.readers
    return FeedCount(aggregated, readers)


def figures(
    store: Store, scopes: Iterable[Scope], now: datetime
) -> tuple[dict[Scope, Figures], Figures]:
    """Each scope's figures (all its formats), and the total over every feed served."""
    counts = SubscriberCounts(store)
    today, yesterday = counts.on(day_of(now)), counts.on(day_of(now - timedelta(days=1)))

    def of(table: dict[str, FeedCount], scope: Scope) -> FeedCount:
        return _sum(table[p] for fmt in FORMATS if (p := feed_path(scope, fmt)) in table)

    each = {s: Figures(of(today, s), of(yesterday, s)) for s in scopes}
    return each, Figures(_sum(today.values()), _sum(yesterday.values()))
