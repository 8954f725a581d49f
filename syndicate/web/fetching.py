"""The hook that runs the sidebar's fetcher inside `syndicate serve` (one worker only)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
from collections.abc import AsyncIterator

from aiohttp import web

from syndicate.fetch.background import Pool, fetch_forever
from syndicate.fetch.runner import stop_pool
from syndicate.web.keys import CLOCK, LIVE, STORE

FETCHER = web.AppKey("fetcher", asyncio.Task[None])
#: Fetch outcomes ("updated", "not modified", "failed", "retired") since start, for /metrics.
FETCH_OUTCOMES = web.AppKey("fetch_outcomes", collections.Counter[str])


async def fetcher_ctx(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: start the loop with the app, cancel it on shutdown."""
    pool = Pool()
    outcomes = app[FETCH_OUTCOMES] = collections.Counter()
    task = asyncio.create_task(
        fetch_forever(app[LIVE], app[STORE], pool, random.Random(), app[CLOCK], outcomes)
    )
    app[FETCHER] = task
    try:
        yield
    finally:
        await stop_fetching(app)
        # Stop the parser processes ourselves: the worker exits right after
        # this, too soon for the pool's own thread to tell them to.
        stop_pool(pool.executor)


async def stop_fetching(app: web.Application) -> None:
    """Stop the fetcher between sources, and return once it has stopped.

    Sources being fetched or parsed are dropped (nothing of them is recorded,
    so the next run fetches them again); one being recorded in the store is
    recorded to the end first (see syndicate.fetch.runner). `syndicate serve`
    calls this as soon as it is told to stop, before waiting for the requests
    in flight; the app's cleanup calls it again, which then does nothing.
    """
    task = app.get(FETCHER)
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
