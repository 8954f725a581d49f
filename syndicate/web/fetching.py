"""The hook that runs the sidebar's fetcher inside `syndicate serve` (one worker only)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

from aiohttp import web

from syndicate.fetch.background import Pool, fetch_forever
from syndicate.fetch.runner import stop_pool
from syndicate.web.keys import CLOCK, LIVE, STORE

FETCHER = web.AppKey("fetcher", asyncio.Task[None])


async def fetcher_ctx(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: start the loop with the app, cancel it on shutdown."""
    pool = Pool()
    task = asyncio.create_task(
        fetch_forever(app[LIVE], app[STORE], pool, random.Random(), app[CLOCK])
    )
    app[FETCHER] = task
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # Stop the parser processes ourselves: the worker exits right after
        # this, too soon for the pool's own thread to tell them to.
        stop_pool(pool.executor)
