"""What the three feed formats share: one cleaned view of the feed and its entries.

Every builder maps the same :class:`FeedView` onto its format, so a title is
cleaned, a URL resolved and a date normalised the same way in RSS, Atom and
JSON Feed, and there is one place to fix when a reader complains. Nothing here
reads the clock, the store or the network: a view is a pure function of the
:class:`~syndicate.build.spec.FeedSpec` and the articles.

Specifications followed here (the format modules cite their own):

* XML 1.0 (Fifth Edition) section 2.2 for the characters a document may hold;
  :func:`syndicate.text.xml_safe` is the one door, and every string a builder
  writes comes out of this module having passed through it.
* RFC 3986 section 5 for resolving relative references (``urljoin``, with
  fast paths that give the same results for the common shapes).
* WHATWG HTML, "Tokenization" (attribute syntax) and the ``srcset`` parsing
  algorithm, followed closely enough that :func:`absolutize_html` finds the
  URL attributes browsers would, and never raises on broken markup.
* RFC 3339 for the dates JSON Feed and Atom carry.
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote, urljoin, urlsplit

from lxml import etree

from syndicate.build.spec import FeedFormat, FeedSpec, PageLinks, entry_id, permalink
from syndicate.models import Article
from syndicate.text import collapse_whitespace, xml_safe

#: The feed date used when there are no articles to take one from. Atom
#: requires <updated> and feedgen always writes RSS <lastBuildDate>; the Unix
#: epoch is deterministic (same store, same bytes, same ETag) and plainly
#: means "nothing yet" to anyone reading it, where the clock would change the
#: bytes on every build.
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

#: Media types without parameters, for link ``type`` attributes.
FEED_MEDIA_TYPES: Final[dict[FeedFormat, str]] = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}

PDF_TYPE: Final = "application/pdf"
ATOM_NS: Final = "http://www.w3.org/2005/Atom"
#: Media RSS (https://www.rssboard.org/media-rss), for the lead image.
MEDIA_NS: Final = "http://search.yahoo.com/mrss/"
#: Dublin Core elements (https://www.dublincore.org/specifications/dublin-core/dces/).
DC_NS: Final = "http://purl.org/dc/elements/1.1/"
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
    """One-line text (titles, names, labels): safe, with whitespace runs folded."""
    return collapse_whitespace(xml_safe(text))


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


def newest_update(articles: Sequence[Article]) -> datetime:
    """The feed's own date: the newest ``updated`` among its articles, else :data:`EPOCH`.

    Taken from the data, never from the clock, so the same articles give the
    same bytes and the same ETag (DESIGN.md, "Dates come from the data").
    """
    return max((utc(article.updated) for article in articles), default=EPOCH)


# --- URLs -------------------------------------------------------------------

# ASCII whitespace, the only whitespace HTML and URLs trim or split on.
_WS = "\t\n\f\r "
# A URL that names its own scheme (http:, mailto:, data:, javascript:...) is
# never touched: it is absolute already, or not ours to rewrite.
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def site_scheme(spec: FeedSpec) -> str:
    """The scheme protocol-relative URLs get: the site's own, else https."""
    try:
        scheme = urlsplit(spec.site_root).scheme
    except ValueError:
        scheme = ""
    return scheme or "https"


class _Resolver:
    """Resolves URL references against one base (RFC 3986 section 5.2).

    ``urljoin`` is correct but slow (several microseconds a call), and a feed
    resolves every link of every body. The shapes that make up nearly all of
    them, root-relative paths (``/media/x.jpg``), in-page fragments
    (``#note-1``) and plain relative paths (``photo.jpg``, ``notes/1``), are
    resolved by concatenation when they hold no dot segments, which is
    exactly what section 5.2's algorithm gives for them. Everything else
    (``../x``, ``?page=2``, odd bases) goes to ``urljoin``.
    """

    __slots__ = ("_base", "_directory", "_origin", "_page", "_scheme")

    def __init__(self, base: str, scheme: str) -> None:
        self._base = base
        self._scheme = scheme
        self._origin: str | None = None
        self._page: str | None = None
        self._directory: str | None = None
        try:
            parts = urlsplit(base)
        except ValueError:
            return
        if parts.scheme and parts.netloc:
            self._origin = f"{parts.scheme}://{parts.netloc}"
            self._page = base.split("#", 1)[0]
            path = parts.path or "/"
            self._directory = self._origin + path[: path.rfind("/") + 1]

    def __call__(self, url: str) -> str:
        ref = url.strip(_WS)
        if not ref or _HAS_SCHEME.match(ref):
            return url
        if ref.startswith("//"):
            return f"{self._scheme}:{ref}"
        if self._origin is not None:
            if ref[0] == "#":
                return f"{self._page}{ref}"
            path = ref.split("?", 1)[0].split("#", 1)[0]
            if ref[0] not in "?." and "/." not in path and "\\" not in path:
                return (self._origin if ref[0] == "/" else f"{self._directory}") + ref
        try:
            return urljoin(self._base, ref)
        except ValueError:
            return url


def absolute_url(url: str, base: str, scheme: str = "https") -> str:
    """Resolve one URL reference against ``base`` (RFC 3986 section 5).

    Already-absolute URLs and any other scheme (mailto:, data:, javascript:)
    come back unchanged; ``//host/path`` gets ``scheme`` so that readers which
    show the entry outside a web page can still follow it. Empty references
    and references ``urljoin`` cannot parse come back unchanged too: a feed
    with one odd link is better than no feed.
    """
    return _Resolver(base, scheme)(url)


# HTML tokenizer pieces (WHATWG HTML 13.2.5): only ASCII whitespace separates
# attributes, an attribute name runs up to whitespace, "/", ">" or "=", and an
# unquoted value up to whitespace or ">". An unterminated quoted value runs to
# the end of the text, as in a browser.
def _attribute_pattern(named: bool) -> str:
    def group(name: str, body: str) -> str:
        return f"(?P<{name}>{body})" if named else f"(?:{body})"

    return (
        group("lead", f"[{_WS}/]*+")
        + group("name", f"[^{_WS}/>][^{_WS}/>=]*+")
        + "(?:"
        + group("eq", f"[{_WS}]*+=[{_WS}]*+")
        + group("value", f"\"[^\"]*+\"?|'[^']*+'?|[^{_WS}>]*+")
        + ")?"
    )


_ATTRIBUTE = re.compile(_attribute_pattern(named=True))
_TAG_ATTRIBUTES = f"(?:{_attribute_pattern(named=False)})*+[{_WS}/]*+>?"
# Text elements whose content is not markup: a "<img src>" inside a script or
# a textarea is text, and is left alone.
_RAW_TEXT = "script|style|textarea|title|xmp|iframe|noembed|noframes|plaintext"
# One "<" per alternative would make the engine try five alternatives at every
# character of text; factoring it out (and keeping IGNORECASE to the element
# names) makes the scan several times faster.
_MARKUP = re.compile(
    "<(?:"
    "(?P<comment>!--(?:-?>|.*?(?:--!?>|\\Z)))"
    "|(?P<bogus>(?:[!?]|/(?![A-Za-z]))[^>]*+>?)"
    f"|(?P<end>/[A-Za-z][^{_WS}/>]*+{_TAG_ATTRIBUTES})"
    f"|(?P<raw>(?i:{_RAW_TEXT}))(?=[{_WS}/>]|\\Z)(?P<rawattrs>{_TAG_ATTRIBUTES})"
    f"(?P<rawtext>.*?)(?=(?i:</(?P=raw))(?:[{_WS}/>]|\\Z)|\\Z)"
    f"|(?P<tag>[A-Za-z][^{_WS}/>]*+)(?P<attrs>{_TAG_ATTRIBUTES})"
    ")",
    re.DOTALL,
)
# Characters that would end or break an unquoted attribute value.
_UNQUOTED_UNSAFE = re.compile(f"[{_WS}\"'=<>`]")
#: Attributes whose value is one URL.
_URL_ATTRIBUTES: Final = frozenset({"href", "src", "poster", "cite", "xlink:href"})
# Cheap pre-check: a body with none of these has nothing to rewrite.
_MAY_HAVE_URL = re.compile(r"href|src|poster|cite", re.IGNORECASE)


def _reference_unsafe(value: str) -> str:
    """Write characters :func:`xml_safe` would drop as HTML character references.

    An attribute value is unescaped before it is resolved, so ``&#12;`` comes
    out as a raw form feed, which XML 1.0 forbids; written back as ``&#12;``
    it means the same to the HTML reader and is plain text to the XML one.
    """
    if xml_safe(value) == value:
        return value
    return "".join(c if xml_safe(c) else f"&#{ord(c)};" for c in value)


def _resolve_srcset(value: str, resolve: Callable[[str], str]) -> str:
    """Resolve every URL of a ``srcset`` and keep everything else as written.

    Follows the shape of the HTML "parse a srcset attribute" algorithm:
    candidates are separated by commas, a URL runs to the next whitespace
    (trailing commas end it), and descriptors run to the next comma that is
    not inside parentheses.
    """
    out: list[str] = []
    pos, end = 0, len(value)
    while pos < end:
        start = pos
        while pos < end and (value[pos] in _WS or value[pos] == ","):
            pos += 1
        out.append(value[start:pos])
        if pos >= end:
            break
        start = pos
        while pos < end and value[pos] not in _WS:
            pos += 1
        url = value[start:pos]
        bare = url.rstrip(",")
        out.append(resolve(bare) + url[len(bare) :])
        if bare != url:
            continue
        start, depth = pos, 0
        while pos < end and not (value[pos] == "," and depth == 0):
            if value[pos] == "(":
                depth += 1
            elif value[pos] == ")":
                depth = max(0, depth - 1)
            pos += 1
        out.append(value[start:pos])
    return "".join(out)


def absolutize_html(fragment: str, base: str, scheme: str = "https") -> str:
    """Make every relative ``href``, ``src``, ``srcset``, ``poster`` and ``cite`` absolute.

    Many feed readers ignore ``xml:base`` and show an article away from its
    page, where ``<img src="/media/x.jpg">`` is a broken image; so the URLs are
    resolved against the article's permalink before the body goes out.

    Only those attribute values change. The fragment is not parsed into a tree
    and written back (which would re-indent, re-quote and "fix" markup the
    editors wrote on purpose); a tokenizer modelled on HTML's finds the tags,
    skips comments and the text of script/style/textarea, and rewrites values
    in place. Broken HTML (unclosed tags, stray quotes, unterminated comments)
    never raises: at worst a URL inside the broken part is left as it was.
    """
    if not _MAY_HAVE_URL.search(fragment):
        return fragment

    resolve = _Resolver(base, scheme)

    def rewrite_attribute(match: re.Match[str]) -> str:
        raw = match["value"]
        name = match["name"].lower()
        if raw is None or (name not in _URL_ATTRIBUTES and name != "srcset"):
            return match[0]
        quote_char = raw[0] if raw[:1] in ("'", '"') else ""
        closed = bool(quote_char) and len(raw) > 1 and raw.endswith(quote_char)
        inner = raw[1 : len(raw) - closed] if quote_char else raw
        value = html.unescape(inner)
        new = _resolve_srcset(value, resolve) if name == "srcset" else resolve(value)
        if new == value:
            return match[0]
        escaped = _reference_unsafe(new.replace("&", "&amp;"))
        if not quote_char and _UNQUOTED_UNSAFE.search(escaped):
            quote_char, closed = '"', True
        if quote_char:
            escaped = escaped.replace(quote_char, "&quot;" if quote_char == '"' else "&#39;")
            escaped = quote_char + escaped + (quote_char if closed else "")
        return f"{match['lead']}{match['name']}{match['eq']}{escaped}"

    def rewrite_tag(match: re.Match[str]) -> str:
        if match["tag"] is not None:
            attrs = match["attrs"]
            if not _MAY_HAVE_URL.search(attrs):
                return match[0]
            return f"<{match['tag']}{_ATTRIBUTE.sub(rewrite_attribute, attrs)}"
        if match["raw"] is not None:
            attrs = _ATTRIBUTE.sub(rewrite_attribute, match["rawattrs"])
            return f"<{match['raw']}{attrs}{match['rawtext']}"
        return match[0]

    return _MARKUP.sub(rewrite_tag, fragment)


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


def author_uri(spec: FeedSpec, slug: str) -> str | None:
    """The author's page on this site, where their feed is advertised."""
    slug = clean_line(slug)
    if not slug:
        return None
    return xml_safe(f"{spec.site_root}/authors/{quote(slug, safe='')}")


def bylines(spec: FeedSpec, article: Article) -> tuple[Person, ...]:
    """Every byline in order; a nameless author is shown by slug, an empty one dropped."""
    people: list[Person] = []
    for author in article.authors:
        name = clean_line(author.name) or clean_line(author.slug)
        if name:
            people.append(Person(name=name, uri=author_uri(spec, author.slug)))
    return tuple(people)


def categories(spec: FeedSpec, article: Article) -> tuple[Category, ...]:
    """The section first, then the tags, each with a scheme naming which it is.

    The scheme is the URL prefix of the listing (``/sections/``, ``/tags/``),
    so a reader can tell the section "Books" from the tag "books".
    """
    found: list[Category] = []
    section = clean_line(article.section or "")
    if section:
        label = clean_line(dict(spec.section_titles).get(article.section or "", "")) or section
        found.append(Category(section, label, xml_safe(f"{spec.site_root}/sections/")))
    for tag in article.tags:
        term = clean_line(tag.slug)
        label = clean_line(tag.name) or term
        if term or label:
            found.append(Category(term or label, label, xml_safe(f"{spec.site_root}/tags/")))
    return tuple(found)


def _feed_body(body: str, url: str, scheme: str) -> str | None:
    """The body as feeds carry it: XML-safe, every relative URL made absolute.

    (prepare_entry remembers the result per article, so this runs once per
    change of an article, not once per feed it appears in.)"""
    cleaned = xml_safe(body)
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
    url = xml_safe(permalink(spec, article.slug, article.id))
    scheme = site_scheme(spec)
    content: str | None = None
    if spec.content == "full":
        content = _feed_body(article.body, url, scheme)
    image: LeadImage | None = None
    if article.image is not None and clean_text(article.image.url):
        image = LeadImage(
            url=absolute_url(clean_text(article.image.url), url, scheme),
            description=clean_line(article.image.caption) or clean_line(article.image.alt),
        )
    enclosure: Enclosure | None = None
    issue = article.issue
    pdf_url = clean_text(issue.pdf_url or "") if enclosures and issue is not None else ""
    if issue is not None and pdf_url:
        enclosure = Enclosure(
            url=absolute_url(pdf_url, url, scheme),
            mime_type=PDF_TYPE,
            title=f"Print issue {issue.number}",
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
    html_url = (
        clean_text(spec.html_url) or clean_text(spec.site_root) or clean_text(spec.self_url) or "/"
    )
    self_url = clean_text(spec.self_url) or html_url
    title = clean_line(spec.title) or html_url or UNTITLED
    subtitle = clean_line(spec.subtitle)
    root = clean_text(spec.site_root) or html_url

    def asset(url: str) -> str:
        cleaned = clean_text(url)
        return absolute_url(cleaned, root + "/", scheme) if cleaned else ""

    pages = spec.pages
    if pages is not None:
        pages = PageLinks(
            first=clean_text(pages.first),
            last=clean_text(pages.last),
            previous=clean_text(pages.previous) if pages.previous else None,
            next=clean_text(pages.next) if pages.next else None,
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
        generator_uri=clean_text(spec.generator_uri),
        updated=newest_update(articles),
        pages=pages,
        hub_url=clean_text(spec.hub_url or "") or None,
        alternates=tuple((fmt, clean_text(url)) for fmt, url in spec.alternates if clean_text(url)),
        entries=tuple(prepare_entry(spec, a, enclosures=enclosures) for a in articles),
    )


# --- feedgen glue -------------------------------------------------------------


class FeedgenHook:
    """A feedgen extension that runs one function on the element it is handed.

    feedgen's extension protocol (``extend_ns``, ``extend_rss``,
    ``extend_atom``) is how its documents take elements feedgen does not know:
    the RSS channel's paging and hub links, ``dc:creator`` and
    ``media:content``. feedgen instantiates an extension class with no
    arguments, so the builders register ``functools.partial(FeedgenHook,
    namespaces, write)``. The namespaces of a feed-level hook are declared on
    the root element, once, instead of on every item.
    """

    def __init__(
        self,
        namespaces: dict[str, str],
        write: Callable[[etree._Element], None] | None = None,
    ) -> None:
        self._namespaces = namespaces
        self._write = write

    def extend_ns(self) -> dict[str, str]:
        return dict(self._namespaces)

    def extend_rss(self, element: etree._Element) -> etree._Element:
        if self._write is not None:
            self._write(element)
        return element

    def extend_atom(self, element: etree._Element) -> etree._Element:
        return self.extend_rss(element)


def add_media_content(parent: etree._Element, image: LeadImage) -> None:
    """The lead image as Media RSS ``<media:content medium="image">``.

    feedgen's own media extension has no ``media:description``, which is where
    readers look for the caption, so this is written by hand.
    """
    content = etree.SubElement(parent, f"{{{MEDIA_NS}}}content", url=image.url, medium="image")
    if image.description:
        description = etree.SubElement(content, f"{{{MEDIA_NS}}}description", type="plain")
        description.text = image.description
