"""A digest's edition pages over HTTP, and the hook that runs its clerk in the leader.

The feeds of a digest are served by syndicate.web.feeds like every feed (the
catalog's row gives them their routes); here are the pages of one edition,
``/digests/{slug}/{date}`` and ``/digests/{slug}/{date}.txt``, and
``/digests/{slug}``, which sends a visitor on to the newest edition.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from syndicate.catalog import KINDS, edition_key, edition_path
from syndicate.documents.headers import cache_headers
from syndicate.documents.rendered import NotFound
from syndicate.store.digests import editions
from syndicate.web.keys import CACHE, LIVE, STORE
from syndicate.web.respond import answer, document

_DATE = r"{edition:[0-9]{4}-[0-9]{2}-[0-9]{2}}"
#: Seconds caches may keep the redirect to the newest edition.
NEWEST_MAX_AGE = 60


async def edition_page(request: web.Request) -> web.StreamResponse:
    cache = request.app[CACHE]
    cache.refresh()
    fmt = "txt" if request.path.endswith(".txt") else "html"
    key = edition_key(request.match_info["key"], request.match_info["edition"], fmt)
    try:
        found = await document(cache, key)
    except NotFound as exc:
        cache.responses[404] += 1
        raise web.HTTPNotFound(text=f"Not found: {exc}\n") from None
    return answer(request, found, cache.responses)


async def newest(request: web.Request) -> web.StreamResponse:
    """``/digests/{slug}``: a redirect to the newest edition's page (404 before the first)."""
    slug = request.match_info["key"]
    if request.app[LIVE].config.digest(slug) is None:
        raise web.HTTPNotFound(text=f"Not found: no digest {slug!r}\n")
    kept = await asyncio.to_thread(editions, request.app[STORE], slug, 1)
    if not kept:
        raise web.HTTPNotFound(text=f"Not found: digest {slug!r} has no edition yet\n")
    raise web.HTTPFound(
        location=edition_path(slug, kept[0].edition.isoformat()),
        headers=cache_headers(None, max_age=NEWEST_MAX_AGE, compressed=False),
    )


def add_routes(app: web.Application) -> None:
    folder = KINDS["digest"].folder
    app.router.add_get(f"/{folder}/{{key}}", newest)
    app.router.add_get(f"/{folder}/{{key}}/{_DATE}", edition_page)
    app.router.add_get(f"/{folder}/{{key}}/{_DATE}.txt", edition_page)
