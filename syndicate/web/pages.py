"""The Latest News sidebar (/latest-news, /latest-news.json) and article previews.

Sidebar text comes from outside feeds, so it only ever reaches a page through
an autoescaping template, and JSON with <, > and & escaped too: a title such
as ``<script>`` shows as those characters, never as markup.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from aiohttp import web
from markupsafe import Markup

from syndicate.config import Config
from syndicate.formats.view import absolute_url, absolutize_html
from syndicate.humanize import age_notice, relative_time
from syndicate.models import Article
from syndicate.store import SIDEBAR, Store
from syndicate.store.sources import SidebarItem, Sources
from syndicate.web.cache import FeedKey, Rendered
from syndicate.web.keys import CACHE, LIVE, STORE
from syndicate.web.respond import answer
from syndicate.web.templating import templates


def sidebar_caps(config: Config) -> dict[str, int]:
    """Most entries each configured source may show (its own max, else the default)."""
    default = config.sidebar.max_per_source
    return {s.url: (s.max_items or default) for s in config.sidebar.sources if s.enabled}


def sidebar_items(config: Config, store: Store) -> list[SidebarItem]:
    return Sources(store).latest(config.sidebar.items, sidebar_caps(config))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_sidebar_html(items: list[SidebarItem], now: datetime) -> str:
    return templates.get_template("latest_news.html").render(
        items=[
            {
                "source": item.source,
                "title": item.title,
                "link": item.link,
                "datetime": _iso(item.published),
                "exact": item.published.astimezone(UTC).strftime("%d %B %Y, %H:%M UTC"),
                "ago": relative_time(item.published, now),
            }
            for item in items
        ]
    )


def render_sidebar_json(items: list[SidebarItem]) -> bytes:
    document = {
        "title": "Latest News",
        "items": [
            {
                "source": item.source,
                "title": item.title,
                "url": item.link,
                "published": _iso(item.published),
            }
            for item in items
        ],
    }
    text = json.dumps(document, ensure_ascii=False, indent=1)
    # As Django's json_script does: safe to paste into HTML, even inside <script>.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.encode("utf-8")


def build_sidebar(config: Config, store: Store, fmt: str, now: datetime) -> Rendered:
    """Built on change like a feed; the HTML also expires at the next minute ("5 minutes ago")."""
    items = sidebar_items(config, store)
    if fmt == "json":
        body, content_type, expires = (
            render_sidebar_json(items),
            "application/json; charset=utf-8",
            None,
        )
    else:
        body = render_sidebar_html(items, now).encode("utf-8")
        content_type = "text/html; charset=utf-8"
        expires = (int(now.timestamp()) // 60 + 1) * 60.0
    headers = {
        "Content-Type": content_type,
        "Cache-Control": "public, max-age=60",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        "Access-Control-Allow-Origin": "*",
    }
    newest = max((i.published for i in items), default=None)
    rendered = Rendered(body, content_type, newest, headers, expires=expires)
    if rendered.last_modified_http and fmt == "json":
        headers["Last-Modified"] = rendered.last_modified_http
    return rendered


async def latest_news(request: web.Request) -> web.StreamResponse:
    fmt = "json" if request.path.endswith(".json") else "html"
    cache = request.app[CACHE]
    cache.refresh()
    return answer(request, await cache.get(FeedKey(SIDEBAR, fmt)), cache.responses)


def render_article(config: Config, article: Article, sidebar: str, now: datetime) -> str:
    root = config.site.root
    section = config.section(article.section) if article.section else None
    image_url = absolute_url(article.image.url, root + "/") if article.image else ""
    return templates.get_template("article.html").render(
        site=config.site,
        root=root,
        article=article,
        section=section,
        image_url=image_url,
        published_iso=_iso(article.published),
        published_text=article.published.astimezone(UTC).strftime("%-d %B %Y"),
        age=age_notice(article.published, now),
        # The body is the publication's own HTML from its CMS, shown as the
        # article; only outside text (the sidebar) is treated as hostile.
        body=Markup(absolutize_html(article.body, root + "/")),  # noqa: S704
        sidebar=Markup(sidebar),  # noqa: S704 - rendered by an autoescaping template
    )


async def article_page(request: web.Request) -> web.Response:
    """A newspaper-style preview of one article with the Latest News beside it."""
    config = request.app[LIVE].config
    store = request.app[STORE]
    cache = request.app[CACHE]
    slug = request.match_info["slug"]
    cache.refresh()
    sidebar = await cache.get(FeedKey(SIDEBAR, "html"))
    now = datetime.now(UTC)

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
        headers={"Cache-Control": "public, max-age=60", "X-Content-Type-Options": "nosniff"},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/latest-news", latest_news)
    app.router.add_get("/latest-news.json", latest_news)
    app.router.add_get("/articles/{slug}", article_page)


__all__ = ["add_routes", "build_sidebar", "render_article", "sidebar_items"]
