"""The aiohttp application factory.

Everything the app needs hangs off the application object and is opened and
closed in one cleanup context, so tests can build as many apps as they like
side by side (aiohttp's "no singletons" advice).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import datetime

from aiohttp import web, web_response

from syndicate.catalog import DocKey
from syndicate.clock import SYSTEM, Clock
from syndicate.config import Config
from syndicate.documents.build import build_document
from syndicate.documents.cache import DocumentCache
from syndicate.documents.changes import ChangeDoor
from syndicate.documents.editions import EditionClerk
from syndicate.documents.headers import SERVER_NAME
from syndicate.documents.rendered import Rendered
from syndicate.live import LiveConfig
from syndicate.metrics import Metrics
from syndicate.store import Store
from syndicate.store.watch import EVERYTHING, ChangeWatcher
from syndicate.web import (
    admin,
    api,
    demofeeds,
    digests,
    feeds,
    media,
    pages,
    serverlog,
    websub,
)
from syndicate.web.health import healthz
from syndicate.web.keys import CACHE, CLERK, CLOCK, DOOR, LIVE, SERVER_LOG, STORE
from syndicate.web.live import watch_ctx
from syndicate.web.observe import METRICS, make_observer, metrics_ctx, metrics_page

#: Seconds a connection may take to deliver a complete request, on arrival and
#: between requests (aiohttp's keep-alive timer runs from the moment a connection
#: opens, and only a complete request stops it). A slow-loris client holding
#: sockets open with part of a header is closed after this; feed readers poll
#: minutes apart and open a new connection anyway.
REQUEST_TIMEOUT = 15.0


def name_the_server() -> None:
    """``Server: syndicate`` on every response, naming no versions for scanners to match.

    aiohttp writes its default (``Python/3.x aiohttp/3.x``) into any response
    that has no Server field, from a module constant read at that moment;
    setting that constant once costs nothing per request, where a signal
    handler or a middleware would run on every feed response.
    tests/test_security_headers.py checks every kind of response, so an
    aiohttp release that moved the constant would fail there.
    """
    setattr(web_response, "SERVER_SOFTWARE", SERVER_NAME)  # noqa: B010 (Final upstream)


def make_cache(
    live: LiveConfig, store: Store, watcher: ChangeWatcher, clock: Clock, metrics: Metrics
) -> DocumentCache:
    """A cache whose builds always use the config in force at build time, each one timed."""
    observe = metrics.build_seconds.observe

    def build(key: DocKey, now: datetime) -> Rendered:
        started = time.perf_counter()
        try:
            return build_document(live.config, store, key, now)
        finally:
            observe(time.perf_counter() - started)

    return DocumentCache(watcher, build, clock=clock)


def make_app(
    config: Config,
    store: Store | None = None,
    *,
    fetcher: bool = False,
    leader: bool = False,
    push_process: bool = False,
    clock: Clock = SYSTEM,
) -> web.Application:
    """Build the app; it opens the configured store unless one is handed in.

    With ``fetcher`` the app also runs the sidebar's fetcher in the background;
    with ``leader`` it runs the change door, which tells listeners what
    changed. Only one worker process should do either (syndicate.web.serve
    gives both to its first worker). With ``push_process`` the leader's
    WebSub pushes run in a process of their own (syndicate.web.serve asks
    for it; a test's app keeps them on a thread, under its clock).
    """
    name_the_server()
    metrics = Metrics()
    app = web.Application(middlewares=[make_observer(metrics, access_log=config.server.access_log)])
    app[METRICS] = metrics
    live = LiveConfig(config, clock)
    app[LIVE] = live
    app[CLOCK] = clock

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        owned = store is None
        opened = store if store is not None else Store.open(config.store_path, create=False)
        watcher = ChangeWatcher(opened.path, clock=clock)
        app[STORE] = opened
        cache = make_cache(live, opened, watcher, clock, metrics)
        live.listeners.append(lambda new: cache.invalidate(EVERYTHING))
        app[CACHE] = cache
        door = ChangeDoor(live, opened, cache, clock=clock)
        app[DOOR] = door
        # The digest's clerk freezes editions at their cut-offs: a write, so the
        # leader alone (syndicate.documents.editions says why).
        clerk = EditionClerk(live, opened, clock=clock)
        app[CLERK] = clerk
        tasks: list[asyncio.Task[None]] = []
        if leader:
            cache.listeners.append(door.touched)
            tasks = [asyncio.create_task(door.run()), asyncio.create_task(clerk.run())]
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        watcher.close()
        if owned:
            opened.close()

    async def log_ctx(app: web.Application) -> AsyncIterator[None]:
        found = serverlog.install()
        app[SERVER_LOG] = found
        yield
        serverlog.uninstall(found)

    app.cleanup_ctx.append(log_ctx)
    app.cleanup_ctx.append(store_ctx)
    app.cleanup_ctx.append(watch_ctx)
    app.cleanup_ctx.append(metrics_ctx)
    if leader:  # purges the cache in front on every change the door announces
        from syndicate.web.purging import purge_ctx

        app.cleanup_ctx.append(purge_ctx)
    if fetcher:
        from syndicate.web.fetching import fetcher_ctx

        app.cleanup_ctx.append(fetcher_ctx)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    feeds.add_routes(app)
    digests.add_routes(app)
    pages.add_routes(app)
    demofeeds.add_routes(app)
    media.add_routes(app)
    api.add_routes(app)
    websub.add_routes(app, leader=leader, push_process=push_process)
    admin.add_routes(app)
    return app
