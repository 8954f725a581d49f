"""The fetcher's endless loop, as `syndicate serve` runs it in one worker.

The web layer starts and stops it (syndicate.web.fetching); this module
knows nothing of HTTP serving.

Each source keeps its own schedule (politeness, backoff); this loop only
wakes up often enough to notice when the next one is due, with jitter so a
fleet of servers does not hit shared hosts in step.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
from concurrent.futures import Executor

from syndicate.clock import Clock
from syndicate.fetch.runner import FetchRunner, parser_pool
from syndicate.live import LiveConfig
from syndicate.store import Store

log = logging.getLogger("syndicate.fetch")


class Pool:
    """The parser process pool, replaced if a hostile document kills it."""

    def __init__(self) -> None:
        self.executor: Executor = parser_pool()


async def fetch_forever(
    live: LiveConfig,
    store: Store,
    pool: Pool,
    rng: random.Random,
    clock: Clock,
    outcomes: collections.Counter[str] | None = None,
) -> None:
    """Fetch due sources every tick until cancelled; count each outcome in ``outcomes``."""
    await asyncio.sleep(rng.uniform(0.5, 2.0))  # let the server start answering first
    while True:
        config = live.config  # a reload takes effect from the next round
        tick = min(30.0, config.sidebar.refresh_interval / 4)
        try:
            runner = FetchRunner(config, store, pool=pool.executor, rng=rng, clock=clock)
            reports = await runner.run()
            if runner.pool is not None:
                pool.executor = runner.pool
            if outcomes is not None:
                outcomes.update(r.outcome for r in reports)
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
