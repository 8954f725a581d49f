"""The feed directory: /feeds (HTML with autodiscovery) and /feeds.opml.

Built like a feed and cached like one (it changes when the store does), so a
reader polling /feeds.opml gets ETags and 304s too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from syndicate.config import Config
from syndicate.formats.spec import CONTENT_TYPES, FORMATS, FeedFormat
from syndicate.store import SITE, Scope, ScopeKind, Store
from syndicate.text import xml_safe
from syndicate.web.cache import Rendered
from syndicate.web.feedspecs import feed_path, html_path
from syndicate.web.templating import templates

LABELS: dict[FeedFormat, str] = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
MEDIA_TYPES: dict[FeedFormat, str] = {f: CONTENT_TYPES[f].split(";")[0] for f in FORMATS}


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
    counts = {key: n for key, _, n in store.directory("section")}
    site_count = sum(n for _, _, n in store.directory("site"))
    groups = [
        Group("site", "The whole site", [Listed(SITE, config.site.title, site_count)]),
        Group(
            "sections",
            "Sections",
            [
                Listed(Scope("section", s.slug), s.title, counts.get(s.slug, 0))
                for s in config.sections
            ],
        ),
    ]
    kinds: tuple[tuple[ScopeKind, str, str], ...] = (
        ("author", "authors", "Authors"),
        ("tag", "tags", "Tags"),
        ("issue", "issues", "Print issues"),
    )
    for kind, group_id, title in kinds:
        rows = [Listed(Scope(kind, key), name, n) for key, name, n in store.directory(kind)]
        groups.append(Group(group_id, title, rows))
    return groups


def render_html(config: Config, groups: list[Group]) -> bytes:
    root = config.site.root

    def formats(scope: Scope) -> list[dict[str, str]]:
        return [
            {"url": root + feed_path(scope, f), "type": MEDIA_TYPES[f], "label": LABELS[f]}
            for f in FORMATS
        ]

    main = [SITE] + [Scope("section", s.slug) for s in config.sections]
    titles = {row.scope: row.title for group in groups for row in group.rows}
    main_feeds = [
        {
            "url": root + feed_path(scope, f),
            "type": MEDIA_TYPES[f],
            "title": f"{titles[scope]} ({LABELS[f]})",
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
                "rows": [
                    {"title": xml_safe(r.title), "count": r.count, "formats": formats(r.scope)}
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
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = xml_safe(f"{config.site.title}: every feed")
    if newest is not None:
        ET.SubElement(head, "dateModified").text = format_datetime(newest, usegmt=True)
    ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = ET.SubElement(opml, "body")
    for group in groups:
        folder = ET.SubElement(body, "outline", text=group.title, title=group.title)
        for row in group.rows:
            ET.SubElement(
                folder,
                "outline",
                type="rss",
                text=xml_safe(row.title),
                title=xml_safe(row.title),
                xmlUrl=root + feed_path(row.scope, "atom"),
                htmlUrl=root + html_path(row.scope),
            )
    ET.indent(opml)
    text = ET.tostring(opml, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n").encode("utf-8")


def build_index(config: Config, store: Store, fmt: str, now: datetime) -> Rendered:
    groups = directory(config, store)
    newest_ids = store.latest_ids(SITE, now, 1)
    newest = store.articles(newest_ids)[0].updated if newest_ids else None
    if fmt == "opml":
        body, content_type = render_opml(config, groups, newest), "text/x-opml; charset=utf-8"
    else:
        body, content_type = render_html(config, groups), "text/html; charset=utf-8"
    headers = {
        "Content-Type": content_type,
        "Cache-Control": f"public, max-age={config.feeds.max_age}",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    rendered = Rendered(body, content_type, newest, headers)
    if rendered.last_modified_http:
        headers["Last-Modified"] = rendered.last_modified_http
    return rendered
