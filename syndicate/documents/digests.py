"""A digest's documents: its feed (an item per edition) and each edition's pages.

Everything here reads frozen editions (syndicate.documents.editions froze
them), never articles, so these bytes change only when a new edition is
frozen or the digest's own settings (its title) change.

Feed items, in every format:

* the ID is a tag: URI (RFC 4151) from the digest's slug and the edition's
  date (:func:`syndicate.catalog.edition_id`), the same in RSS, Atom and JSON
  Feed, and never different for the same edition;
* the link is the edition's email page, the title the digest's name and the
  edition's date, the summary a plain-text list of its headlines, and the
  content the edition's email-safe HTML;
* published and updated are the cut-off: an edition never changes after it;
* there is no byline (a digest has many); Atom and JSON Feed name the digest
  at feed level instead (RFC 4287 section 4.1.1).

Newest first, paged like every feed (RFC 5005 section 3), but ten to a page.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from syndicate.catalog import (
    CONTENT_TYPES,
    KINDS,
    DocKey,
    document_path,
    edition_id,
    edition_path,
)
from syndicate.config import Config, DigestConfig
from syndicate.cutoffs import parse_edition_date
from syndicate.documents.feeds import ScopeInfo, make_spec, page_count, parse_format
from syndicate.documents.headers import cache_headers
from syndicate.documents.rendered import NotFound, Rendered, etag_of
from syndicate.formats.render import render_view
from syndicate.formats.urls import to_uri
from syndicate.formats.view import EntryView, FeedView, clean_line, prepare, utc
from syndicate.store import Store
from syndicate.store.digests import Edition, edition, edition_count, editions
from syndicate.store.published import changed_at, scope_changed_at
from syndicate.text import xml_safe

HTML_TYPE = "text/html; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
#: Editions per feed page (fewer than ``feeds.items`` articles when that is
#: lower): each item is a whole email of up to ``max_articles`` stories, tens
#: of kilobytes, and RSS-to-email services only ever read the newest.
EDITIONS_PER_PAGE = 10


def _digest(config: Config, slug: str) -> DigestConfig:
    found = config.digest(slug)
    if found is None:
        raise NotFound(f"no digest {slug!r}")
    return found


def describe(config: Config, digest: DigestConfig) -> ScopeInfo:
    """The digest feed's title and subtitle."""
    when = f"{digest.day.capitalize()}s" if digest.schedule == "weekly" else "Every day"
    cut = f"{when} at {digest.time} ({digest.time_zone})"
    subtitle = clean_line(digest.lead) or f"{digest.title}: an edition of {config.site.title}"
    return ScopeInfo(f"{digest.title} | {config.site.title}", f"{subtitle}. {cut}.")


def entry(config: Config, kept: Edition) -> EntryView:
    """One edition as a feed item (see the module notes)."""
    day = kept.edition.isoformat()
    at = utc(kept.cutoff)
    return EntryView(
        id=xml_safe(edition_id(config.site.tag_authority, kept.slug, day)),
        url=to_uri(xml_safe(config.site.root + edition_path(kept.slug, day))),
        title=clean_line(kept.title) or day,
        summary=clean_line(kept.summary),
        content_html=xml_safe(kept.content_html) or None,
        published=at,
        updated=at,
        authors=(),
        categories=(),
        image=None,
        enclosure=None,
    )


def build_digest_feed(config: Config, store: Store, key: DocKey, now: datetime) -> Rendered:
    """One page of a digest's feed, from its frozen editions (runs in a worker thread)."""
    fmt = parse_format(key.fmt)
    body = render_view(fmt, digest_view(config, store, key))
    etag = etag_of(body)
    modified = changed_at(store, document_path(key), etag, now)
    feeds = config.feeds
    headers = cache_headers(
        CONTENT_TYPES[fmt],
        max_age=feeds.max_age,
        stale_while_revalidate=feeds.stale_while_revalidate,
        last_modified=modified,
        browsers=True,
    )
    return Rendered(body, CONTENT_TYPES[fmt], modified, headers, etag=etag)


def digest_view(config: Config, store: Store, key: DocKey) -> FeedView:
    """What one page of a digest's feed says, ready for any format or the browser page."""
    fmt = parse_format(key.fmt)
    scope = key.scope
    digest = _digest(config, scope.key)
    per_page = min(config.feeds.items, EDITIONS_PER_PAGE)
    last = page_count(edition_count(store, digest.slug), per_page)
    if key.page > last:
        raise NotFound(f"page {key.page} is past the last page ({last})")
    kept = editions(store, digest.slug, per_page, (key.page - 1) * per_page)
    empty = None if kept else scope_changed_at(store, scope)
    spec = make_spec(config, scope, fmt, key.page, last, describe(config, digest), empty)
    view = prepare(spec, [], enclosures=KINDS["digest"].enclosures)
    entries = tuple(entry(config, e) for e in kept)
    if entries:
        view = replace(view, entries=entries, updated=max(e.updated for e in entries))
    return view


def build_edition_page(config: Config, store: Store, key: DocKey, now: datetime) -> Rendered:
    """An edition's email page (``html``) or plain text (``txt``): its frozen bytes."""
    digest = _digest(config, key.scope.key)
    day = parse_edition_date(key.edition)
    kept = edition(store, digest.slug, day) if day is not None else None
    if kept is None:
        raise NotFound(f"no edition {key.edition!r} of digest {digest.slug!r}")
    modified = kept.frozen_at or kept.cutoff
    feeds = config.feeds
    if key.fmt == "txt":
        body, content_type, page = kept.page_text.encode("utf-8"), TEXT_TYPE, None
    elif key.fmt == "html":
        body, content_type, page = kept.page_html.encode("utf-8"), HTML_TYPE, kept.page_html
    else:
        raise NotFound(f"no edition format {key.fmt!r}")
    headers = cache_headers(
        content_type,
        max_age=feeds.max_age,
        stale_while_revalidate=feeds.stale_while_revalidate,
        last_modified=modified,
        page=page,
        images=True,
    )
    return Rendered(body, content_type, modified, headers)
