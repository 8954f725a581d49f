"""Watching the server work: a request ID, request counts and times, an optional access log.

One middleware does all three, so a request pays for one wrapper, not
three. The per-request work is a context variable, a monotonic clock read,
a dictionary look-up and two additions on prometheus-client children looked
up once per (route, status) pair; bench/bench_http.py measures it against
the bare aiohttp app (README "Speed").

The other figures are counted as plain integers by the code that does the
work (the document cache, the change door, the live config, aiohttp's server
log, the fetcher); :func:`tally` copies them into the shared Prometheus
counters every second and before each scrape (see syndicate.metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

from aiohttp import web

from syndicate import __version__
from syndicate.documents.headers import no_store_headers
from syndicate.logs import REQUEST_ID
from syndicate.metrics import Metrics
from syndicate.store.sources import Sources
from syndicate.web.fetching import FETCH_OUTCOMES
from syndicate.web.keys import CACHE, DOOR, HUB_COUNTS, LIVE, SERVER_LOG, STORE
from syndicate.web.purging import PURGER

METRICS = web.AppKey("metrics", Metrics)
#: Seconds between copies of the plain counters into the shared ones.
TALLY_EVERY: Final = 1.0
#: An X-Request-ID from a proxy in front is kept when it looks like an ID.
_GOOD_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")

access = logging.getLogger("syndicate.access")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_of(request: web.Request) -> str:
    """The route's pattern ("/sections/{slug}/feed.atom"), so label values stay few."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def make_observer(metrics: Metrics, *, access_log: bool) -> Any:
    """The middleware, closed over this app's metrics (no module-level state)."""
    counters: dict[tuple[str, int], Any] = {}
    observe_seconds = metrics.request_seconds.observe
    prefix = f"{os.getpid():x}-"
    numbers = itertools.count(1)

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("X-Request-ID", "")
        token = REQUEST_ID.set(given if _GOOD_ID.match(given) else f"{prefix}{next(numbers):x}")
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            took = time.perf_counter() - started
            key = (route_of(request), status)
            child = counters.get(key)
            if child is None:
                child = counters[key] = metrics.requests.labels(key[0], str(status))
            child.inc()
            observe_seconds(took)
            if access_log:
                access.info(
                    "%s %s %d %.1f ms",
                    request.method,
                    request.path_qs,
                    status,
                    took * 1000,
                    extra={"agent": request.headers.get("User-Agent", "")},
                )
            REQUEST_ID.reset(token)

    return observe


def tally(app: web.Application) -> None:
    """Copy the plain running totals of this process into the shared counters."""
    m = app[METRICS]
    cache = app[CACHE]
    m.tally_each(m.feed_responses, cache.responses)
    m.tally(m.builds, cache.builds)
    m.tally(m.broken_builds, cache.broken)
    m.tally_each(m.config_reloads, app[LIVE].reloads)
    m.tally(m.server_errors, app[SERVER_LOG].errors)
    m.tally(m.malformed, app[SERVER_LOG].malformed)
    m.tally(m.changes_announced, app[DOOR].announced)
    outcomes = app.get(FETCH_OUTCOMES)
    if outcomes is not None:
        m.tally_each(m.fetches, outcomes)
    purger = app.get(PURGER)
    if purger is not None:  # the leader's purges of the cache in front
        for (target, outcome), total in purger.outcomes.items():
            m.tally(m.purges, total, target, outcome)
        m.tally(m.purge_retries, purger.retries)
        m.tally(m.purge_keys, purger.keys_sent)
    hub = app.get(HUB_COUNTS)
    if hub is not None:
        m.tally_each(m.websub_verifications, hub.verifications)
        m.tally_each(m.websub_deliveries, hub.deliveries)
        m.tally_each(m.websub_announcements, hub.announcements)
    stats = cache.stats()
    m.cached_documents.set(stats["feeds"])
    m.cached_bytes.set(stats["bytes"])


async def metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """Keep the shared counters within a second of the plain ones while the app runs."""

    async def keep_up() -> None:
        while True:
            await asyncio.sleep(TALLY_EVERY)
            try:
                tally(app)
            except Exception:  # figures must never take a worker down
                logging.getLogger("syndicate.metrics").exception("copying figures failed")

    task = asyncio.create_task(keep_up())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    tally(app)  # a worker stopping hands in its last figures


def failing_sources(app: web.Application) -> int:
    """Sidebar sources whose last fetch failed (read from the store: the same for every worker)."""
    return sum(1 for s in Sources(app[STORE]).all() if s.failures > 0 and not s.retired)


async def metrics_page(request: web.Request) -> web.Response:
    """Prometheus text format, for the whole server (see syndicate.metrics)."""
    app = request.app
    tally(app)
    failing = await asyncio.get_running_loop().run_in_executor(None, failing_sources, app)
    extra = [
        "# HELP syndicate_sources_failing Sidebar sources whose last fetch failed.",
        "# TYPE syndicate_sources_failing gauge",
        f"syndicate_sources_failing {failing}",
        "# HELP syndicate_info The worker that answered this scrape.",
        "# TYPE syndicate_info gauge",
        f'syndicate_info{{version="{__version__}",pid="{os.getpid()}"}} 1',
    ]
    body = app[METRICS].exposition(extra)
    return web.Response(
        body=body,
        headers={**no_store_headers(), "Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )
