"""The fetcher inside `syndicate serve`: one worker runs it on the configured interval.

Each source keeps its own schedule (politeness, backoff); this loop only
wakes up often enough to notice when the next one is due, with jitter so a
fleet of servers does not hit shared hosts in step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from concurrent.futures import Executor

from aiohttp import web

from syndicate.fetch.runner import FetchRunner, parser_pool, stop_pool
from syndicate.store import Store
from syndicate.web.keys import LIVE, STORE
from syndicate.web.live import LiveConfig

log = logging.getLogger("syndicate.fetch")

FETCHER = web.AppKey("fetcher", asyncio.Task[None])


class Pool:
    """The parser process pool, replaced if a hostile document kills it."""

    def __init__(self) -> None:
        self.executor: Executor = parser_pool()


async def fetch_forever(live: LiveConfig, store: Store, pool: Pool, rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0.5, 2.0))  # let the server start answering first
    while True:
        config = live.config  # a reload takes effect from the next round
        tick = min(30.0, config.sidebar.refresh_interval / 4)
        try:
            runner = FetchRunner(config, store, pool=pool.executor, rng=rng)
            reports = await runner.run()
            if runner.pool is not None:
                pool.executor = runner.pool
            failed = [r for r in reports if r.error]
            if reports:
                log.info("fetched %d source(s), %d failed", len(reports), len(failed))
            for report in failed:
                log.warning("%s: %s", report.name, report.error)
        except asyncio.CancelledError:
            raise
        except Exception:  # the fetcher must never take the server down with it
            log.exception("fetch run failed; trying again on the next tick")
        await asyncio.sleep(tick * rng.uniform(0.8, 1.2))


async def fetcher_ctx(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: start the loop with the app, cancel it on shutdown."""
    pool = Pool()
    task = asyncio.create_task(fetch_forever(app[LIVE], app[STORE], pool, random.Random()))
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
