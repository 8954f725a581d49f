"""What the site publishes: the kinds of feed, the documents, and where each one lives.

One table (:data:`KINDS`) says, for every kind of feed, its URL folder, how
people call it, where it is listed on /feeds and whether the print issue's
PDF rides along as an enclosure. Everything that names a public URL asks
here: the feed paths and their pages, the pages the feeds link to, the
document keys the cache and the change door speak in, and the one
:func:`permalink`. Adding a kind of feed (the digest did) is one row here
plus its query in the store.

The URL scheme (README, "The URLs")::

    /feed.{atom,rss,json}                     the whole site
    /sections/{slug}/feed.{atom,rss,json}     one configured section
    /authors/{slug}/feed.{atom,rss,json}      every byline of one author
    /issues/{number}/feed.{atom,rss,json}     one print issue (its PDF as enclosure)
    /tags/{slug}/feed.{atom,rss,json}         one tag
    /digests/{slug}/feed.{atom,rss,json}      one digest: an item per frozen edition
    /digests/{slug}/{date}, {date}.txt        one edition, as email HTML and plain text
    ?page=N                                   older pages (RFC 5005 section 3, paged feeds)
    /archive/{YYYY-MM}/feed.{atom,rss,json}   one month of the site (RFC 5005 section 4)
    /{folder}/{key}/archive/{YYYY-MM}/feed.*  one month of any other feed
    /feeds, /feeds.opml                       every feed, for people and for readers
    /latest-news, /latest-news.json           the Latest News sidebar

Page 1 of a feed has exactly one URL (no ``?page=1``), so a document has one
address and its ``rel="self"`` link is that address.

Pure: no store, no HTTP, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from syndicate.config import Config, SiteConfig
from syndicate.models import SIDEBAR, SITE, Scope, ScopeKind

FeedFormat = Literal["rss", "atom", "json"]
#: Every feed format, in the order they are offered.
FORMATS: Final[tuple[FeedFormat, ...]] = ("atom", "rss", "json")
EXTENSIONS: Final[dict[FeedFormat, str]] = {"atom": "atom", "rss": "rss", "json": "json"}
CONTENT_TYPES: Final[dict[FeedFormat, str]] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
#: Media types without parameters, for link ``type`` attributes.
MEDIA_TYPES: Final[dict[FeedFormat, str]] = {
    fmt: CONTENT_TYPES[fmt].split(";")[0] for fmt in FORMATS
}
#: How people call each format.
FORMAT_LABELS: Final[dict[FeedFormat, str]] = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}


@dataclass(frozen=True)
class FeedKind:
    """One row of the table: a kind of feed and everything that follows from it."""

    kind: ScopeKind
    #: URL folder of its feeds ("" for the site's, which live at the root).
    folder: str
    #: Where /feeds and /feeds.opml list its feeds: the group's id and heading.
    group: str
    group_title: str
    #: Whether the print issue's PDF is an enclosure in these feeds. It is the
    #: point of an issue feed; elsewhere it would be a large download attached
    #: to every article (podcast clients fetch enclosures on their own).
    enclosures: bool = False
    #: Whether its feeds are the editors' list in config.toml (in their order,
    #: empty ones too) rather than whatever the store holds.
    configured: bool = False
    #: Whether its feeds have monthly archive documents (RFC 5005 section 4).
    #: A digest's items are editions frozen at their cut-off, paged as they are.
    archived: bool = True


#: The feed kinds, in the order /feeds lists them.
KINDS: Final[dict[ScopeKind, FeedKind]] = {
    row.kind: row
    for row in (
        FeedKind("site", "", "site", "The whole site"),
        FeedKind("section", "sections", "sections", "Sections", configured=True),
        FeedKind("author", "authors", "authors", "Authors"),
        FeedKind("tag", "tags", "tags", "Tags"),
        FeedKind("issue", "issues", "issues", "Print issues", enclosures=True),
        FeedKind("digest", "digests", "digests", "Digests", configured=True, archived=False),
    )
}
#: The kinds whose feeds live in a folder (/{folder}/{key}/feed.*).
FOLDER_KINDS: Final[tuple[FeedKind, ...]] = tuple(k for k in KINDS.values() if k.folder)


def configured(config: Config, kind: ScopeKind) -> list[tuple[Scope, str]]:
    """(scope, title) of each feed of a configured kind, in config.toml's order."""
    if kind == "section":
        return [(Scope("section", s.slug), s.title) for s in config.sections]
    if kind == "digest":
        return [(Scope("digest", d.slug), d.title) for d in config.digests]
    return []


def feed_path(scope: Scope, fmt: FeedFormat, page: int = 1) -> str:
    """The path of a feed page; page 1 has no query, so it has one URL only."""
    folder = KINDS[scope.kind].folder
    base = f"/{folder}/{scope.key}/feed" if folder else "/feed"
    return f"{base}.{EXTENSIONS[fmt]}" + (f"?page={page}" if page > 1 else "")


def archive_path(scope: Scope, fmt: FeedFormat, period: str) -> str:
    """The path of one archive document: a scope's articles of one month (RFC 5005 section 4).

    A path of its own rather than a query, so that a static host can keep it
    as a file: ``/archive/2026-03/feed.atom``, ``/sections/news/archive/2026-03/feed.atom``.
    """
    folder = KINDS[scope.kind].folder
    base = f"/{folder}/{scope.key}/archive" if folder else "/archive"
    return f"{base}/{period}/feed.{EXTENSIONS[fmt]}"


# -- archive periods ----------------------------------------------------------------

#: A period's name: a calendar month in UTC, as the store spells its dates' start.
PERIOD_RE: Final = re.compile(r"\A(\d{4})-(0[1-9]|1[0-2])\Z")


def is_period(name: str) -> bool:
    match = PERIOD_RE.match(name)
    return match is not None and int(match.group(1)) >= 1


def period_of(moment: datetime) -> str:
    """The archive period (calendar month, UTC) that holds ``moment``."""
    u = moment.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}"


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """The first moment of ``period`` and the first moment after it, in UTC."""
    year, month = int(period[:4]), int(period[5:7])
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def html_path(scope: Scope) -> str:
    """The publication's own page for a scope, which feeds link to as 'alternate'."""
    folder = KINDS[scope.kind].folder
    return f"/{folder}/{scope.key}" if folder else "/"


def feed_id(tag_authority: str, scope: Scope) -> str:
    """A feed's permanent ID (a tag: URI, RFC 4151): the same on every page and format."""
    name = "site" if scope.kind == "site" else f"{scope.kind}:{scope.key}"
    return f"tag:{tag_authority}:feed:{name}"


def article_id(tag_authority: str, number: int) -> str:
    """An article's permanent ID: the same in every feed and format, whatever its slug."""
    return f"tag:{tag_authority}:article:{number}"


def permalink_path(article_path: str, slug: str, number: int) -> str:
    """``site.article_path`` filled in; never raises, whatever the template holds."""
    return article_path.replace("{slug}", slug).replace("{id}", str(number))


def permalink(site: SiteConfig, slug: str, number: int) -> str:
    """The absolute URL of an article's page: the one spelling every caller uses."""
    return site.root + permalink_path(site.article_path, slug, number)


# -- documents -------------------------------------------------------------------

#: What kind of document a key names.
DocKind = Literal["feed", "feedpage", "directory", "sidebar", "edition", "page"]


@dataclass(frozen=True, slots=True)
class DocKey:
    """One cached document: a feed page or archive in one format, the directory, or the sidebar.

    ``scope`` is what the document is built from, so a change to a scope
    drops exactly its documents: a feed's own scope, the whole site for the
    directory (every article write touches the site), the sidebar's entries
    for the sidebar. ``period`` names an archive document (a month, "2026-03");
    it is empty for the feed's pages.
    """

    doc: DocKind
    fmt: str
    scope: Scope = SITE
    page: int = 1
    #: An edition's date (YYYY-MM-DD), for a digest's edition pages only.
    edition: str = ""
    #: A calendar month (YYYY-MM), for a feed's archive documents only (RFC 5005).
    period: str = ""


def feed_key(scope: Scope, fmt: FeedFormat, page: int = 1) -> DocKey:
    return DocKey("feed", fmt, scope, page)


def archive_key(scope: Scope, fmt: FeedFormat, period: str) -> DocKey:
    return DocKey("feed", fmt, scope, 1, period=period)


def feed_page_key(scope: Scope, fmt: FeedFormat, page: int = 1) -> DocKey:
    """The HTML page a browser is shown at a feed's own URL (README, "Feeds in a browser").

    Same scope, format and page as the feed it describes, so it lives at the
    same path and is dropped with the feed's scope.
    """
    return DocKey("feedpage", fmt, scope, page)


#: The kinds with an HTML page of their own at :func:`html_path` (``site.pages``);
#: a digest's page is its newest edition.
PAGE_KINDS: Final[tuple[ScopeKind, ...]] = ("site", "section", "author", "issue", "tag")


def page_key(scope: Scope) -> DocKey:
    """A scope's HTML page (its latest articles): built from the scope, dropped with it."""
    return DocKey("page", "html", scope)


DIRECTORY_HTML: Final = DocKey("directory", "html")
DIRECTORY_OPML: Final = DocKey("directory", "opml")
SIDEBAR_HTML: Final = DocKey("sidebar", "html", SIDEBAR)
SIDEBAR_JSON: Final = DocKey("sidebar", "json", SIDEBAR)
#: The documents that are not feeds.
SINGLETONS: Final = (DIRECTORY_HTML, DIRECTORY_OPML, SIDEBAR_HTML, SIDEBAR_JSON)

_SINGLETON_PATHS: Final[dict[DocKey, str]] = {
    DIRECTORY_HTML: "/feeds",
    DIRECTORY_OPML: "/feeds.opml",
    SIDEBAR_HTML: "/latest-news",
    SIDEBAR_JSON: "/latest-news.json",
}


#: An edition page's formats: the email's HTML, and its plain-text part.
EDITION_FORMATS: Final = ("html", "txt")


def edition_key(slug: str, edition: str, fmt: str = "html") -> DocKey:
    """An edition page of a digest; built from the digest's scope, so it is dropped with it."""
    return DocKey("edition", fmt, Scope("digest", slug), edition=edition)


def edition_path(slug: str, edition: str, fmt: str = "html") -> str:
    """``/digests/{slug}/{date}``, or ``.txt`` for the plain-text part."""
    return f"/{KINDS['digest'].folder}/{slug}/{edition}" + (".txt" if fmt == "txt" else "")


def edition_id(tag_authority: str, slug: str, edition: str) -> str:
    """An edition's permanent ID (tag: URI, RFC 4151): the digest's slug and the edition's date."""
    return f"tag:{tag_authority}:digest:{slug}:{edition}"


def document_path(key: DocKey) -> str:
    """The public path (and query) of a document."""
    if key.doc == "feed" and key.period:
        return archive_path(key.scope, key.fmt, key.period)  # type: ignore[arg-type]
    if key.doc in ("feed", "feedpage"):
        return feed_path(key.scope, key.fmt, key.page)  # type: ignore[arg-type]
    if key.doc == "edition":
        return edition_path(key.scope.key, key.edition, key.fmt)
    if key.doc == "page":
        return html_path(key.scope)
    return _SINGLETON_PATHS[key]


def head_keys(scope: Scope) -> tuple[DocKey, ...]:
    """The first page of a scope's feed in every format: what subscribers poll."""
    return tuple(feed_key(scope, fmt) for fmt in FORMATS)


def is_format(name: str) -> bool:
    return name in EXTENSIONS
