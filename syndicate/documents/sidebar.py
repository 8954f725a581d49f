"""The Latest News sidebar as documents: /latest-news (an HTML fragment) and /latest-news.json.

Sidebar text comes from outside feeds, so it only ever reaches a page through
an autoescaping template, and JSON with <, > and & escaped too: a title such
as ``<script>`` shows as those characters, never as markup.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from syndicate.config import Config
from syndicate.documents.headers import cache_headers
from syndicate.documents.rendered import Rendered
from syndicate.documents.templating import templates
from syndicate.humanize import relative_time
from syndicate.store import Store
from syndicate.store.sources import SidebarItem, Sources
from syndicate.text import strip_bidi_controls

#: Seconds caches may keep the sidebar: its relative times move every minute.
SIDEBAR_MAX_AGE = 60


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sidebar_caps(config: Config) -> dict[str, int]:
    """Most entries each configured source may show (its own max, else the default)."""
    default = config.sidebar.max_per_source
    return {s.url: (s.max_items or default) for s in config.sidebar.sources if s.enabled}


def sidebar_items(config: Config, store: Store) -> list[SidebarItem]:
    return Sources(store).latest(config.sidebar.items, sidebar_caps(config))


def render_sidebar_html(items: list[SidebarItem], now: datetime) -> str:
    return templates.get_template("latest_news.html").render(
        items=[
            {
                # Names and titles are isolated by the template (<bdi>); the
                # fetcher drops bidi controls from titles, this from names.
                "source": strip_bidi_controls(item.source),
                "title": strip_bidi_controls(item.title),
                "link": item.link,
                "datetime": iso(item.published),
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
                "published": iso(item.published),
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
    newest = max((i.published for i in items), default=None)
    # The HTML's "5 minutes ago" moves with the clock, so it says no Last-Modified.
    headers = cache_headers(
        content_type,
        max_age=SIDEBAR_MAX_AGE,
        last_modified=newest if fmt == "json" else None,
        cors=True,
        page=body.decode("utf-8") if fmt == "html" else None,
    )
    return Rendered(body, content_type, newest, headers, expires=expires)
