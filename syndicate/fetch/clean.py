"""FeedData -> entries safe to store and show: the clean stage of the fetcher.

Nothing from an outside feed reaches a page as markup. Titles become plain
text (the templates escape them again; this is the second wall, not the
only one); links become absolute http(s) URLs or nothing; dates become UTC
and plausible, or None; languages become BCP 47 tags, or None.

Decisions, and why:

* **Titles are read as HTML**, always (:mod:`.parse` escapes titles that
  the document declared plain text, so they come back unchanged). Tags are
  stripped by :class:`html.parser.HTMLParser`, not a regex, and the text
  inside ``<script>``/``<style>`` is dropped with them. The source's own
  title goes through the same :func:`clean_title`.
* **Keep entries, drop only what is unsafe.** An entry whose link is
  missing or unsafe (``javascript:``, ``data:``, ``file:``, no host, too
  long) keeps its headline and loses only the link: it is linked to the
  source's home page when that is a safe http(s) URL, else stored with an
  empty link and shown as text.
* **An entry is dropped only when it has nothing to show**: no title once
  cleaned, and no text to make one from. A title-less entry (a microblog
  post, a JSON Feed item with only ``content_text``) takes the start of its
  summary or content, cut at a word (:data:`TEXT_TITLE_MAX`).
* **The dedup key** is the GUID, else the entry's own safe link (never the
  home page it may be linked to), else a hash of its title (of its text,
  when the title was made from it); a GUID or link too long to be a
  sensible key is hashed too, so the identity is kept.
* **First occurrence wins**: a later entry with the same key is dropped, so
  a duplicate cannot override what came first. Dropped entries (nothing to
  show) do not claim their key.
* **Long titles end at a word**: cut before the word that crosses the cap,
  with an ellipsis; only a title without a space in its second half (a URL,
  a run of CJK) is cut mid-word, and never inside a combining sequence.
* **Future dates are kept**, not clamped to the fetch time: clamping made
  the stored date move on every fetch (a rewrite, a sidebar change) and
  lost the real one. The store orders such an entry by when it was first
  seen (see :mod:`syndicate.store.sources`). Only a date more than
  :data:`FUTURE_MAX` after the fetch is implausible (a "2999" placeholder)
  and counts as missing, like one before :data:`EARLIEST`.
* **The limit keeps the newest**, in document order: normal feeds are
  newest first, but some list oldest first, so when there are more than
  ``limit`` entries the ones kept are those the sidebar would show first
  (an entry undated or dated after the fetch is ordered as first seen now).
* **Languages** are the document's own declarations, normalised to BCP 47
  casing (``en_us`` -> ``en-US``); anything that is not a well-formed tag
  ("English", "en-US, fr") is dropped rather than guessed at, and so are the
  tags that say nothing (``und``, ``mul``, ``zxx``, ``mis``). An entry keeps a
  language of its own only when it differs from its source's.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Final
from urllib.parse import quote, urljoin, urlsplit

from syndicate.fetch.types import CleanEntry, EntryData, FeedData
from syndicate.text import BIDI_CONTROLS as _BIDI
from syndicate.text import collapse_whitespace, xml_safe

__all__ = [
    "EARLIEST",
    "FRAGMENT_MAX",
    "FUTURE_MAX",
    "KEY_MAX",
    "LANGUAGE_MAX",
    "LINK_MAX",
    "TEXT_FRAGMENT_MAX",
    "TEXT_TITLE_MAX",
    "TITLE_MAX",
    "clean",
    "clean_date",
    "clean_language",
    "clean_link",
    "clean_title",
    "entry_key",
    "shorten",
    "title_from_text",
]

#: Titles longer than this are cut at a word, with an ellipsis as the last character.
TITLE_MAX: Final = 300
#: A title made from an entry's text is its start, cut at a word to this length.
TEXT_TITLE_MAX: Final = 140
#: Characters of a title's markup that are read: a title is one line, and
#: this bounds the work a hostile one costs (the source's title is cleaned
#: in the runner, outside the parser process).
FRAGMENT_MAX: Final = 16 * 1024
#: Characters of an entry's text read to make a title from (markup, styles
#: and inline images can come before the first words).
TEXT_FRAGMENT_MAX: Final = 256 * 1024
#: Longer links are refused (their entries keep their titles, not the link):
#: no real article URL is this long, and a sidebar link should not carry a payload.
LINK_MAX: Final = 2048
#: GUIDs and links longer than this are hashed to make the dedup key.
KEY_MAX: Final = 512
#: Earlier dates are implausible for a news entry (the epoch, 1990 defaults).
EARLIEST: Final = datetime(1995, 1, 1, tzinfo=UTC)
#: Dates further than this after the fetch are implausible too (placeholders
#: such as 2999-12-31); nearer future dates are kept as they are.
FUTURE_MAX: Final = timedelta(days=366)
#: Longer language tags are refused (RFC 5646 section 4.4.1 asks for 35 at least).
LANGUAGE_MAX: Final = 64

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


# What a cut title does not end on before its ellipsis: spaces, separators,
# dashes and openers (a cut never leaves "Budget: …" or "He said “…").
_DANGLING: Final = " ,;:\u2013\u2014-([{\u201c\u2018\u00ab"
# Characters that belong to the one before them: a cut must not separate them.
_JOINERS: Final = frozenset("\u200d\ufe0e\ufe0f")


def shorten(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit``, else its start cut at a word boundary plus "…".

    The cut falls before the word that crosses the limit. Only when that
    would lose more than half the room (one long word, a URL, CJK text
    without spaces) is the word itself cut, and then never between a
    character and the combining marks or joiners that follow it.
    """
    if len(text) <= limit:
        return text
    if limit <= 1:
        return _ELLIPSIS[:limit]
    room = limit - 1
    kept = text[:room]
    if not text[room].isspace():  # the cut falls inside a word: back up to its start
        space = kept.rfind(" ")
        if space >= room // 2:
            kept = kept[:space]
    short = kept.rstrip(_DANGLING)
    if len(short) < room // 2:  # nothing but separators near the cut: cut hard
        short = kept
    # ``short`` is a prefix of ``text``: while what follows it belongs to its
    # last character (a combining mark, a joiner), or it ends on a joiner,
    # give that character up too.
    while short and (_belongs_to_previous(text[len(short)]) or short[-1] == "\u200d"):
        short = short[:-1]
    return short.rstrip() + _ELLIPSIS


def _belongs_to_previous(char: str) -> bool:
    return bool(unicodedata.combining(char)) or char in _JOINERS


def _plain_line(fragment: str | None, *, limit: int, read: int) -> str:
    if not fragment:
        return ""
    text = _html_to_text(fragment[:read]).translate(_BIDI)
    return shorten(collapse_whitespace(xml_safe(text)), limit)


def clean_title(fragment: str | None, *, limit: int = TITLE_MAX) -> str:
    """An HTML fragment from a feed -> one line of plain text, or "".

    Tags stripped, entities decoded, bidi controls and XML-illegal
    characters removed, whitespace collapsed, cut at a word to ``limit``
    (:func:`shorten`). Only the first :data:`FRAGMENT_MAX` characters of
    the fragment are read. Used for entry titles and the source's own.
    """
    return _plain_line(fragment, limit=limit, read=FRAGMENT_MAX)


def title_from_text(fragment: str | None, *, limit: int = TEXT_TITLE_MAX) -> str:
    """A headline for an entry that has none: the start of its text, as :func:`clean_title`."""
    return _plain_line(fragment, limit=limit, read=TEXT_FRAGMENT_MAX)


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
    """UTC, as the document gave it, future or not; None if implausible.

    Implausible: before :data:`EARLIEST` (the epoch, 1990 defaults), or more
    than :data:`FUTURE_MAX` after ``fetched_at`` (a placeholder year). A
    date a little ahead of the fetch (a time zone got wrong, an embargo) is
    kept as it is: never clamped to the fetch time, which would change it on
    every fetch and lose it.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
        latest = fetched_at.astimezone(UTC) + FUTURE_MAX
    except (ValueError, OverflowError):
        return None
    if value < EARLIEST or value > latest:
        return None
    return value


# A well-formed BCP 47 language tag (RFC 5646 section 2.1), without the
# grandfathered and private-use-only forms: a primary language of 2-3 letters,
# extended language subtags, script, region, variants, extensions, private use.
_LANGUAGE_TAG = re.compile(
    r"""(?P<language>[a-z]{2,3})
        (?P<extlang>(?:-[a-z]{3}){0,3})
        (?:-(?P<script>[a-z]{4}))?
        (?:-(?P<region>[a-z]{2}|[0-9]{3}))?
        (?P<rest>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*
                 (?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*
                 (?:-x(?:-[a-z0-9]{1,8})+)?)""",
    re.ASCII | re.IGNORECASE | re.VERBOSE,
)
#: Deprecated codes still written by old software (Java's Locale), and their
#: replacements (the IANA registry's Preferred-Value).
_LANGUAGE_ALIASES: Final = {"iw": "he", "ji": "yi", "in": "id"}
#: Tags that are well formed but name no language a reader could use.
_NO_LANGUAGE: Final = frozenset({"und", "mul", "zxx", "mis"})


def clean_language(value: str | None) -> str | None:
    """A declared language as a BCP 47 tag in its conventional casing, or None.

    ``en_us`` -> ``en-US``, ``ZH-hant-tw`` -> ``zh-Hant-TW``, ``iw`` -> ``he``.
    Anything that is not one well-formed tag ("English", "en-US, fr",
    ``en_US.UTF-8``) is None, as are ``und``, ``mul``, ``zxx`` and ``mis``.
    """
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("_", "-")
    if len(text) > LANGUAGE_MAX:
        return None
    match = _LANGUAGE_TAG.fullmatch(text)
    if match is None:
        return None
    language = match["language"].lower()
    language = _LANGUAGE_ALIASES.get(language, language)
    if language in _NO_LANGUAGE:
        return None
    parts = [language + match["extlang"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    return "-".join(parts) + match["rest"].lower()


def _hash(text: str) -> str:
    return "hash:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def entry_key(guid: str | None, link: str | None, *, fallback: str = "") -> str:
    """The dedup key: "guid:…" if there is a GUID, else "link:…", else "hash:…".

    ``link`` is the entry's own safe link (never a home page it is shown
    with); without one, the key is a hash of ``fallback`` ("title:" and the
    entry's title, or "text:" and its text when the title was made from it,
    so the two never collide). A GUID or link
    longer than :data:`KEY_MAX` is hashed ("hash:…") so keys stay short;
    the hash covers the whole value, so identity is unchanged.
    """
    cleaned = xml_safe(guid).strip() if guid else ""
    if cleaned:
        return f"guid:{cleaned}" if len(cleaned) <= KEY_MAX else _hash(f"guid:{cleaned}")
    if link:
        return f"link:{link}" if len(link) <= KEY_MAX else _hash(f"link:{link}")
    return _hash(f"entry:{fallback}")


class _HomePage:
    """The source's home page as a safe link, judged once per base URL."""

    def __init__(self, link: str | None) -> None:
        self.link = link
        self.judged: dict[str | None, str] = {}

    def for_base(self, base: str | None) -> str:
        if base not in self.judged:
            self.judged[base] = clean_link(self.link, base=base) or ""
        return self.judged[base]


def _clean_entry(
    entry: EntryData, *, home: _HomePage, fetched_at: datetime, language: str | None
) -> CleanEntry | None:
    title = clean_title(entry.title)
    fallback = f"title:{title}"
    if not title:
        title = title_from_text(entry.text)
        fallback = f"text:{entry.text}"
    if not title:
        return None
    link = clean_link(entry.link, base=entry.base)
    published = clean_date(entry.published, fetched_at=fetched_at) or clean_date(
        entry.updated, fetched_at=fetched_at
    )
    own = clean_language(entry.language)
    return CleanEntry(
        key=entry_key(entry.guid, link, fallback=fallback),
        title=title,
        link=link or home.for_base(entry.base),
        published=published,
        language=own if own != language else None,
    )


def _newest(entries: list[CleanEntry], limit: int, fetched_at: datetime) -> list[CleanEntry]:
    """The ``limit`` entries the sidebar would show first, in their order.

    Ranked as the store orders a new entry: by its date, or by the fetch time
    (its first sight) when it has none or one after the fetch; ties by position.
    """
    if len(entries) <= limit:
        return entries
    seen = fetched_at if fetched_at.tzinfo else fetched_at.replace(tzinfo=UTC)

    def shown_at(entry: CleanEntry) -> datetime:
        return seen if entry.published is None else min(entry.published, seen)

    ranked = sorted(range(len(entries)), key=lambda i: (shown_at(entries[i]), -i), reverse=True)
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

    Never raises for anything a document can contain. An entry's link is
    an absolute http(s) URL: its own, else the source's home page, else ""
    (no link: shown as text). Only entries with nothing to show are dropped.
    """
    if limit <= 0:
        return []
    home = _HomePage(feed.link)
    language = clean_language(feed.language)
    cleaned = (
        _clean_entry(entry, home=home, fetched_at=fetched_at, language=language)
        for entry in feed.entries
    )
    return _newest(_unique(entry for entry in cleaned if entry is not None), limit, fetched_at)
