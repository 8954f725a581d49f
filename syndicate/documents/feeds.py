"""One feed page, from its key to its bytes: what to ask the store, what to tell the builder.

The catalog says where a feed lives; this module says what it holds (its
title, subtitle and paging links, RFC 5005 section 3) and hands the articles
to the pure builders of :mod:`syndicate.formats`.

Archived feeds (RFC 5005 section 4): besides its pages, every feed has one
archive document per calendar month (UTC, by publication date) that holds
any of its articles. The first page (the subscription document) links
``prev-archive`` to the newest month; each archive links ``current`` (the
first page), ``prev-archive`` and ``next-archive`` to the nearest months
that hold anything, and says ``fh:archive``. A month is *closed* once a
later month holds an article of the feed: its ``next-archive`` link is then
settled and nothing but an edit of one of its own articles can change it,
so it is sent with a year's max-age and ``immutable`` (RFC 8246). The
newest month is sent like the feed itself, since each publish changes it.
Why months: a month of a busy site is a few thousand entries (a few MB, as
one download a reader makes once), a weekly paper's issue falls in one or
two of them, and people name old news by month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from syndicate import __version__
from syndicate.catalog import (
    CONTENT_TYPES,
    FORMATS,
    KINDS,
    DocKey,
    FeedFormat,
    archive_path,
    document_path,
    feed_id,
    feed_path,
    html_path,
    is_format,
    is_period,
    period_bounds,
    period_of,
)
from syndicate.config import Config
from syndicate.documents.headers import ARCHIVE_MAX_AGE, cache_headers, websub_link
from syndicate.documents.keys import document_keys, key_headers
from syndicate.documents.rendered import NotFound, Rendered, etag_of
from syndicate.formats.render import render
from syndicate.formats.spec import ArchiveLinks, FeedSpec, PageLinks
from syndicate.models import Article, Scope
from syndicate.store import Store
from syndicate.store.archive import articles_between, period_before, period_from
from syndicate.store.published import changed_at, scope_changed_at

GENERATOR_URI = "https://pypi.org/project/syndicate/"


@dataclass(frozen=True)
class ScopeInfo:
    title: str
    subtitle: str


def describe(config: Config, store: Store, scope: Scope) -> ScopeInfo:
    """Title and subtitle of a scope's feed; NotFound when the scope does not exist."""
    site = config.site
    if scope.kind == "site":
        return ScopeInfo(site.title, site.description)
    if scope.kind == "section":
        section = config.section(scope.key)
        if section is None:
            raise NotFound(f"no section {scope.key!r}")
        return ScopeInfo(f"{section.title} | {site.title}", section.description or section.title)
    if scope.kind == "author":
        author = store.author(scope.key)
        if author is None:
            raise NotFound(f"no author {scope.key!r}")
        return ScopeInfo(
            f"{author.name} | {site.title}", author.bio or f"Articles by {author.name}"
        )
    if scope.kind == "tag":
        tag = store.tag(scope.key)
        if tag is None:
            raise NotFound(f"no tag {scope.key!r}")
        return ScopeInfo(f"{tag.name} | {site.title}", f"Articles tagged {tag.name}")
    number = int(scope.key) if scope.key.isdigit() and len(scope.key) < 10 else 0
    issue = store.print_issue(number) if number else None
    if issue is None:
        raise NotFound(f"no print issue {scope.key!r}")
    when = f" of {issue.date:%d %B %Y}" if issue.date else ""
    return ScopeInfo(f"Issue {issue.number} | {site.title}", f"Print issue {issue.number}{when}")


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def make_spec(
    config: Config,
    scope: Scope,
    fmt: FeedFormat,
    page: int,
    last: int,
    info: ScopeInfo,
    empty_updated: datetime | None = None,
    *,
    period: str = "",
    archives: ArchiveLinks | None = None,
) -> FeedSpec:
    """The spec of page ``page`` of ``last``, or of the archive of ``period`` when one is given."""
    site = config.site
    root = site.root

    def url(p: int, f: FeedFormat = fmt) -> str:
        if period:
            return root + archive_path(scope, f, period)
        return root + feed_path(scope, f, p)

    pages = None
    if not period:
        pages = PageLinks(
            first=url(1),
            last=url(last),
            previous=url(page - 1) if page > 1 else None,
            next=url(page + 1) if page < last else None,
        )
    return FeedSpec(
        id=feed_id(site.tag_authority, scope),
        title=info.title,
        subtitle=info.subtitle,
        self_url=url(page),
        html_url=root + html_path(scope),
        language=site.language,
        copyright=site.copyright,
        icon=site.icon,
        logo=site.logo,
        tag_authority=site.tag_authority,
        site_root=root,
        article_path=site.article_path,
        content=config.feeds.content,
        generator="syndicate",
        generator_version=__version__,
        generator_uri=GENERATOR_URI,
        pages=pages,
        archives=archives,
        alternates=tuple((f, url(page, f)) for f in FORMATS if f != fmt),
        section_titles=tuple((s.slug, s.title) for s in config.sections),
        empty_updated=empty_updated,
        embed_hosts=frozenset(site.embed_hosts),
        # Only a head feed's first page is a topic (older pages and archives are not pushed).
        hub_url=config.hub_url if page == 1 and not period else None,
    )


def parse_format(name: str) -> FeedFormat:
    if not is_format(name):
        raise NotFound(f"no feed format {name!r}")
    return name  # type: ignore[return-value]


@dataclass(frozen=True)
class FeedPage:
    """Everything a builder needs for one feed page, read from the store in one go."""

    spec: FeedSpec
    articles: list[Article]
    content_type: str
    #: Whether the document can no longer change but by an edit (a closed archive).
    closed: bool = False


def collect(
    config: Config, store: Store, scope: Scope, fmt: FeedFormat, page: int, now: datetime
) -> FeedPage:
    info = describe(config, store, scope)
    per_page = config.feeds.items
    last = page_count(store.count_visible(scope, now), per_page)
    if page > last:
        raise NotFound(f"page {page} is past the last page ({last})")
    articles = store.latest(scope, now, per_page, (page - 1) * per_page)
    empty = None if articles else scope_changed_at(store, scope)
    archives = None
    if page == 1 and articles:  # the subscription document names the newest archive
        newest = archive_path(scope, fmt, period_of(articles[0].published))
        archives = ArchiveLinks(prev_archive=config.site.root + newest)
    spec = make_spec(config, scope, fmt, page, last, info, empty, archives=archives)
    return FeedPage(spec, articles, CONTENT_TYPES[fmt])


def collect_archive(
    config: Config, store: Store, scope: Scope, fmt: FeedFormat, period: str, now: datetime
) -> FeedPage:
    """One month of a feed, with its RFC 5005 section 4 links; NotFound for an empty month."""
    if not is_period(period):
        raise NotFound(f"no archive period {period!r} (expected YYYY-MM)")
    start, end = period_bounds(period)
    info = describe(config, store, scope)
    articles = articles_between(store, scope, start, end, now) if start <= now else []
    if not articles:
        raise NotFound(f"no articles in {period}")
    root = config.site.root
    older = period_before(store, scope, start, now)
    newer = period_from(store, scope, end, now)
    links = ArchiveLinks(
        archive=True,
        current=root + feed_path(scope, fmt),
        prev_archive=root + archive_path(scope, fmt, older) if older else None,
        next_archive=root + archive_path(scope, fmt, newer) if newer else None,
    )
    spec = make_spec(config, scope, fmt, 1, 1, info, period=period, archives=links)
    return FeedPage(spec, articles, CONTENT_TYPES[fmt], closed=newer is not None)


def build_feed(config: Config, store: Store, key: DocKey, now: datetime) -> Rendered:
    """Query, render and describe one feed page or archive (runs in a worker thread)."""
    fmt = parse_format(key.fmt)
    if key.period:
        built = collect_archive(config, store, key.scope, fmt, key.period, now)
    else:
        built = collect(config, store, key.scope, fmt, key.page, now)
    body = render(fmt, built.spec, built.articles, enclosures=KINDS[key.scope.kind].enclosures)
    etag = etag_of(body)
    # The moment these bytes were first served, the same in every worker
    # (syndicate.store.published), not the newest article's date.
    modified = changed_at(store, document_path(key), etag, now)
    feeds = config.feeds
    if built.closed:
        headers = cache_headers(
            built.content_type, max_age=ARCHIVE_MAX_AGE, immutable=True, last_modified=modified
        )
    else:
        hub = built.spec.hub_url
        headers = cache_headers(
            built.content_type,
            max_age=feeds.max_age,
            stale_while_revalidate=feeds.stale_while_revalidate,
            last_modified=modified,
            link=websub_link(hub, built.spec.self_url) if hub else None,
            browsers=True,
        )
    # Surrogate keys for a cache in front (syndicate.documents.keys): made here,
    # once per build; a 304 does not repeat them (a cache keeps the 200's).
    headers.update(key_headers(config.cache.headers, document_keys(key, built.articles)))
    return Rendered(body, built.content_type, modified, headers, etag=etag)
