"""The feed directory: /feeds (HTML with autodiscovery) and /feeds.opml.

Built like a feed and cached like one (it changes when the store does), so a
reader polling /feeds.opml gets ETags and 304s too. The groups and their
order come from the catalog's table of feed kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from syndicate.catalog import (
    FORMAT_LABELS,
    FORMATS,
    KINDS,
    MEDIA_TYPES,
    configured,
    feed_path,
    html_path,
)
from syndicate.config import Config
from syndicate.documents.headers import cache_headers
from syndicate.documents.rendered import Rendered
from syndicate.documents.templating import templates
from syndicate.models import SITE, Scope
from syndicate.opml import Outline, write_opml
from syndicate.store import Store
from syndicate.text import strip_bidi_controls, xml_safe

OPML_TYPE = "text/x-opml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Listed:
    scope: Scope
    title: str
    count: int


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    rows: list[Listed]


def directory(config: Config, store: Store) -> list[Group]:
    """Every feed the server offers, grouped as a reader would browse them."""
    groups: list[Group] = []
    for kind in KINDS.values():
        if kind.kind == "site":
            count = sum(n for _, _, n in store.directory("site"))
            rows = [Listed(SITE, config.site.title, count)]
        elif kind.configured:
            # Sections and digests are the editors' list, in their order, empty ones included.
            counts = {key: n for key, _, n in store.directory(kind.kind)}
            rows = [
                Listed(scope, title, counts.get(scope.key, 0))
                for scope, title in configured(config, kind.kind)
            ]
        else:
            rows = [
                Listed(Scope(kind.kind, key), name, n)
                for key, name, n in store.directory(kind.kind)
            ]
        if rows or kind.kind != "digest":  # a site without digests lists no such group
            groups.append(Group(kind.group, kind.group_title, rows))
    return groups


def render_html(config: Config, groups: list[Group]) -> bytes:
    root = config.site.root

    def formats(scope: Scope) -> list[dict[str, str]]:
        return [
            {"url": root + feed_path(scope, f), "type": MEDIA_TYPES[f], "label": FORMAT_LABELS[f]}
            for f in FORMATS
        ]

    main = [SITE] + [Scope("section", s.slug) for s in config.sections]
    titles = {row.scope: row.title for group in groups for row in group.rows}
    main_feeds = [
        {
            "url": root + feed_path(scope, f),
            "type": MEDIA_TYPES[f],
            "title": f"{titles[scope]} ({FORMAT_LABELS[f]})",
        }
        for scope in main
        for f in ("atom", "rss")
    ]
    page = templates.get_template("feeds.html").render(
        site=config.site,
        main_feeds=main_feeds,
        opml_url=root + "/feeds.opml",
        groups=[
            {
                "id": g.id,
                "title": g.title,
                "unit": "Editions" if g.id == KINDS["digest"].group else "Articles",
                "rows": [
                    {
                        "title": strip_bidi_controls(xml_safe(r.title)),
                        "count": r.count,
                        "formats": formats(r.scope),
                    }
                    for r in g.rows
                ],
            }
            for g in groups
        ],
    )
    return page.encode("utf-8")


def render_opml(config: Config, groups: list[Group], newest: datetime | None) -> bytes:
    """OPML 2.0: one outline per feed (Atom), nested by group, for "subscribe to all"."""
    root = config.site.root
    folders = [
        Outline(
            group.title,
            children=[
                Outline(row.title, root + feed_path(row.scope, "atom"), root + html_path(row.scope))
                for row in group.rows
            ],
        )
        for group in groups
    ]
    title = f"{config.site.title}: every feed"
    # No <docs>: the W3C validator does not know it (UndefinedElement), and it says nothing.
    return write_opml(title, folders, date_modified=newest).encode("utf-8")


def build_directory(config: Config, store: Store, fmt: str, now: datetime) -> Rendered:
    groups = directory(config, store)
    newest_ids = store.latest_ids(SITE, now, 1)
    newest = store.articles(newest_ids)[0].updated if newest_ids else None
    if fmt == "opml":
        body, content_type = render_opml(config, groups, newest), OPML_TYPE
    else:
        body, content_type = render_html(config, groups), HTML_TYPE
    page = body.decode("utf-8") if fmt == "html" else None
    headers = cache_headers(
        content_type, max_age=config.feeds.max_age, last_modified=newest, page=page
    )
    return Rendered(body, content_type, newest, headers)
