"""The public HTML handlers: the Latest News sidebar, the article preview page, and
the scopes' pages (/, /sections/{slug}, ...) when ``site.pages`` is on.

The documents themselves are built in syndicate.documents (sidebar, article);
these handlers find them and answer.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from syndicate.catalog import KINDS, PAGE_KINDS, SIDEBAR_HTML, SIDEBAR_JSON, page_key
from syndicate.documents.article import ARTICLE_MAX_AGE, render_article
from syndicate.documents.headers import cache_headers
from syndicate.documents.rendered import NotFound
from syndicate.models import SITE, Article, Scope
from syndicate.web.keys import CACHE, CLOCK, LIVE, STORE
from syndicate.web.respond import answer, document


async def latest_news(request: web.Request) -> web.StreamResponse:
    key = SIDEBAR_JSON if request.path.endswith(".json") else SIDEBAR_HTML
    cache = request.app[CACHE]
    cache.refresh()
    return answer(request, await document(cache, key), cache.responses)


async def article_page(request: web.Request) -> web.Response:
    """A newspaper-style preview of one article with the Latest News beside it."""
    config = request.app[LIVE].config
    store = request.app[STORE]
    cache = request.app[CACHE]
    slug = request.match_info["slug"]
    cache.refresh()
    sidebar = await document(cache, SIDEBAR_HTML)
    now = request.app[CLOCK].now()

    def load() -> Article | None:
        return store.article(slug)

    loop = asyncio.get_running_loop()
    article = await loop.run_in_executor(None, load)
    if article is None or article.status != "published" or article.published > now:
        raise web.HTTPNotFound(text=f"Not found: no published article {slug[:80]!r}\n")
    html = render_article(config, article, sidebar.body.decode("utf-8"), now)
    return web.Response(
        text=html,
        content_type="text/html",
        charset="utf-8",
        headers=cache_headers(
            None,
            max_age=ARTICLE_MAX_AGE,
            compressed=False,
            page=html,
            images=True,
            frames=config.site.embed_hosts,
        ),
    )


async def scope_page(request: web.Request) -> web.StreamResponse:
    """A scope's page (syndicate.documents.pages); 404 when ``site.pages`` is off."""
    if not request.app[LIVE].config.site.pages:
        raise web.HTTPNotFound(text="Not found\n")
    folder = request.match_info.get("folder", "")
    kinds = {KINDS[kind].folder: kind for kind in PAGE_KINDS}
    scope = Scope(kinds[folder], request.match_info["key"]) if folder else SITE
    cache = request.app[CACHE]
    cache.refresh()
    try:
        found = await document(cache, page_key(scope))
    except NotFound as exc:
        raise web.HTTPNotFound(text=f"Not found: {exc}\n") from None
    return answer(request, found, cache.responses)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", scope_page)
    for kind in PAGE_KINDS:
        if KINDS[kind].folder:
            app.router.add_get(f"/{{folder:{KINDS[kind].folder}}}/{{key}}", scope_page)
    app.router.add_get("/latest-news", latest_news)
    app.router.add_get("/latest-news.json", latest_news)
    app.router.add_get("/articles/{slug}", article_page)


__all__ = ["add_routes"]
