"""The aiohttp application factory.

Everything the app needs hangs off the application object and is opened and
closed in one cleanup context, so tests can build as many apps as they like
side by side (aiohttp's "no singletons" advice).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from syndicate.config import Config
from syndicate.live import LiveConfig
from syndicate.store import Store
from syndicate.store.watch import EVERYTHING, ChangeWatcher
from syndicate.web import admin, api, demofeeds, feeds, pages
from syndicate.web.health import healthz, metrics
from syndicate.web.keys import CACHE, LIVE, STORE
from syndicate.web.live import watch_ctx


def make_app(
    config: Config, store: Store | None = None, *, fetcher: bool = False
) -> web.Application:
    """Build the app; it opens the configured store unless one is handed in.

    With ``fetcher`` the app also runs the sidebar's fetcher in the background
    (only one worker process should).
    """
    app = web.Application()
    live = LiveConfig(config)
    app[LIVE] = live

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        owned = store is None
        opened = store if store is not None else Store.open(config.store_path, create=False)
        watcher = ChangeWatcher(opened.path)
        app[STORE] = opened
        cache = feeds.make_cache(live, opened, watcher)
        live.listeners.append(lambda new: cache.invalidate(EVERYTHING))
        app[CACHE] = cache
        yield
        watcher.close()
        if owned:
            opened.close()

    app.cleanup_ctx.append(store_ctx)
    app.cleanup_ctx.append(watch_ctx)
    if fetcher:
        from syndicate.web.fetching import fetcher_ctx

        app.cleanup_ctx.append(fetcher_ctx)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    feeds.add_routes(app)
    pages.add_routes(app)
    demofeeds.add_routes(app)
    api.add_routes(app)
    admin.add_routes(app)
    return app
