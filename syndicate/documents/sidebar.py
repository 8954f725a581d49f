"""The Latest News sidebar as documents: /latest-news (an HTML fragment) and /latest-news.json.

Sidebar text comes from outside feeds, so it only ever reaches a page through
an autoescaping template, and JSON with <, > and & escaped too: a title such
as ``<script>`` shows as those characters, never as markup.

Dates: an item shows the date its feed gave, even one still in the future
(then as that date, not "ago"); an undated item shows when it was first seen
("first seen 5 minutes ago"), and its JSON ``published`` is null. Items are
ordered by :attr:`~syndicate.store.sources.SidebarItem.shown_at`.

Language: a title whose language is known (its source's, or the entry's own)
carries ``lang`` and ``dir`` on the ``<bdi>`` that holds it: the title, not the
whole item, since the source's name and "5 minutes ago" are the site's own
words. An unknown language adds nothing (the ``<bdi>`` finds the direction by
itself); in JSON ``lang`` is then null and ``dir`` "auto".
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

#: Scripts written right to left (ISO 15924), for a tag that names its script.
RTL_SCRIPTS = frozenset(
    {"adlm", "arab", "aran", "armi", "avst", "chrs", "cprt", "elym", "hatr", "hebr", "hung",
     "khar", "lydi", "mand", "mani", "mend", "merc", "mero", "narb", "nbat", "nkoo", "orkh",
     "ougr", "palm", "phli", "phlp", "phnx", "prti", "rohg", "samr", "sarb", "sogd", "sogo",
     "syrc", "syre", "syrj", "syrn", "thaa", "yezi"}
)  # fmt: skip
#: Languages written right to left in their usual script, for a tag that names
#: none: Arabic and its varieties, Hebrew, Persian, Urdu, Pashto, Sindhi,
#: Uyghur, Yiddish, Dhivehi, Sorani Kurdish, Syriac, N'Ko and others.
RTL_LANGUAGES = frozenset(
    {"ar", "arb", "acm", "acq", "aeb", "afb", "ajp", "apc", "apd", "arq", "ars", "ary", "arz",
     "ayl", "shu", "ssh", "arc", "azb", "bal", "bgn", "bqi", "ckb", "dv", "fa", "glk", "haz",
     "he", "iw", "khw", "ks", "lrc", "luz", "mzn", "nqo", "pes", "pnb", "prs", "ps", "pbt",
     "pbu", "pst", "rhg", "sd", "sdh", "skr", "syr", "ug", "ur", "uzs", "yi", "ji", "ydd",
     "yih", "jpr", "jrb", "sam"}
)  # fmt: skip


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def exact(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%d %B %Y, %H:%M UTC")


def text_direction(lang: str | None) -> str | None:
    """The direction of text in a BCP 47 tag's language, "rtl" or "ltr": from
    its script if it names one, else from its language; None when unknown."""
    if not lang:
        return None
    subtags = lang.lower().split("-")
    # The script is the first four-letter subtag after the language and any
    # extended language subtags (three letters each).
    for subtag in subtags[1:4]:
        if len(subtag) == 4 and subtag.isalpha():
            return "rtl" if subtag in RTL_SCRIPTS else "ltr"
        if len(subtag) != 3 or not subtag.isalpha():
            break
    return "rtl" if subtags[0] in RTL_LANGUAGES else "ltr"


def sidebar_caps(config: Config) -> dict[str, int]:
    """Most entries each configured source may show (its own max, else the default)."""
    default = config.sidebar.max_per_source
    return {s.url: (s.max_items or default) for s in config.sidebar.sources if s.enabled}


def sidebar_items(config: Config, store: Store) -> list[SidebarItem]:
    return Sources(store).latest(config.sidebar.items, sidebar_caps(config))


def _when(item: SidebarItem, now: datetime) -> dict[str, str]:
    """What the <time> says: the feed's date ("5 minutes ago", or the date
    itself while it is still ahead), else when the item was first seen."""
    if item.published is not None:
        ago = relative_time(item.published, now) if item.published <= now else None
        return {
            "datetime": iso(item.published),
            "exact": exact(item.published),
            "ago": ago or exact(item.published),
            "seen": "",
        }
    seen = item.shown_at
    return {
        "datetime": iso(seen),
        "exact": f"No date given; first seen {exact(seen)}",
        "ago": f"first seen {relative_time(seen, now)}",
        "seen": "seen",
    }


def render_sidebar_html(items: list[SidebarItem], now: datetime) -> str:
    return templates.get_template("latest_news.html").render(
        items=[
            {
                # Names and titles are isolated by the template (<bdi>); the
                # fetcher drops bidi controls from titles, this from names.
                "source": strip_bidi_controls(item.source),
                "title": strip_bidi_controls(item.title),
                "link": item.link,
                "lang": item.lang or None,
                "dir": text_direction(item.lang),
                **_when(item, now),
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
                # null: the feed gave no date (first_seen says when it appeared).
                "published": iso(item.published) if item.published else None,
                "first_seen": iso(item.first_seen or item.shown_at),
                "lang": item.lang or None,
                "dir": text_direction(item.lang) or "auto",
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
    # By the sidebar's order, so never a future date a feed gave.
    newest = max((i.shown_at for i in items), default=None)
    # The HTML's "5 minutes ago" moves with the clock, so it says no Last-Modified.
    headers = cache_headers(
        content_type,
        max_age=SIDEBAR_MAX_AGE,
        last_modified=newest if fmt == "json" else None,
        cors=True,
        page=body.decode("utf-8") if fmt == "html" else None,
    )
    return Rendered(body, content_type, newest, headers, expires=expires)
