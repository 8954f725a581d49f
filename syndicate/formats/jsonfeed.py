"""JSON Feed 1.1, built with the json module (feedgen has no JSON Feed).

Follows https://www.jsonfeed.org/version/1.1/ and is served as
``application/feed+json``. The same cleaned view as RSS and Atom goes in, so
IDs, titles, dates and URLs agree across the three formats.

Choices the spec leaves open, and why:

* ``id`` is the tag: URI from ``entry_id`` (a string, as 1.1 asks), the same
  as Atom's ``<id>`` and RSS's ``<guid>``.
* Every item has ``content_html`` or ``content_text``, as the spec requires:
  the absolutized body in full feeds; the standfirst (else the title) as
  ``content_text`` when the feed is summary-only or the body is empty.
* Characters illegal in XML are stripped here too: they are legal JSON, but
  lone surrogates cannot be encoded as UTF-8, and control characters in a
  title help no reader.
* ``icon`` is the logo (falling back to the icon), ``favicon`` the icon: the
  spec wants a large image for the first and a small one for the second.
* When some article has no byline, the feed-level ``authors`` names the
  publication (title and site page), which items without authors inherit;
  the same rule as Atom's feed-level ``<author>``.
* Paging is ``next_url`` only; JSON Feed has no first/previous/last.
* JSON Feed has no archives either. An archive document's ``next_url`` is
  its older neighbour (``prev-archive``): ``next_url`` means "older items"
  in JSON Feed, so a reader that pages by it walks the archives with no
  extension at all. The RFC 5005 links themselves ride in an extension
  object, ``_archive`` (the spec's rule for extensions: a key starting with
  an underscore, with ``about`` naming its documentation): ``archive: true``
  on archive documents (``fh:archive``), ``current``, ``prev_archive`` and
  ``next_archive`` as URLs. The head keeps ``next_url`` for its ``?page=2``
  and names its newest archive in ``_archive.prev_archive``.
* Dates are RFC 3339 in UTC with a ``Z``; keys are written in a fixed order
  and without whitespace, so the same input gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from syndicate.formats.spec import FeedSpec
from syndicate.formats.view import EntryView, FeedView, prepare, rfc3339
from syndicate.models import Article

VERSION: Final = "https://jsonfeed.org/version/1.1"
#: What the ``_archive`` extension follows.
ARCHIVE_ABOUT: Final = "https://www.rfc-editor.org/rfc/rfc5005#section-4"


def _archive(view: FeedView) -> dict[str, Any] | None:
    """The ``_archive`` extension object (RFC 5005 section 4 links), None when there is none."""
    links = view.archives
    if links is None:
        return None
    found: dict[str, Any] = {"about": ARCHIVE_ABOUT}
    if links.archive:
        found["archive"] = True
    if links.current:
        found["current"] = links.current
    if links.prev_archive:
        found["prev_archive"] = links.prev_archive
    if links.next_archive:
        found["next_archive"] = links.next_archive
    return found if len(found) > 1 else None


def _item(entry: EntryView) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry.id, "url": entry.url, "title": entry.title}
    if entry.summary:
        item["summary"] = entry.summary
    if entry.content_html is not None:
        item["content_html"] = entry.content_html
    else:
        item["content_text"] = entry.summary or entry.title
    if entry.image is not None:
        item["image"] = entry.image.url
    item["date_published"] = rfc3339(entry.published)
    item["date_modified"] = rfc3339(entry.updated)
    if entry.authors:
        item["authors"] = [
            {"name": p.name, "url": p.uri} if p.uri else {"name": p.name} for p in entry.authors
        ]
    tags = list(dict.fromkeys(c.label for c in entry.categories if c.label))
    if tags:
        item["tags"] = tags
    if entry.enclosure is not None:
        attachment: dict[str, Any] = {
            "url": entry.enclosure.url,
            "mime_type": entry.enclosure.mime_type,
            "title": entry.enclosure.title,
        }
        if entry.enclosure.length:
            attachment["size_in_bytes"] = entry.enclosure.length
        item["attachments"] = [attachment]
    return item


def document(view: FeedView) -> dict[str, Any]:
    """The JSON Feed object for a prepared view (before serialisation)."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": view.title,
        "home_page_url": view.html_url,
        "feed_url": view.self_url,
    }
    if view.subtitle:
        feed["description"] = view.subtitle
    if view.logo or view.icon:
        feed["icon"] = view.logo or view.icon
    if view.icon:
        feed["favicon"] = view.icon
    if view.pages is not None and view.pages.next:
        feed["next_url"] = view.pages.next
    elif view.archives is not None and view.archives.archive and view.archives.prev_archive:
        feed["next_url"] = view.archives.prev_archive
    if any(not entry.authors for entry in view.entries):
        # Items without authors take the feed's (spec: "authors"), as in Atom.
        feed["authors"] = [{"name": view.title, "url": view.html_url}]
    if view.language:
        feed["language"] = view.language
    if view.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": view.hub_url}]
    archive = _archive(view)
    if archive is not None:
        feed["_archive"] = archive
    feed["items"] = [_item(entry) for entry in view.entries]
    return feed


def build(spec: FeedSpec, articles: Sequence[Article], *, enclosures: bool = True) -> bytes:
    """The JSON Feed 1.1 document for ``articles`` (newest first), as UTF-8 bytes."""
    return write(prepare(spec, articles, enclosures=enclosures))


def write(view: FeedView) -> bytes:
    """The document for a view made already (the digest makes its own entries)."""
    text = json.dumps(document(view), ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")
