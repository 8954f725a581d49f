"""Decoded JSON text -> :class:`FeedData`: JSON Feed 1.0 and 1.1, which feedparser cannot read.

Read with the json module, following https://www.jsonfeed.org/version/1.1/
where it matters to a sidebar and forgiving where producers stray:

* ``version`` is checked but not required: an unknown one is read anyway
  and noted in ``FeedData.warning``.
* An item's link is ``url``, else ``external_url``; numbers where strings
  belong are coerced, as the spec asks readers to.
* Dates are RFC 3339 as the spec says, or the RFC 5322 dates some
  producers write anyway (read by :func:`syndicate.httpdate.parse_http_date`);
  a date without a zone is taken as UTC.
* Titles are handed on as HTML, like every other title (see
  :func:`parse_json_feed`); so is an item's text, for an item without a
  title: its ``summary`` (HTML, like the title), else ``content_text``
  (escaped: it is plain text), else ``content_html``.
* ``language`` (JSON Feed 1.1, the feed's and an item's own) is handed on as
  written; :mod:`.clean` judges it.
* A JSON Feed with an empty ``items`` list is a feed with no entries, not
  an error; an object with an ``items`` list but neither a JSON Feed
  ``version`` nor a single item object is not a feed.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any, Final

from syndicate.fetch.types import EntryData, FeedData, FetchError
from syndicate.httpdate import parse_http_date

__all__ = ["JSON_MEDIA_TYPES", "parse_json_feed"]

_JSON_FEED_VERSIONS: Final = frozenset(
    {"https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1"}
)
#: Content-Types that mark a document as JSON even when it does not start with ``{``.
JSON_MEDIA_TYPES: Final = frozenset({"application/feed+json", "application/json"})


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
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return parse_http_date(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _item_text(item: dict[str, Any]) -> str | None:
    """What a title can be made from, as HTML: summary, else content_text, else content_html."""
    summary = _json_string(item.get("summary"))
    if summary:
        return summary
    content_text = _json_string(item.get("content_text"))
    if content_text:
        return html.escape(content_text, quote=False)
    return _json_string(item.get("content_html"))


def parse_json_feed(text: str, *, url: str, notes: list[str]) -> FeedData:
    """JSON Feed 1.0/1.1. Titles are taken as HTML, like every other title.

    The spec says a JSON Feed title is plain text, but producers (WordPress
    plugins among them) put entities like ``&#8217;`` in them; reading them
    as HTML decodes those, and costs only tag-like text in a title.

    Raises :class:`FetchError` with stage ``"parse"`` for anything that is
    not a JSON Feed. A JSON Feed without items is returned with none.
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
    known = version in _JSON_FEED_VERSIONS
    if not known:
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
                text=_item_text(item),
                language=_json_string(item.get("language")),
            )
        )
    if not entries and not known:
        raise FetchError("parse", "not a feed: no JSON Feed version and no item objects")
    if len(entries) < len(items):
        notes.append(f"{len(items) - len(entries)} items that are not objects skipped")
    return FeedData(
        title=_json_string(document.get("title")),
        link=_json_string(document.get("home_page_url")),
        ttl=None,
        entries=tuple(entries),
        warning="; ".join(notes) or None,
        language=_json_string(document.get("language")),
    )
