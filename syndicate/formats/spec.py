"""What a feed builder is given: everything except the articles and the clock.

The documents layer (syndicate.documents.feeds) turns a feed's key into a FeedSpec; the
builders turn ``(spec, articles)`` into bytes. Keeping every URL and setting
in the spec is what lets the builders stay pure: same input, same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from syndicate.catalog import CONTENT_TYPES, FORMATS, FeedFormat, article_id, permalink_path

__all__ = [
    "CONTENT_TYPES",
    "FORMATS",
    "ArchiveLinks",
    "FeedFormat",
    "FeedSpec",
    "PageLinks",
    "entry_id",
]


@dataclass(frozen=True)
class PageLinks:
    """RFC 5005 paged-feed links, as absolute URLs."""

    first: str
    last: str
    previous: str | None = None
    next: str | None = None


@dataclass(frozen=True)
class ArchiveLinks:
    """RFC 5005 section 4 (archived feeds), as absolute URLs.

    The subscription document (a feed's first page) carries ``prev_archive``
    only; an archive document also says it is one (``fh:archive``), where
    its feed lives (``current``) and its newer neighbour (``next_archive``).
    """

    archive: bool = False
    current: str | None = None
    prev_archive: str | None = None
    next_archive: str | None = None


@dataclass(frozen=True)
class FeedSpec:
    #: The feed's own permanent ID (a tag: URI); stable across pages and formats.
    id: str
    title: str
    subtitle: str
    #: The exact public URL of this document (with ?page=N when paged).
    self_url: str
    #: The human page the feed belongs to (the site, or the section page).
    html_url: str
    language: str
    copyright: str
    icon: str
    logo: str
    #: "tag:{authority}:article:{id}" is every entry's ID; see entry_id().
    tag_authority: str
    #: Base URL of the site, no trailing slash; relative links are resolved against it.
    site_root: str
    #: Permalink path template with {slug} and/or {id}.
    article_path: str
    content: Literal["full", "summary"] = "full"
    generator: str = "syndicate"
    generator_version: str = ""
    generator_uri: str = ""
    pages: PageLinks | None = None
    #: RFC 5005 archive links (None: neither a head with archives nor an archive).
    archives: ArchiveLinks | None = None
    hub_url: str | None = None
    #: The same feed in the other formats: format -> absolute URL.
    alternates: tuple[tuple[FeedFormat, str], ...] = ()
    #: Section slug -> display title, so categories read "News", not "news".
    section_titles: tuple[tuple[str, str], ...] = ()
    #: The date of the feed while it holds no article: when its scope last
    #: changed (validators call 1970 an implausible date).
    empty_updated: datetime | None = None
    #: Hosts whose https pages a body may embed in an iframe (site.embed_hosts);
    #: with none, bodies keep no iframe at all (syndicate.sanitize).
    embed_hosts: frozenset[str] = frozenset()


def entry_id(spec: FeedSpec, number: int) -> str:
    """The permanent ID of an article, the same in every feed and format."""
    return article_id(spec.tag_authority, number)


def permalink(spec: FeedSpec, slug: str, number: int) -> str:
    """The article's page (syndicate.catalog.permalink, from the spec's copy of the site)."""
    return spec.site_root + permalink_path(spec.article_path, slug, number)
