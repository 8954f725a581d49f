"""The feed handlers: thin, because everything costly was done at build time.

A request for a fresh feed does a dictionary lookup, a header comparison and
a write of bytes that already exist; nothing is built, hashed or compressed
per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.hdrs import ACCEPT, USER_AGENT

from syndicate.catalog import (
    DIRECTORY_HTML,
    DIRECTORY_OPML,
    KINDS,
    DocKey,
    archive_key,
    feed_key,
    feed_page_key,
)
from syndicate.documents.cache import DocumentCache
from syndicate.documents.feeds import parse_format
from syndicate.documents.headers import cache_headers
from syndicate.documents.rendered import NotFound, Rendered
from syndicate.models import SITE, Scope, ScopeKind
from syndicate.web import subscribers
from syndicate.web.browsers import SEC_FETCH_DEST, navigating
from syndicate.web.keys import CACHE
from syndicate.web.respond import answer, document
from syndicate.web.subscribers import KEPT, MOST_PENDING, Seen

MAX_PAGE = 1_000_000
#: Seconds caches may keep the ``?page=1`` redirect (it never changes).
REDIRECT_MAX_AGE = 86_400


def _page(request: web.Request) -> int:
    """The ``?page=N`` asked for; 400 for anything but 2 to MAX_PAGE, 301 for page 1.

    Page 1 has one URL, the feed's own (RFC 5005's ``first`` link and every
    ``rel="self"`` say so), so ``?page=1`` is sent there for good rather than
    served as a second copy that caches and readers would keep apart.
    """
    raw = request.query.get("page")
    if raw is None:
        return 1
    # ASCII digits only, and few of them: str.isdigit() takes "²" and "٣", and
    # int() of thousands of digits raises before any range check could.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_PAGE))):
        raise _bad_page(raw)
    page = int(raw)
    if not 0 < page <= MAX_PAGE:
        raise _bad_page(raw)
    if page == 1:
        raise web.HTTPMovedPermanently(
            location=request.path, headers=cache_headers(None, max_age=REDIRECT_MAX_AGE)
        )
    return page


def _bad_page(raw: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=f"page must be a whole number from 1 to {MAX_PAGE}, got {raw[:40]!r}\n"
    )


def _handler(
    kind: ScopeKind, seen: set[Seen], *, archive: bool = False
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        cache = request.app[CACHE]
        if not cache.looked:
            cache.refresh()
        # A browser navigating gets the feed's page (syndicate.web.browsers),
        # and is a person looking, not a subscriber to count; everyone else
        # pays this one header lookup and gets the bytes.
        # Archives are documents to fetch, not to subscribe to: bytes for all.
        dest = None if archive else request.headers.get(SEC_FETCH_DEST)
        if dest is not None and navigating(dest, request.headers.get(ACCEPT)):
            page = await _look_up(request, cache, kind, browser=True)
            return answer(request, page, cache.responses)
        found = cache.by_path.get(request.raw_path)
        if found is None:
            found = await _look_up(request, cache, kind, archive=archive)
        # Subscriber counts: one set insertion; judged and stored in the background.
        if len(seen) < MOST_PENDING:
            agent = request.headers.get(USER_AGENT, "")
            seen.add((request.raw_path[:KEPT], agent[:KEPT], request.remote))
        return answer(request, found, cache.responses)

    return handle


async def _look_up(
    request: web.Request,
    cache: DocumentCache,
    kind: ScopeKind,
    *,
    archive: bool = False,
    browser: bool = False,
) -> Rendered:
    """A feed not found by its raw path: its key from the route, then the cache or a build.

    ``archive``: a month's archive document (one per month: no pages).
    ``browser``: the feed's HTML page instead (never kept in ``by_path``,
    which is the feed bytes' fast path).
    """
    scope = SITE if kind == "site" else Scope(kind, request.match_info["key"])
    make = feed_page_key if browser else feed_key
    try:
        fmt = parse_format(request.match_info["fmt"])
        key: DocKey
        if archive:
            key = archive_key(scope, fmt, request.match_info["period"])
        else:
            key = make(scope, fmt, _page(request))
    except NotFound as exc:  # the route only matches known formats
        raise web.HTTPNotFound(text=f"Not found: {exc}\n") from None
    found = cache.peek(key)
    if found is not None and not browser and found.expires is None and len(cache.by_path) < 4096:
        cache.by_path[request.raw_path] = found
    if found is None:
        try:
            found = await document(cache, key)
        except NotFound as exc:
            cache.responses[404] += 1
            raise web.HTTPNotFound(text=f"Not found: {exc}\n") from None
    return found


def add_routes(app: web.Application) -> None:
    app.router.add_get("/feeds", index)
    app.router.add_get("/feeds.opml", index)
    fmt = "{fmt:atom|rss|json}"
    seen = subscribers.install(app).seen
    period = r"{period:\d{4}-\d{2}}"
    for kind in KINDS.values():
        head = f"/{kind.folder}/{{key}}" if kind.folder else ""
        app.router.add_get(f"{head}/feed.{fmt}", _handler(kind.kind, seen))
        if kind.archived:
            app.router.add_get(
                f"{head}/archive/{period}/feed.{fmt}", _handler(kind.kind, seen, archive=True)
            )


async def index(request: web.Request) -> web.StreamResponse:
    """/feeds and /feeds.opml: every feed, for people and for feed readers."""
    key = DIRECTORY_OPML if request.path.endswith(".opml") else DIRECTORY_HTML
    cache = request.app[CACHE]
    cache.refresh()
    return answer(request, await document(cache, key), cache.responses)


__all__ = ["add_routes", "answer"]
