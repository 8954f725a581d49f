"""FeedData -> entries safe to store and show: the clean stage of the fetcher.

Nothing from an outside feed reaches a page as markup. Titles become plain
text (the templates escape them again; this is the second wall, not the
only one); links become absolute http(s) URLs or the entry is dropped;
dates become UTC, plausible and not in the future, or None.

Decisions, and why:

* **Titles are read as HTML**, always (:mod:`.parse` escapes titles that
  the document declared plain text, so they come back unchanged). Tags are
  stripped by :class:`html.parser.HTMLParser`, not a regex, and the text
  inside ``<script>``/``<style>`` is dropped with them.
* **An entry whose title ends up empty is dropped.** The sidebar shows
  headlines; a URL standing in for one is noise, and a source that sends
  only links has nothing to show.
* **An entry without a usable link is dropped**, so the dedup key's third
  form (a hash of title and link) never has to stand in for a missing link;
  the ``hash:`` form is used instead when a GUID or link is too long to be
  a sensible key (a hash of it, so the identity is kept).
* **First occurrence wins**: a later entry with the same key is dropped, so
  a duplicate cannot override what came first. Dropped entries (bad link,
  empty title) do not claim their key.
* **The limit keeps the newest**, in document order: normal feeds are
  newest first, but some list oldest first, so when there are more than
  ``limit`` entries the ones kept are those with the latest dates, undated
  ones counting as newest (the store dates them at first sight, i.e. now).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Final
from urllib.parse import quote, urljoin, urlsplit

from syndicate.fetch.types import CleanEntry, EntryData, FeedData
from syndicate.text import collapse_whitespace, xml_safe

__all__ = [
    "EARLIEST",
    "KEY_MAX",
    "LINK_MAX",
    "TITLE_MAX",
    "clean",
    "clean_date",
    "clean_link",
    "clean_title",
    "entry_key",
]

#: Titles longer than this are cut, with an ellipsis as the last character.
TITLE_MAX: Final = 300
#: Longer links are refused (and their entries dropped): no real article
#: URL is this long, and a sidebar link should not carry a payload.
LINK_MAX: Final = 2048
#: GUIDs and links longer than this are hashed to make the dedup key.
KEY_MAX: Final = 512
#: Earlier dates are implausible for a news entry (the epoch, 1990 defaults).
EARLIEST: Final = datetime(1995, 1, 1, tzinfo=UTC)

# Bidirectional embeddings, overrides (U+202A-U+202E) and isolates
# (U+2066-U+2069) can make a title display as something it is not.
_BIDI: Final = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_ELLIPSIS: Final = "\u2026"
# Inside a URL browsers drop tab and newline, and trim C0 controls and
# spaces at the ends; dropping every control character is stricter still.
_URL_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_URL_SPACE = re.compile(r"\s")
_ALLOWED_SCHEMES: Final = frozenset({"http", "https"})


class _TextExtractor(HTMLParser):
    """Collects the text a browser would show, minus scripts and styles."""

    #: Their content is code or data, never visible text.
    HIDDEN: Final = frozenset({"script", "style", "template", "noscript", "iframe", "object"})
    #: Tags that separate words when rendered.
    BREAKS: Final = frozenset(
        {"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
         "hr", "blockquote", "section", "article", "header", "footer", "table", "dd", "dt"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BREAKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


# "<![CDATA[...]]>" (its text is kept: broken feeds double-wrap titles in it)
# and any other "<![" marked section, on which HTMLParser raises.
_MARKED_SECTION = re.compile(r"<!\[CDATA\[(.*?)(?:\]\]>|\Z)|<!\[", re.DOTALL)
_UNFINISHED_TAG = re.compile(r"<[A-Za-z/!?][^>]*\Z")


def _defuse(fragment: str) -> str:
    """Prepare a fragment for HTMLParser: marked sections out, a cut-off tag dropped.

    A fragment ending inside a tag ("x <b onclick=") would otherwise come
    back as text from ``close()``; a browser shows nothing for it either.
    """
    fragment = _MARKED_SECTION.sub(
        lambda m: "&lt;![" if m.group(1) is None else html.escape(m.group(1), quote=False),
        fragment,
    )
    return _UNFINISHED_TAG.sub("", fragment)


def _html_to_text(fragment: str) -> str:
    extractor = _TextExtractor()
    try:
        extractor.feed(_defuse(fragment))
        extractor.close()
    except Exception:  # HTMLParser has had crash bugs on odd markup: drop, don't guess
        return ""
    return "".join(extractor.parts)


def clean_title(fragment: str | None, *, limit: int = TITLE_MAX) -> str:
    """An HTML fragment from a feed -> one line of plain text, or "".

    Tags stripped, entities decoded, bidi controls and XML-illegal
    characters removed, whitespace collapsed, length capped at ``limit``.
    """
    if not fragment:
        return ""
    text = _html_to_text(fragment).translate(_BIDI)
    text = collapse_whitespace(xml_safe(text))
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + _ELLIPSIS
    return text


def _tidy_url(url: str) -> str:
    url = _URL_CONTROLS.sub("", xml_safe(url)).translate(_BIDI).strip()
    return _URL_SPACE.sub(lambda m: quote(m.group()), url)


def clean_link(link: str | None, *, base: str | None) -> str | None:
    """An absolute http(s) URL, resolved against ``base``, or None.

    Control characters and whitespace are taken out before the scheme is
    judged, as a browser would ("java\\tscript:" is "javascript:"); inner
    spaces are percent-encoded. Anything but http(s) with a host is refused.
    """
    if not link:
        return None
    url = _tidy_url(link)
    if not url:
        return None
    try:
        if base:
            url = urljoin(_tidy_url(base), url)
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _ALLOWED_SCHEMES or not host or len(url) > LINK_MAX:
        return None
    return scheme + url[len(parts.scheme) :]


def clean_date(value: datetime | None, *, fetched_at: datetime) -> datetime | None:
    """UTC; None if implausible (before 1995, the epoch); never after ``fetched_at``."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    if value < EARLIEST:
        return None
    return min(value, fetched_at.astimezone(UTC))


def _hash(text: str) -> str:
    return "hash:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def entry_key(guid: str | None, link: str) -> str:
    """The dedup key: "guid:…" if there is a GUID, else "link:…".

    A GUID or link longer than :data:`KEY_MAX` is hashed ("hash:…") so keys
    stay short; the hash covers the whole value, so identity is unchanged.
    """
    cleaned = xml_safe(guid).strip() if guid else ""
    if cleaned:
        return f"guid:{cleaned}" if len(cleaned) <= KEY_MAX else _hash(f"guid:{cleaned}")
    return f"link:{link}" if len(link) <= KEY_MAX else _hash(f"link:{link}")


def _clean_entry(entry: EntryData, *, fetched_at: datetime) -> CleanEntry | None:
    title = clean_title(entry.title)
    link = clean_link(entry.link, base=entry.base)
    if not title or link is None:
        return None
    published = clean_date(entry.published, fetched_at=fetched_at) or clean_date(
        entry.updated, fetched_at=fetched_at
    )
    return CleanEntry(key=entry_key(entry.guid, link), title=title, link=link, published=published)


def _newest(entries: list[CleanEntry], limit: int) -> list[CleanEntry]:
    """The ``limit`` newest entries (undated count as newest), in their order."""
    if len(entries) <= limit:
        return entries
    far_future = datetime.max.replace(tzinfo=UTC)
    ranked = sorted(
        range(len(entries)),
        key=lambda i: (entries[i].published or far_future, -i),
        reverse=True,
    )
    return [entries[i] for i in sorted(ranked[:limit])]


def _unique(entries: Iterable[CleanEntry]) -> list[CleanEntry]:
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if entry.key not in seen:
            seen.add(entry.key)
            kept.append(entry)
    return kept


def clean(feed: FeedData, *, fetched_at: datetime, limit: int = 200) -> list[CleanEntry]:
    """The entries of ``feed`` that are safe to keep, deduplicated, at most ``limit``.

    Never raises for anything a document can contain: entries that cannot
    be made safe are dropped, not repaired into something they were not.
    """
    if limit <= 0:
        return []
    cleaned = (_clean_entry(entry, fetched_at=fetched_at) for entry in feed.entries)
    return _newest(_unique(entry for entry in cleaned if entry is not None), limit)
