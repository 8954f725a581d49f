"""The page a browser is shown at a feed's own URL (README, "Feeds in a browser").

Someone who clicks a feed link gets raw XML, or one line of JSON, and nothing
says what it is for; Chromium no longer applies XSLT, so a feed cannot style
itself. This page says what the feed is, gives its URL to copy (a read-only
field: the public pages' CSP allows no script, so no copy button), offers
"open in" links for web readers and the other formats, and shows the latest
items as the feed holds them. Built from the very view the feed is rendered
from (syndicate.formats.view), so the two never disagree, once per change,
and cached like every document under its own key (``feedpage``) and ETag.

Only browsers navigating see it (syndicate.web.browsers decides); every other
client gets the feed's bytes. Pure apart from the store reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from urllib.parse import quote

from syndicate.catalog import FORMAT_LABELS, KINDS, MEDIA_TYPES, DocKey
from syndicate.config import Config
from syndicate.documents.digests import digest_view
from syndicate.documents.feeds import collect, parse_format
from syndicate.documents.headers import cache_headers
from syndicate.documents.keys import document_keys, key_headers
from syndicate.documents.rendered import Rendered
from syndicate.documents.templating import templates
from syndicate.formats.view import FeedView, prepare
from syndicate.store import Store
from syndicate.text import strip_bidi_controls

HTML_TYPE = "text/html; charset=utf-8"
#: Items shown on the page: enough to judge the feed by, light on a phone.
SHOWN: Final = 20
#: Web feed readers that take a feed URL in a link, and how (each checked
#: against the reader's own subscribe link; the URL is percent-encoded whole).
READERS: Final[tuple[tuple[str, str], ...]] = (
    ("Feedly", "https://feedly.com/i/subscription/feed/{}"),
    ("Inoreader", "https://www.inoreader.com/?add_feed={}"),
    ("NewsBlur", "https://newsblur.com/?url={}"),
    ("The Old Reader", "https://theoldreader.com/feeds/subscribe?url={}"),
    ("Feedbin", "https://feedbin.com/?subscribe={}"),
)


def reader_links(url: str) -> list[tuple[str, str]]:
    """(name, link) per web reader for subscribing to ``url``."""
    encoded = quote(url, safe="")
    return [(name, form.format(encoded)) for name, form in READERS]


def feed_view(config: Config, store: Store, key: DocKey, now: datetime) -> FeedView:
    """The view the feed at the same URL is rendered from (NotFound as the feed would)."""
    if key.scope.kind == "digest":
        return digest_view(config, store, key)
    fmt = parse_format(key.fmt)
    built = collect(config, store, key.scope, fmt, key.page, now)
    return prepare(built.spec, built.articles, enclosures=KINDS[key.scope.kind].enclosures)


def byline_parts(names: list[str]) -> list[tuple[str, str]]:
    """(name, what follows it) for "A, B and C", so each name is bidi-isolated on its
    own: one <bdi> around a byline mixing Arabic and Latin names reorders the words."""
    names = [_line(n) for n in names]
    seps = [", "] * max(0, len(names) - 2) + [" and "] * (len(names) > 1) + [""]
    return list(zip(names, seps[-len(names) :] if names else [], strict=True))


def _line(text: str) -> str:
    return strip_bidi_controls(text)


def render_page(config: Config, key: DocKey, view: FeedView) -> str:
    fmt = parse_format(key.fmt)
    return templates.get_template("feed_page.html").render(
        site=config.site,
        title=_line(view.title),
        description=_line(view.subtitle or view.description),
        format_label=FORMAT_LABELS[fmt],
        media_type=MEDIA_TYPES[fmt],
        url=view.self_url,
        html_url=view.html_url,
        readers=reader_links(view.self_url),
        others=[
            {"label": FORMAT_LABELS[f], "url": u, "type": MEDIA_TYPES[f]}
            for f, u in view.alternates
        ],
        directory=config.site.root + "/feeds",
        items=[
            {
                "title": _line(e.title),
                "url": e.url,
                "byline": byline_parts([p.name for p in e.authors]),
                "date": e.published,
                "summary": _line(e.summary),
            }
            for e in view.entries[:SHOWN]
        ],
        more=max(0, len(view.entries) - SHOWN),
    )


def build_feed_page(config: Config, store: Store, key: DocKey, now: datetime) -> Rendered:
    """The browser page of one feed page (runs in a worker thread)."""
    view = feed_view(config, store, key, now)
    page = render_page(config, key, view)
    feeds = config.feeds
    headers = cache_headers(
        HTML_TYPE,
        max_age=feeds.max_age,
        stale_while_revalidate=feeds.stale_while_revalidate,
        # The newest item's date: the feed's own Last-Modified is kept per
        # path (syndicate.store.published) and this page shares its path.
        last_modified=view.updated,
        page=page,
        browsers=True,
    )
    headers.update(key_headers(config.cache.headers, document_keys(key)))
    return Rendered(page.encode("utf-8"), HTML_TYPE, view.updated, headers)
