"""Repaired XML -> :class:`FeedData`: RSS 0.9x/1.0/2.0, RDF and Atom, via feedparser.

feedparser reads the document from a ``BytesIO`` -- never from ``bytes``
or ``str``: given bytes that name a local file it opens the file, given a
URL string it fetches it -- with sanitising and resolving of embedded HTML
switched off (only titles are kept, and :mod:`.clean` makes them plain
text itself). It is told the document is UTF-8, which it is by now
(:mod:`.decode`), so it never guesses an encoding.

Entry IDs must not depend on the URL the feed was fetched from, but given
that URL feedparser resolves permalink GUIDs (and every Atom ``<id>``)
against it. So feedparser is given no base at all unless the document
uses ``xml:base``; links then stay as written and :mod:`.clean` resolves
them against ``EntryData.base``. With ``xml:base``, see
:func:`parse_xml_feed` and :mod:`.identity`.

Titles are handed on as HTML fragments: an Atom title says whether it is
text or HTML (RFC 4287 section 3.1.1, ``text`` by default); an RSS 2.0
title says nothing and is read as HTML, as feed readers do. An entry's
text (its summary or description, else its content), from which
:mod:`.clean` makes a title when there is none, is handed on the same way.
RSS ``<ttl>`` (RSS 2.0, minutes) is kept for the scheduler. Dates are
feedparser's, which reads RFC 822 and RFC 3339 dates and many broken variants.
The language is the document's own (RSS ``<language>`` or ``dc:language``,
``xml:lang`` on the root, an entry's ``xml:lang`` or ``dc:language``), never
the server's ``Content-Language``; :mod:`.clean` judges it.

A document must reach its end: one cut off before its root element closes
is refused whole, with lxml's reason (:func:`cut_off_reason`), because
feedparser's lenient mode would otherwise store whatever the cut left.
Other ill-formedness is read leniently, as before, and noted. A feed
feedparser recognises (RSS, RDF or Atom) with no entries is a feed with no
entries; a document it does not recognise is not a feed.
"""

from __future__ import annotations

import contextlib
import html
import io
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from lxml import etree

from syndicate.fetch.identity import ids_agree, raw_identities, xml_parser
from syndicate.fetch.types import EntryData, FeedData, FetchError

__all__ = ["cut_off_reason", "parse_xml_feed"]


def _feedparser(data: bytes, headers: Mapping[str, str], base: str) -> Any:
    """feedparser on our UTF-8 bytes, never fetching, sanitising or resolving HTML."""
    passed = {key.lower(): value for key, value in headers.items()}
    passed["content-type"] = "application/xml; charset=utf-8"
    passed.pop("content-location", None)
    # A server's Content-Language is often a site-wide default, not the
    # feed's: only the document's own declaration names its language.
    passed.pop("content-language", None)
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


def _entry_text(entry: Any, *, atom: bool) -> str | None:
    """The entry's summary (RSS description), else its first content, as HTML."""
    summary = _as_html(_get(entry, "summary_detail"), _get(entry, "summary"), atom=atom)
    if summary and summary.strip():
        return summary
    for content in _get(entry, "content") or ():
        value = _as_html(content, None, atom=atom)
        if value and value.strip():
            return value
    return None


def cut_off_reason(data: bytes) -> str:
    """Why a strict XML parser refuses a document that never closes its root element.

    lxml's own words ("Premature end of data in tag item line 16, line 18,
    column 41"); line numbers are the document's (:mod:`.repair` keeps them).
    """
    try:
        etree.fromstring(data, xml_parser(recover=False))
    except etree.XMLSyntaxError as exc:
        return str(exc.msg or exc)
    except (etree.LxmlError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return "the root element is never closed"


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


def _entry_language(entry: Any) -> str | None:
    """The language an entry declares: its ``dc:language``, else the ``xml:lang``
    in force on its title (inherited from the feed's when it has none of its own:
    :mod:`.clean` keeps an entry's language only when it differs from the feed's)."""
    own = _str_or_none(_get(entry, "language"))
    if own:
        return own
    detail = _get(entry, "title_detail")
    return _str_or_none(detail.get("language")) if isinstance(detail, Mapping) else None


def _identities(
    data: bytes, entries: list[Any], *, url: str, headers: Mapping[str, str], notes: list[str]
) -> list[tuple[str | None, str | None]]:
    """(raw guid, base in force) per entry, when feedparser ran with a base URL.

    Taken from the lxml pass when it pairs up with feedparser's entries (same
    count, and each feedparser ID explainable as the raw one, resolved);
    otherwise from a second feedparser run without a base, whose IDs can
    only have been resolved against the document's own xml:base.
    """
    identities = raw_identities(data, url)
    if identities is not None and len(identities) == len(entries):
        pairs = zip(entries, identities, strict=True)
        if all(ids_agree(_str_or_none(_get(entry, "id")), raw) for entry, (raw, _) in pairs):
            return identities
    again = list(_feedparser(data, headers, "").get("entries") or [])
    ids = [_str_or_none(_get(entry, "id")) for entry in again]
    if len(ids) != len(entries):
        ids = [None] * len(entries)
    notes.append("entry IDs read without a base URL (parsers disagreed)")
    return [(guid.strip() if guid else None, url) for guid in ids]


def parse_xml_feed(
    data: bytes, *, url: str, headers: Mapping[str, str], notes: list[str]
) -> FeedData:
    """RSS, RDF or Atom via feedparser, with IDs that ignore the fetch URL.

    ``data`` is repaired UTF-8 XML (:mod:`.repair`) that closes its root
    element; ``notes`` are the warnings so far, and this adds its own before
    joining them into ``FeedData.warning``. Raises :class:`FetchError`
    (``"parse"``) for a document feedparser does not recognise as a feed;
    a recognised feed may have no entries.

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
    if not entries and not _get(result, "version"):
        reason = f" ({bozo})" if bozo is not None else ""
        raise FetchError("parse", f"not a feed: no RSS, Atom or RDF entries found{reason}")

    if with_base and entries:
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
                text=_entry_text(entry, atom=atom),
                language=_entry_language(entry),
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
        language=_str_or_none(_get(feed, "language")),
    )
