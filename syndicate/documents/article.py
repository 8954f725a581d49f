"""The article preview page (/articles/{slug}): headline, byline, body, the sidebar beside it.

Rendered per request (it is cheap, and its age notice moves with the clock),
from the same article the feeds carry and the sidebar's cached HTML.
"""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup

from syndicate.config import Config
from syndicate.documents.sidebar import iso
from syndicate.documents.templating import templates
from syndicate.formats.urls import absolute_url, absolutize_html
from syndicate.humanize import age_notice
from syndicate.models import Article

#: Seconds caches may keep an article page (its age notice and sidebar move).
ARTICLE_MAX_AGE = 60


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
        published_iso=iso(article.published),
        published_text=article.published.astimezone(UTC).strftime("%-d %B %Y"),
        age=age_notice(article.published, now),
        # The body is the publication's own HTML from its CMS, shown as the
        # article; only outside text (the sidebar) is treated as hostile.
        body=Markup(absolutize_html(article.body, root + "/")),  # noqa: S704
        sidebar=Markup(sidebar),  # noqa: S704 - rendered by an autoescaping template
    )
