"""What the three feed formats share: one cleaned view of the feed and its entries.

Every builder maps the same :class:`FeedView` onto its format, so a title is
cleaned, a URL resolved and a date normalised the same way in RSS, Atom and
JSON Feed, and there is one place to fix when a reader complains. Nothing here
reads the clock, the store or the network: a view is a pure function of the
:class:`~syndicate.formats.spec.FeedSpec` and the articles.

Specifications followed here (the format modules cite their own):

* XML 1.0 (Fifth Edition) section 2.2 for the characters a document may hold;
  :func:`syndicate.text.xml_safe` is the one door, and every string a builder
  writes comes out of this module having passed through it.
* RFC 3339 for the dates JSON Feed and Atom carry.
* URLs are resolved by :mod:`syndicate.formats.urls` (RFC 3986 section 5),
  and every URL a view hands a builder has passed :func:`~syndicate.formats.urls.to_uri`
  (RFC 3986 sections 2-3): a valid URI in every format, whatever the store or
  the config holds. Entry and feed IDs are not rewritten: they must never
  change, and they come from the tag authority and numbers.
* Bodies are sanitised by :mod:`syndicate.sanitize` (WHATWG HTML elements,
  the W3C Feed Validation Service's "potentially dangerous content").
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote, urlsplit

from syndicate.catalog import KINDS, MEDIA_TYPES
from syndicate.formats.spec import (
    ArchiveLinks,
    FeedFormat,
    FeedSpec,
    PageLinks,
    entry_id,
    permalink,
)
from syndicate.formats.urls import absolute_url, absolutize_html, to_uri
from syndicate.models import Article, ScopeKind
from syndicate.sanitize import sanitize_html
from syndicate.text import collapse_whitespace, strip_bidi_controls, xml_safe

#: The feed date used when there are no articles to take one from. Atom
#: requires <updated> and feedgen always writes RSS <lastBuildDate>; the Unix
#: epoch is deterministic (same store, same bytes, same ETag) and plainly
#: means "nothing yet" to anyone reading it, where the clock would change the
#: bytes on every build.
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

#: Media types without parameters, for link ``type`` attributes.
FEED_MEDIA_TYPES: Final[dict[FeedFormat, str]] = MEDIA_TYPES

PDF_TYPE: Final = "application/pdf"
UNTITLED: Final = "Untitled"
#: How much of the standfirst stands in for a missing headline.
TITLE_FALLBACK_LENGTH: Final = 100

# RFC 3066 language tags, exactly the pattern Atom's schema checks xml:lang
# against (RFC 4287 Appendix B, atomLanguageTag); a value that does not match
# is dropped rather than making the whole Atom document invalid.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


# --- text -------------------------------------------------------------------


def clean_text(text: str) -> str:
    """Multi-line text made safe for any document: illegal characters out, ends trimmed."""
    return xml_safe(text).strip()


def clean_line(text: str) -> str:
    """One-line text (titles, names, labels): safe, with whitespace runs folded.

    Bidirectional embeddings, overrides and isolates are dropped as well
    (:func:`syndicate.text.strip_bidi_controls`): the importer and the API
    drop them already, but a CMS may write the store directly, and a
    right-to-left override in a headline would reverse it in every reader.
    """
    return collapse_whitespace(strip_bidi_controls(xml_safe(text)))


def language_tag(text: str) -> str | None:
    """The language as an RFC 3066 tag, or None when it is not one.

    Atom validators reject the whole feed over a malformed ``xml:lang``; a
    missing language costs nothing, so a bad one is left out everywhere.
    """
    tag = clean_line(text)
    return tag if _LANGUAGE_TAG.fullmatch(tag) else None


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary when there is one."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip() + "\u2026"


# --- dates ------------------------------------------------------------------


def utc(moment: datetime) -> datetime:
    """The moment in UTC; a naive datetime is taken to be UTC already.

    The store only ever hands out UTC-aware datetimes; treating naive ones as
    UTC (the store's convention) keeps a hand-made article from crashing a
    build in feedgen, which refuses naive datetimes.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, the spelling JSON Feed readers all accept."""
    return utc(moment).isoformat().replace("+00:00", "Z")


def newest_update(articles: Sequence[Article], empty: datetime | None = None) -> datetime:
    """The feed's own date: the newest ``updated`` among its articles.

    A feed with no article yet takes ``empty`` (when its scope last changed),
    else :data:`EPOCH`. Taken from the data, never from the clock, so the same
    store gives the same bytes and the same ETag (DESIGN.md, "Dates come from
    the data").
    """
    fallback = utc(empty) if empty is not None else EPOCH
    return max((utc(article.updated) for article in articles), default=fallback)


# --- URLs -------------------------------------------------------------------


def site_scheme(spec: FeedSpec) -> str:
    """The scheme protocol-relative URLs get: the site's own, else https."""
    try:
        scheme = urlsplit(spec.site_root).scheme
    except ValueError:
        scheme = ""
    return scheme or "https"


# --- the view ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """One byline: a name (never empty) and, when the slug allows, the author's page."""

    name: str
    uri: str | None


@dataclass(frozen=True, slots=True)
class Category:
    """A section or tag: ``term`` for machines, ``label`` for people, ``scheme`` says which."""

    term: str
    label: str
    scheme: str


@dataclass(frozen=True, slots=True)
class LeadImage:
    url: str
    #: The caption, or the alt text when there is no caption; may be empty.
    description: str


@dataclass(frozen=True, slots=True)
class Enclosure:
    url: str
    mime_type: str
    title: str
    #: Size in bytes, None when the CMS did not say.
    length: int | None = None


@dataclass(frozen=True, slots=True)
class EntryView:
    """One article, cleaned and resolved, ready for any format."""

    id: str
    url: str
    title: str
    #: The standfirst as plain text; may be empty.
    summary: str
    #: The body with absolute URLs, or None (summary-only feed, or no body).
    content_html: str | None
    published: datetime
    updated: datetime
    authors: tuple[Person, ...]
    categories: tuple[Category, ...]
    image: LeadImage | None
    enclosure: Enclosure | None


@dataclass(frozen=True, slots=True)
class FeedView:
    """The feed-level fields, cleaned, with the required ones never empty."""

    id: str
    title: str
    #: Never empty: RSS requires a channel description, so it falls back to the title.
    description: str
    #: The subtitle as given (may be empty; Atom and JSON Feed then leave it out).
    subtitle: str
    self_url: str
    html_url: str
    language: str | None
    rights: str
    icon: str
    logo: str
    generator: str
    generator_version: str
    generator_uri: str
    updated: datetime
    pages: PageLinks | None
    archives: ArchiveLinks | None
    hub_url: str | None
    alternates: tuple[tuple[FeedFormat, str], ...]
    entries: tuple[EntryView, ...]


def entry_title(article: Article) -> str:
    """The headline as one line of text; never empty, since Atom and RSS need one.

    An empty headline falls back to the start of the standfirst, then to
    :data:`UNTITLED`. Markup in a headline stays text: the serializer escapes
    it, and no reader is asked to interpret it.
    """
    title = clean_line(article.title)
    if title:
        return title
    standfirst = clean_line(article.standfirst)
    if standfirst:
        return truncate(standfirst, TITLE_FALLBACK_LENGTH)
    return UNTITLED


def byline(people: Sequence[Person]) -> str:
    """Every name of a byline in one line, as the article page prints it.

    "Simon Assaf", "Simon Assaf and Salma Haddad", "A, B and C": the form
    WordPress's co-author plugins write into one ``dc:creator``, and the one
    feed readers that keep a single author per item (newsboat and reader
    with RSS, reader and rss2email with Atom) still show in full. Readers
    that split authors at commas (reader) keep every name too.
    """
    names = [person.name for person in people]
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def author_uri(spec: FeedSpec, slug: str) -> str | None:
    """The author's page on this site, where their feed is advertised."""
    slug = clean_line(slug)
    if not slug:
        return None
    return to_uri(xml_safe(f"{spec.site_root}/{KINDS['author'].folder}/{quote(slug, safe='')}"))


def bylines(spec: FeedSpec, article: Article) -> tuple[Person, ...]:
    """Every byline in order; a nameless author is shown by slug, an empty one dropped."""
    people: list[Person] = []
    for author in article.authors:
        name = clean_line(author.name) or clean_line(author.slug)
        if name:
            people.append(Person(name=name, uri=author_uri(spec, author.slug)))
    return tuple(people)


def _listing(spec: FeedSpec, kind: ScopeKind) -> str:
    """The URL prefix of a kind's listings, the scheme of its categories."""
    return to_uri(xml_safe(f"{spec.site_root}/{KINDS[kind].folder}/"))


def categories(spec: FeedSpec, article: Article) -> tuple[Category, ...]:
    """The section first, then the tags, each with a scheme naming which it is.

    The scheme is the URL prefix of the listing (``/sections/``, ``/tags/``),
    so a reader can tell the section "Books" from the tag "books".
    """
    found: list[Category] = []
    section = clean_line(article.section or "")
    if section:
        label = clean_line(dict(spec.section_titles).get(article.section or "", "")) or section
        found.append(Category(section, label, _listing(spec, "section")))
    for tag in article.tags:
        term = clean_line(tag.slug)
        label = clean_line(tag.name) or term
        if term or label:
            found.append(Category(term or label, label, _listing(spec, "tag")))
    return tuple(found)


def _feed_body(body: str, url: str, scheme: str, embed_hosts: frozenset[str]) -> str | None:
    """The body as feeds carry it: XML-safe, sanitised, every relative URL made absolute.

    Sanitising (:func:`syndicate.sanitize.sanitize_html`: the allow-list of
    elements, attributes and URL schemes) comes before absolutizing, which
    only rewrites the URLs the sanitiser kept. (prepare_entry remembers the
    result per article, so this runs once per change of an article, not once
    per feed it appears in.)"""
    cleaned = xml_safe(body)
    if not cleaned.strip():
        return None
    cleaned = sanitize_html(cleaned, embed_hosts=embed_hosts)
    if not cleaned.strip():
        return None
    # xml_safe again: the one door is the last thing every string passes.
    return xml_safe(absolutize_html(cleaned, url, scheme))


_PREPARED_LOCK = threading.Lock()
_PREPARED: OrderedDict[tuple[object, ...], EntryView] = OrderedDict()
_PREPARED_MAX = 4000


def forget_prepared() -> None:
    """Drop every remembered entry (benchmarks and tests: a truly cold build)."""
    with _PREPARED_LOCK:
        _PREPARED.clear()


def prepare_entry(spec: FeedSpec, article: Article, *, enclosures: bool = True) -> EntryView:
    """_prepare_entry, remembered per article and the spec fields an entry depends on.

    One article sits in up to a dozen feeds (site, section, authors, tags,
    issue, in three formats); cleaning and absolutizing its body once per
    change instead of once per feed is most of a cold build.
    """
    key = (
        article,
        spec.site_root,
        spec.article_path,
        spec.tag_authority,
        spec.content,
        spec.section_titles,
        spec.embed_hosts,
        enclosures,
    )
    with _PREPARED_LOCK:
        found = _PREPARED.get(key)
        if found is not None:
            _PREPARED.move_to_end(key)
            return found
    found = _prepare_entry(spec, article, enclosures=enclosures)
    with _PREPARED_LOCK:
        _PREPARED[key] = found
        while len(_PREPARED) > _PREPARED_MAX:
            _PREPARED.popitem(last=False)
    return found


def _prepare_entry(spec: FeedSpec, article: Article, *, enclosures: bool = True) -> EntryView:
    """Clean and resolve one article; the format modules only rearrange the result."""
    url = to_uri(xml_safe(permalink(spec, article.slug, article.id)))
    scheme = site_scheme(spec)
    content: str | None = None
    if spec.content == "full":
        content = _feed_body(article.body, url, scheme, spec.embed_hosts)
    image: LeadImage | None = None
    if article.image is not None and clean_text(article.image.url):
        image = LeadImage(
            url=to_uri(absolute_url(clean_text(article.image.url), url, scheme)),
            description=clean_line(article.image.caption) or clean_line(article.image.alt),
        )
    enclosure: Enclosure | None = None
    issue = article.issue
    pdf_url = clean_text(issue.pdf_url or "") if enclosures and issue is not None else ""
    if issue is not None and pdf_url:
        enclosure = Enclosure(
            url=to_uri(absolute_url(pdf_url, url, scheme)),
            mime_type=PDF_TYPE,
            title=f"Print issue {issue.number}",
            length=issue.pdf_length,
        )
    return EntryView(
        id=xml_safe(entry_id(spec, article.id)),
        url=url,
        title=entry_title(article),
        summary=clean_line(article.standfirst),
        content_html=content,
        published=utc(article.published),
        updated=utc(article.updated),
        authors=bylines(spec, article),
        categories=categories(spec, article),
        image=image,
        enclosure=enclosure,
    )


def prepare(spec: FeedSpec, articles: Sequence[Article], *, enclosures: bool = True) -> FeedView:
    """The whole feed as one cleaned view, entries in the order given (newest first).

    Required fields never come out empty, whatever the spec holds: an empty
    title falls back to the page URL, an empty description to the title, an
    empty ID to the feed's own URL, an empty page URL to the site root (and,
    for a spec with no usable URL at all, to "/"). feedgen raises on missing
    ones, and a feed that fails to build is a 500 for every reader.
    """
    scheme = site_scheme(spec)
    html_url = to_uri(
        clean_text(spec.html_url) or clean_text(spec.site_root) or clean_text(spec.self_url) or "/"
    )
    self_url = to_uri(clean_text(spec.self_url)) or html_url
    title = clean_line(spec.title) or html_url or UNTITLED
    subtitle = clean_line(spec.subtitle)
    root = clean_text(spec.site_root) or html_url

    def asset(url: str) -> str:
        cleaned = clean_text(url)
        return to_uri(absolute_url(cleaned, root + "/", scheme)) if cleaned else ""

    def link(url: str | None) -> str:
        return to_uri(clean_text(url or ""))

    pages = spec.pages
    if pages is not None:
        pages = PageLinks(
            first=link(pages.first),
            last=link(pages.last),
            previous=link(pages.previous) or None,
            next=link(pages.next) or None,
        )
    archives = spec.archives
    if archives is not None:
        archives = ArchiveLinks(
            archive=archives.archive,
            current=link(archives.current) or None,
            prev_archive=link(archives.prev_archive) or None,
            next_archive=link(archives.next_archive) or None,
        )
    return FeedView(
        id=clean_text(spec.id) or self_url,
        title=title,
        description=subtitle or title,
        subtitle=subtitle,
        self_url=self_url,
        html_url=html_url,
        language=language_tag(spec.language),
        rights=clean_line(spec.copyright),
        icon=asset(spec.icon),
        logo=asset(spec.logo),
        generator=clean_line(spec.generator),
        generator_version=clean_line(spec.generator_version),
        generator_uri=link(spec.generator_uri),
        updated=newest_update(articles, spec.empty_updated),
        pages=pages,
        archives=archives,
        hub_url=link(spec.hub_url) or None,
        alternates=tuple((fmt, link(url)) for fmt, url in spec.alternates if link(url)),
        entries=tuple(prepare_entry(spec, a, enclosures=enclosures) for a in articles),
    )
