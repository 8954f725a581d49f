"""The pages feeds link to as "alternate": /, /sections/{slug}, /authors/{slug} and the rest.

Every feed names an HTML page for people (Atom's ``rel="alternate"``, RSS's
``<link>``, JSON Feed's ``home_page_url``): ``site.root + html_path(scope)``.
A publication whose own website serves those pages leaves ``site.pages``
off and syndicate answers 404 there; the demo (and a site that has no such
pages) turns it on, and these are the pages: the scope's latest articles
with their bylines and lead images, its feed in every format with
autodiscovery links (the Atom autodiscovery draft, RSS Advisory Board's
rss-autodiscovery), and the Latest News sidebar.

Built and cached like a feed (``DocKey("page", "html", scope)``), so a
change to the scope drops it; the sidebar's "5 minutes ago" moves with the
clock, so the page also expires at the next minute, as the sidebar does, and
a change to the sidebar drops it too (syndicate.documents.cache).
Names and titles come from editors and authors: they reach the page through
the autoescaping template only, each in a ``<bdi>`` or a ``dir="auto"`` block.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from markupsafe import Markup

from syndicate.catalog import (
    FORMAT_LABELS,
    FORMATS,
    MEDIA_TYPES,
    DocKey,
    feed_path,
    html_path,
    permalink,
)
from syndicate.config import Config
from syndicate.documents.feeds import describe
from syndicate.documents.headers import cache_headers
from syndicate.documents.rendered import NotFound, Rendered
from syndicate.documents.sidebar import iso, render_sidebar_html, sidebar_items
from syndicate.documents.templating import templates
from syndicate.formats.urls import absolute_url
from syndicate.models import SITE, Article, Scope
from syndicate.store import Store
from syndicate.text import strip_bidi_controls

#: Articles listed on a page (older ones are in the feeds' later pages).
PAGE_ARTICLES: Final = 20
HTML_TYPE: Final = "text/html; charset=utf-8"


def _listed(config: Config, article: Article) -> dict[str, object]:
    root = config.site.root
    section = config.section(article.section) if article.section else None
    return {
        "url": permalink(config.site, article.slug, article.id),
        "title": strip_bidi_controls(article.title),
        "standfirst": article.standfirst,
        "authors": [
            {"name": strip_bidi_controls(a.name), "url": root + html_path(Scope("author", a.slug))}
            for a in article.authors
        ],
        "section": {"title": section.title, "url": root + html_path(Scope("section", section.slug))}
        if section
        else None,
        "image": absolute_url(article.image.url, root + "/") if article.image else "",
        "image_alt": article.image.alt if article.image else "",
        "published_iso": iso(article.published),
        "published_text": article.published.astimezone(UTC).strftime("%-d %B %Y"),
    }


def render_page(config: Config, store: Store, key: DocKey, now: datetime) -> str:
    """The page's HTML; NotFound for a scope that does not exist (as its feed)."""
    scope = key.scope
    info = describe(config, store, scope)
    root = config.site.root
    articles = store.latest(scope, now, PAGE_ARTICLES)
    feeds = [
        {
            "url": root + feed_path(scope, fmt),
            "type": MEDIA_TYPES[fmt],
            "label": FORMAT_LABELS[fmt],
            "title": f"{info.title} ({FORMAT_LABELS[fmt]})",
        }
        for fmt in FORMATS
    ]
    sections = [
        {"title": s.title, "url": root + html_path(Scope("section", s.slug))}
        for s in config.sections
    ]
    sidebar = render_sidebar_html(sidebar_items(config, store), now)
    return templates.get_template("scope_page.html").render(
        site=config.site,
        root=root,
        home=root + html_path(SITE),
        heading=strip_bidi_controls(info.title.removesuffix(f" | {config.site.title}")),
        title=info.title,
        subtitle=info.subtitle,
        feeds=feeds,
        sections=sections,
        articles=[_listed(config, a) for a in articles],
        directory=root + "/feeds",
        sidebar=Markup(sidebar),  # noqa: S704 - rendered by an autoescaping template
    )


def build_page(config: Config, store: Store, key: DocKey, now: datetime) -> Rendered:
    """One scope's page, cached until its scope or the sidebar changes, or the next minute."""
    if not config.site.pages:
        raise NotFound("site.pages is off: the publication's website serves this page")
    html = render_page(config, store, key, now)
    headers = cache_headers(
        HTML_TYPE,
        max_age=60,
        page=html,
        images=True,
    )
    expires = (int(now.timestamp()) // 60 + 1) * 60.0
    return Rendered(html.encode("utf-8"), HTML_TYPE, None, headers, expires=expires)
