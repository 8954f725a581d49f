"""From a feed's address to a FeedSpec and its articles: the one place that knows the URL scheme.

/feed.{atom,rss,json}                     the whole site
/sections/{slug}/feed.{atom,rss,json}     one configured section
/authors/{slug}/feed.{atom,rss,json}      every byline of one author
/issues/{number}/feed.{atom,rss,json}     one print issue (its PDF as enclosure)
/tags/{slug}/feed.{atom,rss,json}         one tag
?page=N                                   older pages (RFC 5005 paged feeds)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from syndicate import __version__
from syndicate.config import Config
from syndicate.formats.spec import CONTENT_TYPES, FORMATS, FeedFormat, FeedSpec, PageLinks
from syndicate.models import Article
from syndicate.store import Scope, ScopeKind, Store
from syndicate.web.cache import NotFound

#: URL folder of each scope kind.
FOLDERS: dict[ScopeKind, str] = {
    "section": "sections",
    "author": "authors",
    "issue": "issues",
    "tag": "tags",
}
EXTENSIONS: dict[FeedFormat, str] = {"atom": "atom", "rss": "rss", "json": "json"}
GENERATOR_URI = "https://pypi.org/project/syndicate/"


def feed_path(scope: Scope, fmt: FeedFormat, page: int = 1) -> str:
    """The path of a feed page; page 1 has no query, so it has one URL only."""
    base = "/feed" if scope.kind == "site" else f"/{FOLDERS[scope.kind]}/{scope.key}/feed"
    return f"{base}.{EXTENSIONS[fmt]}" + (f"?page={page}" if page > 1 else "")


def html_path(scope: Scope) -> str:
    """The publication's own page for a scope, which feeds link to as 'alternate'."""
    return "/" if scope.kind == "site" else f"/{FOLDERS[scope.kind]}/{scope.key}"


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
    config: Config, scope: Scope, fmt: FeedFormat, page: int, last: int, info: ScopeInfo
) -> FeedSpec:
    site = config.site
    root = site.root

    def url(p: int, f: FeedFormat = fmt) -> str:
        return root + feed_path(scope, f, p)

    pages = PageLinks(
        first=url(1),
        last=url(last),
        previous=url(page - 1) if page > 1 else None,
        next=url(page + 1) if page < last else None,
    )
    feed_key = "site" if scope.kind == "site" else f"{scope.kind}:{scope.key}"
    return FeedSpec(
        id=f"tag:{site.tag_authority}:feed:{feed_key}",
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
        alternates=tuple((f, url(page, f)) for f in FORMATS if f != fmt),
        section_titles=tuple((s.slug, s.title) for s in config.sections),
    )


def parse_format(name: str) -> FeedFormat:
    if name not in get_args(FeedFormat):
        raise NotFound(f"no feed format {name!r}")
    return name  # type: ignore[return-value]


@dataclass(frozen=True)
class BuiltFeed:
    spec: FeedSpec
    articles: list[Article]
    content_type: str


def collect(
    config: Config, store: Store, scope: Scope, fmt: FeedFormat, page: int, now: datetime
) -> BuiltFeed:
    """Everything a builder needs for one feed page, read from the store in one go."""
    info = describe(config, store, scope)
    per_page = config.feeds.items
    last = page_count(store.count_visible(scope, now), per_page)
    if page > last:
        raise NotFound(f"page {page} is past the last page ({last})")
    articles = store.latest(scope, now, per_page, (page - 1) * per_page)
    spec = make_spec(config, scope, fmt, page, last, info)
    return BuiltFeed(spec, articles, CONTENT_TYPES[fmt])
