"""The article preview page (/articles/{slug}): headline, byline, body, the sidebar beside it.

Rendered per request (it is cheap, and its age notice moves with the clock),
from the same article the feeds carry and the sidebar's cached HTML. The body
is sanitised exactly as the feeds' content is (syndicate.sanitize): this page
is on the same origin as /admin, so a script in a body would act as the editor
reading it.

Every name and title is isolated from the text around it (``<bdi>``, or
``dir="auto"`` on its own block), so an Arabic byline cannot reorder the
date beside it; bidirectional overrides and embeddings are dropped from them
too (syndicate.text.strip_bidi_controls), for articles written to the store
by another route than the importer and the API, which drop them already.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from markupsafe import Markup

from syndicate.config import Config
from syndicate.documents.sidebar import iso
from syndicate.documents.templating import templates
from syndicate.formats.urls import absolute_url, absolutize_html
from syndicate.humanize import age_notice
from syndicate.models import Article
from syndicate.sanitize import sanitize_html
from syndicate.text import strip_bidi_controls

#: Seconds caches may keep an article page (its age notice and sidebar move).
ARTICLE_MAX_AGE = 60


def _without_bidi_controls(article: Article) -> Article:
    """The article with its title and names free of bidi controls (the body is left alone)."""
    return replace(
        article,
        title=strip_bidi_controls(article.title),
        authors=tuple(replace(a, name=strip_bidi_controls(a.name)) for a in article.authors),
        tags=tuple(replace(t, name=strip_bidi_controls(t.name)) for t in article.tags),
    )


def render_article(config: Config, article: Article, sidebar: str, now: datetime) -> str:
    article = _without_bidi_controls(article)
    root = config.site.root
    section = config.section(article.section) if article.section else None
    image_url = absolute_url(article.image.url, root + "/") if article.image else ""
    safe_body = sanitize_html(article.body, embed_hosts=frozenset(config.site.embed_hosts))
    return templates.get_template("article.html").render(
        site=config.site,
        root=root,
        article=article,
        section=section,
        image_url=image_url,
        published_iso=iso(article.published),
        published_text=article.published.astimezone(UTC).strftime("%-d %B %Y"),
        age=age_notice(article.published, now),
        # The body is HTML from the CMS, shown on our own origin beside the
        # admin: only what the allow-list keeps reaches the page (issue 11).
        body=Markup(absolutize_html(safe_body, root + "/")),  # noqa: S704 - sanitised
        sidebar=Markup(sidebar),  # noqa: S704 - rendered by an autoescaping template
    )
