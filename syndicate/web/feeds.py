"""The feed handlers: thin, because everything costly was done at build time.

A request for a fresh feed does a dictionary lookup, a header comparison and
a write of bytes that already exist; nothing is built, hashed or compressed
per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web

from syndicate.config import Config
from syndicate.formats.render import render
from syndicate.live import LiveConfig
from syndicate.store import SIDEBAR, SITE, Scope, ScopeKind, Store
from syndicate.store.watch import ChangeWatcher
from syndicate.web.cache import FeedCache, FeedKey, NotFound, Rendered
from syndicate.web.feedspecs import collect, parse_format
from syndicate.web.index import build_index
from syndicate.web.keys import CACHE
from syndicate.web.pages import build_sidebar
from syndicate.web.respond import answer

MAX_PAGE = 1_000_000


def build_feed(config: Config, store: Store, key: FeedKey, now: datetime) -> Rendered:
    """Query, render and describe one feed page (runs in a worker thread)."""
    fmt = parse_format(key.fmt)
    built = collect(config, store, key.scope, fmt, key.page, now)
    # A print issue's PDF is the point of an issue feed; elsewhere it would be
    # a large download attached to every article (podcast clients fetch them).
    body = render(fmt, built.spec, built.articles, enclosures=key.scope.kind == "issue")
    newest = max((a.updated for a in built.articles), default=None)
    feeds = config.feeds
    headers = {
        "Content-Type": built.content_type,
        "Cache-Control": f"public, max-age={feeds.max_age}, "
        f"stale-while-revalidate={feeds.stale_while_revalidate}",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    rendered = Rendered(body, built.content_type, newest, headers)
    if rendered.last_modified_http:
        headers["Last-Modified"] = rendered.last_modified_http
    return rendered


def _page(request: web.Request) -> int:
    raw = request.query.get("page")
    if raw is None:
        return 1
    if not raw.isdigit() or not 0 < int(raw) <= MAX_PAGE:
        raise web.HTTPBadRequest(
            text=f"page must be a whole number from 1 to {MAX_PAGE}, got {raw[:40]!r}\n"
        )
    return int(raw)


def _handler(kind: ScopeKind) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        cache = request.app[CACHE]
        if not cache.looked:
            cache.refresh()
        found = cache.by_path.get(request.raw_path)
        if found is not None:
            return answer(request, found, cache.responses)
        scope = SITE if kind == "site" else Scope(kind, request.match_info["key"])
        key = FeedKey(scope, request.match_info["fmt"], _page(request))
        found = cache.peek(key)
        if found is not None and found.expires is None and len(cache.by_path) < 4096:
            cache.by_path[request.raw_path] = found
        if found is None:
            try:
                found = await cache.get(key)
            except NotFound as exc:
                cache.responses[404] += 1
                raise web.HTTPNotFound(text=f"Not found: {exc}\n") from None
        return answer(request, found, cache.responses)

    return handle


def add_routes(app: web.Application) -> None:
    app.router.add_get("/feeds", index)
    app.router.add_get("/feeds.opml", index)
    fmt = "{fmt:atom|rss|json}"
    app.router.add_get(f"/feed.{fmt}", _handler("site"))
    for kind, folder in (
        ("section", "sections"),
        ("author", "authors"),
        ("issue", "issues"),
        ("tag", "tags"),
    ):
        app.router.add_get(f"/{folder}/{{key}}/feed.{fmt}", _handler(kind))  # type: ignore[arg-type]


INDEX_FORMATS = ("html", "opml")


def make_cache(live: LiveConfig, store: Store, watcher: ChangeWatcher) -> FeedCache:
    """A cache whose builds always use the config in force at build time."""

    def build(key: FeedKey, now: datetime) -> Rendered:
        config = live.config
        if key.scope == SIDEBAR:
            return build_sidebar(config, store, key.fmt, now)
        if key.fmt in INDEX_FORMATS:
            return build_index(config, store, key.fmt, now)
        return build_feed(config, store, key, now)

    return FeedCache(watcher, build)


async def index(request: web.Request) -> web.StreamResponse:
    """/feeds and /feeds.opml: every feed, for people and for feed readers."""
    fmt = "opml" if request.path.endswith(".opml") else "html"
    cache = request.app[CACHE]
    cache.refresh()
    return answer(request, await cache.get(FeedKey(SITE, fmt)), cache.responses)


__all__ = ["add_routes", "answer", "build_feed", "make_cache"]
