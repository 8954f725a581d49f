"""Outside feed bytes -> :class:`FeedData`: the parse stage of the fetcher.

Pure and self-contained (no network, no store, no clock), so the runner can
call :func:`parse` in a thread or process pool: it is a plain module-level
function taking and returning picklable values.

This module only decides what a document is and hands it on; each step is
its own module:

1. :mod:`.decode` turns the bytes into text (BOM, HTTP charset, XML
   declaration, UTF-8, windows-1252; XML 1.0 Appendix F, RFC 7303).
2. A document that starts with ``{`` (or is served as JSON and does not
   start with ``<``) is a JSON Feed: :mod:`.jsonfeed`.
3. An HTML page (the publisher's home page, a login wall, an error page
   served with a 200) is refused with a sentence saying so.
4. Anything else is repaired into well-formed XML (:mod:`.repair`: DOCTYPE
   and entity declarations gone, HTML entities made numeric, control
   characters dropped, junk around the document cut) and read as RSS, RDF
   or Atom by feedparser (:mod:`.xmlfeed`), with entry IDs read as written
   (:mod:`.identity`). A document cut off before its root element closes
   is refused whole: its last entries may be anything.

Whatever the bytes, the only exception that leaves :func:`parse` is a
:class:`FetchError`, because a hostile source must fail alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from syndicate.fetch.decode import decode
from syndicate.fetch.headers import content_type
from syndicate.fetch.jsonfeed import JSON_MEDIA_TYPES, parse_json_feed
from syndicate.fetch.repair import closes_its_root, repair
from syndicate.fetch.types import FeedData, FetchError
from syndicate.fetch.xmlfeed import cut_off_reason, parse_xml_feed

__all__ = ["parse"]

_HTML_START = re.compile(
    r"\A(?:\s|<\?[^>]*>|<!--.*?-->)*<(?:!doctype\s+html\b|html\b)", re.IGNORECASE | re.DOTALL
)


def parse(body: bytes, *, url: str, headers: Mapping[str, str]) -> FeedData:
    """Parse an outside feed (RSS 0.9x/1.0/2.0, Atom, JSON Feed) from its bytes.

    ``url`` is the final URL after redirects (the base for relative links,
    never part of an entry's identity); ``headers`` are the response's.
    Raises :class:`FetchError` with stage ``"empty"`` for an empty body and
    ``"parse"`` for anything that is not a feed or is cut off before its
    end; never anything else, whatever the bytes, because a hostile source
    must fail alone. A valid feed without entries is returned with none.
    A complete document is accepted even when it was ill-formed: what was
    repaired or forgiven is said in ``FeedData.warning``.
    """
    if isinstance(body, str):  # a str would make feedparser open or fetch it
        body = body.encode("utf-8")
    if not body.strip():
        raise FetchError("empty", "empty response body")
    try:
        media_type, charset = content_type(headers)
        text = decode(body, charset)
        start = text.lstrip("\ufeff \t\r\n")[:1]
        if start == "{" or (start != "<" and media_type in JSON_MEDIA_TYPES):
            return parse_json_feed(text.lstrip("\ufeff"), url=url, notes=[])
        if _HTML_START.match(text[:4096]):
            raise FetchError("parse", "not a feed: looks like an HTML page")
        repaired, repairs = repair(text)
        if not repaired.lstrip().startswith("<"):
            raise FetchError("parse", "not a feed: neither XML nor JSON")
        data = repaired.encode("utf-8")
        if not closes_its_root(repaired):
            raise FetchError("parse", f"document cut off before its end: {cut_off_reason(data)}")
        notes = [f"repaired: {', '.join(repairs)}"] if repairs else []
        return parse_xml_feed(data, url=url, headers=headers, notes=notes)
    except FetchError:
        raise
    except Exception as exc:  # hostile bytes must fail alone, as a FetchError
        raise FetchError("parse", f"unreadable document ({type(exc).__name__}: {exc})") from exc
