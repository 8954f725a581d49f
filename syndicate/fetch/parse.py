"""Outside feed bytes -> :class:`FeedData`: the parse stage of the fetcher.

Pure and self-contained (no network, no store, no clock), so the runner can
call :func:`parse` in a thread or process pool: it is a plain module-level
function taking and returning picklable values.

Outside documents are broken in the same few ways over and over, so this
module repairs before it parses, rather than rejecting whole feeds:

* The bytes are decoded here (BOM, then the HTTP charset, then the XML
  declaration, then UTF-8, then windows-1252) and handed on as UTF-8, so
  feedparser never guesses.
* The DOCTYPE (with any internal subset) is removed before any XML parser
  sees the document. No entity is ever declared, so neither an expansion
  bomb ("billion laughs") nor an external entity (``file:///etc/passwd``)
  can do anything: there is nothing to expand and nothing to load.
  (feedparser strips entity declarations itself, but with a line-anchored
  regex: a one-line bomb still reaches expat, which stops it only at its
  amplification limit, after seconds and tens of megabytes.)
* HTML named entities (``&eacute;``, ``&nbsp;``), which outside RSS 0.91's
  DTD make a document ill-formed, become numeric references; unknown ones
  and bare ampersands are escaped so they show literally; references to
  characters XML forbids, and raw control characters, are dropped. Without
  this expat gives up, and feedparser's lenient fallback invents
  semicolons ("R&D;"), escapes CDATA a second time, knows no HTML5
  entities and keeps control characters.

feedparser then reads the document from a ``BytesIO`` -- never from
``bytes`` or ``str``: given bytes that name a local file it opens the file,
given a URL string it fetches it -- with sanitising and resolving of
embedded HTML switched off (only titles are kept, and :mod:`.clean` makes
them plain text itself).

Entry IDs must not depend on the URL the feed was fetched from, but given
that URL feedparser resolves permalink GUIDs (and every Atom ``<id>``)
against it. So feedparser is given no base at all unless the document
uses ``xml:base``; links then stay as written and :mod:`.clean` resolves
them against ``EntryData.base``. With ``xml:base``, see :func:`_parse_xml`.

JSON Feed 1.0/1.1, which feedparser 6 cannot read, is handled here with the
json module.
"""

from __future__ import annotations

import codecs
import contextlib
import html
import html.entities
import io
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import urljoin

import feedparser
from lxml import etree

from syndicate.fetch.types import EntryData, FeedData, FetchError
from syndicate.text import xml_safe

__all__ = ["parse"]

# -- decoding -------------------------------------------------------------------

# Longest first: the UTF-32-LE BOM begins with the UTF-16-LE one.
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels that always "succeed" and that servers send by default (or by
# mistake) for UTF-8 documents; WHATWG reads all of them as windows-1252.
_LEGACY: Final = frozenset({"ascii", "iso8859-1", "cp1252"})
_WIDE: Final = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})
# Codecs Python has but no feed should be read with (UTF-7 smuggles markup).
_REFUSED: Final = frozenset(
    {"utf-7", "unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined"}
)
_XML_ENCODING = re.compile(
    rb"""\A\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._:-]{0,40})["']"""
)
# windows-1252's letters for the C1 range, which latin-1 decodes to controls
# (all but 0x81, 0x8D, 0x8F, 0x90 and 0x9D, which windows-1252 leaves undefined).
_C1_TO_CP1252: Final = {
    byte: char for byte in range(0x80, 0xA0) if (char := bytes([byte]).decode("cp1252", "ignore"))
}


def _codec(label: str | None) -> str | None:
    """Python's name for an encoding label, or None if unknown or refused."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None
    return None if name in _REFUSED else name


def _decode_cp1252(body: bytes) -> str:
    """windows-1252 that cannot fail: its five undefined bytes stay C1 controls."""
    return body.decode("latin-1").translate(_C1_TO_CP1252)


def _is_utf8_beyond_ascii(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _sniff_utf16(body: bytes) -> str | None:
    """UTF-16 without a BOM shows itself: XML never starts with a NUL."""
    if len(body) >= 4:
        if body[0] and not body[1] and body[2] and not body[3]:
            return "utf-16-le"
        if not body[0] and body[1] and not body[2] and body[3]:
            return "utf-16-be"
    return None


def _decode(body: bytes, http_charset: str | None) -> str:
    """Decode per BOM, HTTP charset, XML declaration, UTF-8, windows-1252.

    A label that does not fit the bytes is skipped rather than obeyed: a
    UTF-16 label on ASCII-compatible bytes, or a strict decode that fails.
    A legacy single-byte label (latin-1, windows-1252, ASCII) on bytes that
    are valid UTF-8 beyond ASCII loses to UTF-8: servers stamp ISO-8859-1 on
    UTF-8 feeds far more often than latin-1 text happens to be valid UTF-8.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, "replace")
    wide = _sniff_utf16(body)
    if wide:
        return body.decode(wide, "replace")
    declared = _XML_ENCODING.match(body[:1024])
    labels = (http_charset, declared.group(1).decode("ascii") if declared else None, "utf-8")
    for label in labels:
        name = _codec(label)
        if name is None or name in _WIDE:
            continue
        if name in _LEGACY:
            if _is_utf8_beyond_ascii(body):
                return body.decode("utf-8")
            return _decode_cp1252(body)
        try:
            return body.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return _decode_cp1252(body)


# -- repair ---------------------------------------------------------------------

_XML_DECLARATION = re.compile(r"\A<\?xml\b.*?\?>", re.DOTALL)
_DOCUMENT_START = re.compile(r"<\?xml|<rss\b|<feed\b|<rdf:RDF\b", re.IGNORECASE)
_HTML_START = re.compile(
    r"\A(?:\s|<\?[^>]*>|<!--.*?-->)*<(?:!doctype\s+html\b|html\b)", re.IGNORECASE | re.DOTALL
)
# Sections whose ampersands are literal, and how each one ends.
_SECTION_START = re.compile(r"<!\[CDATA\[|<!--|<\?")
_SECTION_END: Final = {"<![CDATA[": "]]>", "<!--": "-->", "<?": "?>"}
# An ampersand that starts no reference at all: escaped, in one C-level pass.
_BARE_AMPERSAND = re.compile(
    r"&(?![A-Za-z][A-Za-z0-9]{0,40};|#[0-9]{1,10};|#[xX][0-9a-fA-F]{1,8};)"
)
# A reference that is not one of XML's own five (which are by far the most
# common, and need nothing): looked at one by one.
_REFERENCE = re.compile(
    r"&(?!(?:amp|lt|gt|quot|apos);)"
    r"(?:#([0-9]{1,10})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]{0,40}));"
)


def _xml_char_allowed(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


class _Repairs:
    """What the repair step changed, for FeedData.warning."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def add(self, count: int, what: str) -> None:
        if count:
            self.notes.append(f"{count} {what}")


_DECLARATION_TOKEN = re.compile(r"[\"'\[\]>]|<!--")


def _markup_declaration_end(text: str, start: int) -> int:
    """Index just past the ``<!...>`` declaration opening at ``start``.

    Quote- and bracket-aware, so an internal subset whose entity values hold
    ``>`` or ``]`` cannot end it early; an unterminated one runs to the end.
    """
    depth = 0
    i = start + 2
    while (token := _DECLARATION_TOKEN.search(text, i)) is not None:
        kind = token.group()
        i = token.end()
        if kind in ('"', "'"):
            close = text.find(kind, i)
            if close < 0:
                break
            i = close + 1
        elif kind == "[":
            depth += 1
        elif kind == "]":
            depth = max(0, depth - 1)
        elif kind == ">":
            if depth == 0:
                return i
        elif depth:  # a comment inside the internal subset
            close = text.find("-->", i)
            if close < 0:
                break
            i = close + 3
    return len(text)


def _strip_declarations(text: str) -> tuple[str, int]:
    """Remove DOCTYPE (and any other ``<!...>`` declaration) from the prolog.

    Only the prolog (before the root element) may declare entities; with
    every declaration gone, no parser downstream has an entity to expand or
    an external resource to load, whatever it would have done with them.
    """
    pieces: list[str] = []
    last = i = 0
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text.startswith("<?", i):
            close = text.find("?>", i + 2)
            i = n if close < 0 else close + 2
        elif text.startswith("<!--", i):
            close = text.find("-->", i + 4)
            i = n if close < 0 else close + 3
        elif text.startswith("<!", i) and not text.startswith("<![", i):
            pieces.append(text[last:i])
            last = i = _markup_declaration_end(text, i)
        else:
            break
    return "".join(pieces) + text[last:], len(pieces)


class _ReferenceFixer:
    """Rewrites one reference at a time (a ``re.sub`` callback) and counts."""

    def __init__(self) -> None:
        self.named = self.unknown = self.dropped = 0

    def __call__(self, ref: re.Match[str]) -> str:
        decimal, hexadecimal, name = ref.groups()
        if name is not None:
            replacement = html.entities.html5.get(f"{name};")
            if replacement is None:
                self.unknown += 1
                return f"&amp;{name};"
            self.named += 1
            return "".join(f"&#{ord(c)};" for c in replacement)
        code = int(decimal) if decimal is not None else int(hexadecimal, 16)
        if code in _C1_TO_CP1252:  # &#146; means what windows-1252 means, as in HTML
            return f"&#{ord(_C1_TO_CP1252[code])};"
        if _xml_char_allowed(code):
            return ref.group(0)
        self.dropped += 1
        return ""


def _fix_references(text: str, repairs: _Repairs) -> str:
    """Make every ``&`` well-formed XML, leaving CDATA, comments and PIs alone.

    Bare ampersands and the common references are handled by the regex
    engine; Python only sees the references that need a decision, so a
    hostile document of nothing but ampersands costs no more than a page.
    """
    fixer = _ReferenceFixer()
    bare = 0
    out: list[str] = []
    pos = 0
    while pos < len(text):
        section = _SECTION_START.search(text, pos)
        end = len(text) if section is None else section.start()
        chunk, count = _BARE_AMPERSAND.subn("&amp;", text[pos:end])
        bare += count
        out.append(_REFERENCE.sub(fixer, chunk))
        if section is None:
            break
        close = text.find(_SECTION_END[section.group()], section.end())
        # A section cut off by truncation runs to the end, untouched.
        pos = len(text) if close < 0 else close + len(_SECTION_END[section.group()])
        out.append(text[end:pos])
    repairs.add(fixer.named, "HTML entities made numeric")
    repairs.add(bare + fixer.unknown, "stray ampersands or undefined entities escaped")
    repairs.add(fixer.dropped, "references to characters XML forbids dropped")
    return "".join(out)


def _repair(text: str, repairs: _Repairs) -> str:
    """Turn a decoded document into well-formed-if-at-all-possible XML text."""
    text = text.lstrip("\ufeff \t\r\n")
    if not text.startswith("<"):
        start = _DOCUMENT_START.search(text, 0, 4096)
        if start is not None:
            repairs.add(start.start(), "characters of junk before the document removed")
            text = text[start.start() :]
    text = _XML_DECLARATION.sub("", text, count=1)
    text, declarations = _strip_declarations(text)
    text = text.lstrip()
    repairs.add(declarations, "DOCTYPE or markup declarations removed")
    text = _fix_references(text, repairs)
    safe = xml_safe(text)
    repairs.add(len(text) - len(safe), "control characters removed")
    return safe


# -- lxml pass: raw IDs and xml:base --------------------------------------------

# Namespaces feedparser maps to its default prefix: ``item``/``entry`` in
# any of them is an entry, ``guid``/``id`` its identifier.
_FEED_NAMESPACES: Final = frozenset(
    {
        "",
        "http://backend.userland.com/rss",
        "http://blogs.law.harvard.edu/tech/rss",
        "http://purl.org/rss/1.0/",
        "http://my.netscape.com/rdf/simple/0.9/",
        "http://example.com/newformat#",
        "http://example.com/necho",
        "http://purl.org/echo/",
        "uri/of/echo/namespace#",
        "http://purl.org/pie/",
        "http://purl.org/atom/ns#",
        "http://www.w3.org/2005/Atom",
        "http://purl.org/rss/1.0/modules/rss091#",
    }
)
_RDF_ABOUT: Final = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"


def _split_tag(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _xml_parser(*, recover: bool) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=recover,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def _raw_identities(data: bytes, url: str) -> list[tuple[str | None, str | None]] | None:
    """(raw guid, base in force) for each entry element, in document order."""
    root: Any = None
    for recover in (False, True):
        try:
            parser = _xml_parser(recover=recover)
            if url:
                root = etree.fromstring(data, parser, base_url=url)
            else:
                root = etree.fromstring(data, parser)
        except (etree.LxmlError, ValueError):
            continue
        if root is not None:
            break
    if root is None:
        return None
    found: list[tuple[str | None, str | None]] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        namespace, local = _split_tag(element.tag)
        if local not in ("item", "entry") or namespace not in _FEED_NAMESPACES:
            continue
        guid: str | None = element.get(_RDF_ABOUT)
        for child in element:
            if not isinstance(child.tag, str):
                continue
            child_ns, child_local = _split_tag(child.tag)
            if child_local in ("guid", "id") and child_ns in _FEED_NAMESPACES:
                guid = "".join(child.itertext())
        found.append(((guid or "").strip() or None, element.base))
    return found


def _ids_agree(fp_id: str | None, raw: str | None) -> bool:
    """Could feedparser's ID be ``raw``, perhaps resolved against a base?"""
    if not fp_id or not raw:
        return not fp_id and not raw
    return fp_id == raw or fp_id.endswith(raw.lstrip("./"))


# -- feedparser -----------------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


def _content_type(headers: Mapping[str, str]) -> tuple[str, str | None]:
    """(media type, charset) from Content-Type; both lower-cased."""
    value = _header(headers, "content-type") or ""
    media, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'").lower() or None
    return media.strip().lower(), charset


def _feedparser(data: bytes, headers: Mapping[str, str], base: str) -> Any:
    """feedparser on our UTF-8 bytes, never fetching, sanitising or resolving HTML."""
    passed = {key.lower(): value for key, value in headers.items()}
    passed["content-type"] = "application/xml; charset=utf-8"
    passed.pop("content-location", None)
    if base:
        passed["content-location"] = base
    return feedparser.parse(
        io.BytesIO(data),
        response_headers=passed,
        resolve_relative_uris=False,
        sanitize_html=False,
    )


def _as_html(detail: Any, fallback: Any, *, atom: bool) -> str | None:
    """A title as an HTML fragment, which is how :mod:`.clean` reads every title.

    Atom declares a title's type (``text`` by default): feedparser reports
    ``text/plain`` for those, and escaping them here makes clean give back
    exactly the text, angle brackets and all. RSS declares nothing and
    feedparser only guesses (it calls ``<script>x</script>`` plain text), so
    an RSS title is always taken as HTML, as feed readers and browsers do.
    """
    if isinstance(detail, Mapping) and isinstance(detail.get("value"), str):
        value: str = detail["value"]
        if atom and detail.get("type") == "text/plain":
            return html.escape(value, quote=False)
        return value
    return fallback if isinstance(fallback, str) else None


def _struct_to_datetime(value: Any) -> datetime | None:
    """feedparser's UTC struct_time (or 9-tuple) -> aware UTC datetime."""
    try:
        year, month, day, hour, minute, second = (int(part) for part in value[:6])
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def _ttl(value: Any) -> int | None:
    """RSS <ttl> in minutes, if it is a sane positive number."""
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes if 0 < minutes <= 60 * 24 * 365 else None


def _get(mapping: Any, key: str) -> Any:
    """A key of a feedparser result, as stored.

    ``FeedParserDict.get`` maps some missing keys onto others (a missing
    ``updated_parsed`` becomes ``published_parsed``, with a deprecation
    warning); we want the document's fields, not that fallback.
    """
    return dict.get(mapping, key) if isinstance(mapping, dict) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _identities(
    data: bytes, entries: list[Any], *, url: str, headers: Mapping[str, str], notes: list[str]
) -> list[tuple[str | None, str | None]]:
    """(raw guid, base in force) per entry, when feedparser ran with a base URL.

    Taken from the lxml pass when it pairs up with feedparser's entries (same
    count, and each feedparser ID explainable as the raw one, resolved);
    otherwise from a second feedparser run without a base, whose IDs can
    only have been resolved against the document's own xml:base.
    """
    identities = _raw_identities(data, url)
    if identities is not None and len(identities) == len(entries):
        pairs = zip(entries, identities, strict=True)
        if all(_ids_agree(_str_or_none(_get(entry, "id")), raw) for entry, (raw, _) in pairs):
            return identities
    again = list(_feedparser(data, headers, "").get("entries") or [])
    ids = [_str_or_none(_get(entry, "id")) for entry in again]
    if len(ids) != len(entries):
        ids = [None] * len(entries)
    notes.append("entry IDs read without a base URL (parsers disagreed)")
    return [(guid.strip() if guid else None, url) for guid in ids]


def _parse_xml(data: bytes, *, url: str, headers: Mapping[str, str], notes: list[str]) -> FeedData:
    """RSS, RDF or Atom via feedparser, with IDs that ignore the fetch URL.

    Without ``xml:base`` in the document, feedparser gets no base at all: it
    then leaves GUIDs and links as written, and :mod:`.clean` resolves links
    against ``EntryData.base`` (the final URL). That is the common case and
    also the cheapest. With ``xml:base``, feedparser needs a real base to
    apply it correctly (given none, it lets one entry's relative xml:base
    leak into the next), and then the raw IDs come from :func:`_identities`.
    """
    with_base = b"xml:base" in data
    result = _feedparser(data, headers, url if with_base else "")
    entries = list(_get(result, "entries") or [])
    bozo = _get(result, "bozo_exception") if _get(result, "bozo") else None
    if bozo is not None:
        notes.append(f"ill-formed XML read leniently ({bozo})")
    if not entries:
        reason = f" ({bozo})" if bozo is not None else ""
        if _get(result, "version"):
            raise FetchError("empty", f"the feed has no entries{reason}")
        raise FetchError("parse", f"not a feed: no RSS, Atom or RDF entries found{reason}")

    if with_base:
        identities = _identities(data, entries, url=url, headers=headers, notes=notes)
    else:
        identities = [(_str_or_none(_get(entry, "id")), url) for entry in entries]

    feed = _get(result, "feed") or {}
    atom = str(_get(result, "version") or "").startswith("atom")
    built = []
    for entry, (guid, base) in zip(entries, identities, strict=True):
        built.append(
            EntryData(
                guid=guid.strip() or None if guid else None,
                link=_str_or_none(_get(entry, "link")),
                title=_as_html(_get(entry, "title_detail"), _get(entry, "title"), atom=atom),
                published=_struct_to_datetime(_get(entry, "published_parsed")),
                updated=_struct_to_datetime(_get(entry, "updated_parsed")),
                base=base or url or None,
            )
        )
    link = _str_or_none(_get(feed, "link"))
    with contextlib.suppress(ValueError):
        link = urljoin(url, link) if link and url else link
    return FeedData(
        title=_as_html(_get(feed, "title_detail"), _get(feed, "title"), atom=atom),
        link=link,
        ttl=_ttl(_get(feed, "ttl")),
        entries=tuple(built),
        warning="; ".join(notes) or None,
    )


# -- JSON Feed ------------------------------------------------------------------

_JSON_FEED_VERSIONS: Final = frozenset(
    {"https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1"}
)
_JSON_TYPES: Final = frozenset({"application/feed+json", "application/json"})


def _json_string(value: Any) -> str | None:
    """A JSON Feed string; numbers are coerced, as the spec asks readers to."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return value.strip() or None if isinstance(value, str) else None


def _json_date(value: Any) -> datetime | None:
    """RFC 3339 as the spec says; RFC 822 as some producers write anyway."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _parse_json(text: str, *, url: str, notes: list[str]) -> FeedData:
    """JSON Feed 1.0/1.1. Titles are taken as HTML, like every other title.

    The spec says a JSON Feed title is plain text, but producers (WordPress
    plugins among them) put entities like ``&#8217;`` in them; reading them
    as HTML decodes those, and costs only tag-like text in a title.
    """
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FetchError("parse", f"not a feed: invalid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise FetchError("parse", "not a feed: JSON, but not an object")
    items = document.get("items")
    if not isinstance(items, list):
        raise FetchError("parse", "not a feed: JSON without an items list")
    version = document.get("version")
    if version not in _JSON_FEED_VERSIONS:
        notes.append(f"unknown JSON Feed version {str(version)[:80]!r}")
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        entries.append(
            EntryData(
                guid=_json_string(item.get("id")),
                link=_json_string(item.get("url")) or _json_string(item.get("external_url")),
                title=_json_string(item.get("title")),
                published=_json_date(item.get("date_published")),
                updated=_json_date(item.get("date_modified")),
                base=url or None,
            )
        )
    if not entries:
        raise FetchError("empty", "the feed has no entries")
    return FeedData(
        title=_json_string(document.get("title")),
        link=_json_string(document.get("home_page_url")),
        ttl=None,
        entries=tuple(entries),
        warning="; ".join(notes) or None,
    )


# -- the stage ------------------------------------------------------------------


def parse(body: bytes, *, url: str, headers: Mapping[str, str]) -> FeedData:
    """Parse an outside feed (RSS 0.9x/1.0/2.0, Atom, JSON Feed) from its bytes.

    ``url`` is the final URL after redirects (the base for relative links,
    never part of an entry's identity); ``headers`` are the response's.
    Raises :class:`FetchError` with stage ``"empty"`` for a feed with no
    entries and ``"parse"`` for anything that is not a feed; never anything
    else, whatever the bytes, because a hostile source must fail alone.
    A document with entries is accepted even when it was ill-formed: what
    was repaired or forgiven is said in ``FeedData.warning``.
    """
    if isinstance(body, str):  # a str would make feedparser open or fetch it
        body = body.encode("utf-8")
    if not body.strip():
        raise FetchError("empty", "empty response body")
    try:
        media_type, charset = _content_type(headers)
        text = _decode(body, charset)
        start = text.lstrip("\ufeff \t\r\n")[:1]
        if start == "{" or (start != "<" and media_type in _JSON_TYPES):
            return _parse_json(text.lstrip("\ufeff"), url=url, notes=[])
        if _HTML_START.match(text[:4096]):
            raise FetchError("parse", "not a feed: looks like an HTML page")
        repairs = _Repairs()
        repaired = _repair(text, repairs)
        if not repaired.startswith("<"):
            raise FetchError("parse", "not a feed: neither XML nor JSON")
        notes = [f"repaired: {', '.join(repairs.notes)}"] if repairs.notes else []
        return _parse_xml(repaired.encode("utf-8"), url=url, headers=headers, notes=notes)
    except FetchError:
        raise
    except Exception as exc:  # hostile bytes must fail alone, as a FetchError
        raise FetchError("parse", f"unreadable document ({type(exc).__name__}: {exc})") from exc
