"""RSS 2.0 feeds, built with feedgen.

Follows the RSS 2.0 specification (https://www.rssboard.org/rss-specification)
and the RSS Advisory Board's Best Practices Profile
(https://www.rssboard.org/rss-profile), with these extensions:

* ``atom:link`` (RFC 4287 section 4.2.7) for ``rel="self"``, the other formats
  (``rel="alternate"``), RFC 5005 paging (``first``, ``previous``, ``next``,
  ``last``) and archives (``current``, ``prev-archive``, ``next-archive``, with
  ``fh:archive`` in the channel of an archive document, as RFC 5005 section 4
  shows for RSS) and the WebSub hub (``rel="hub"``, W3C WebSub section 4);
* ``content:encoded`` (http://purl.org/rss/1.0/modules/content/) for the body;
* ``dc:creator`` (Dublin Core) for the byline, because RSS ``<author>``
  must be an email address;
* ``media:content`` (Media RSS) for the lead image.

Choices the spec leaves open, and why:

* The channel ``<link>`` is the site page, not the feed: feedgen takes the
  last ``link()`` added, so the HTML page is added last.
* ``<guid isPermaLink="false">`` is the tag: URI from ``entry_id``, the same
  ID Atom and JSON Feed use, so a slug change never duplicates an item.
* ``<description>``, the channel's (the feed's subtitle) and each item's (the
  standfirst), is plain text written *HTML-escaped*: readers, feedparser
  among them, take every RSS description as HTML, so "C++ & <Rust>" written
  only XML-escaped reads as "C++ &" there. Escaping keeps "a < b" or "AT&T"
  reading as written (the Atom subtitle and summary are ``type="text"``).
* ``<title>``, ``<copyright>``, ``dc:creator`` and ``<category>`` are plain
  text written only XML-escaped. RSS leaves their type open and readers
  disagree: newsboat and the reader library show titles as text (an
  HTML-escaped "AT&amp;amp;T" would show as "AT&amp;T" in both). feedparser
  hands the text over unchanged but labels a title HTML when it holds a
  closing tag or a known entity reference, so a client that honours the
  label (rss2email) shows the rare title "&amp; literal" as "& literal";
  such titles are exact everywhere only in Atom and JSON Feed, which say
  the type.
* One ``dc:creator`` per item, holding the whole byline ("Simon Assaf and
  Salma Haddad"): newsboat and reader keep only the last of several
  ``dc:creator`` elements and rss2email only the first, so a byline of two
  would lose a name in each. The per-author structure (each name with its
  author page) is in the Atom and JSON feeds.
* ``<enclosure length>`` is the PDF's size in bytes, which the CMS gives as
  ``pdf_length``; ``length`` is required, so it is 0 when unknown, as the
  Best Practices Profile says.
* ``<lastBuildDate>`` is the newest article's ``updated`` (epoch when empty),
  never the clock, so the same store gives the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import partial

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate.formats.feedgen_glue import (
    ATOM_NS,
    DC_NS,
    FH_NS,
    MEDIA_NS,
    FeedgenHook,
    add_archive_marker,
    add_media_content,
)
from syndicate.formats.fragments import Layout, assemble
from syndicate.formats.spec import FeedSpec
from syndicate.formats.view import FEED_MEDIA_TYPES, EntryView, FeedView, byline, prepare
from syndicate.models import Article

RSS_DOCS = "https://www.rssboard.org/rss-specification"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
#: Declared on <rss> by the channel hook; feedgen adds atom and content itself.
CHANNEL_NAMESPACES = {"dc": DC_NS, "media": MEDIA_NS}

#: Where items go in feedgen's RSS document (see syndicate.formats.fragments).
LAYOUT = Layout(
    name="rss",
    root=("rss", {"version": "2.0"}),
    namespaces={**CHANNEL_NAMESPACES, "atom": ATOM_NS, "content": CONTENT_NS},
    parent="channel",
    closing=b"  </channel>\n</rss>\n",
    opening=b"    <item>",
)


def _channel_links(view: FeedView, rss: etree._Element) -> None:
    """The atom:link elements feedgen does not write into an RSS channel.

    feedgen writes only ``rel="self"``; alternates, paging and the hub are
    added here, in the same order as in the Atom feed.
    """
    channel = rss.find("channel")
    if channel is None:  # pragma: no cover - feedgen always writes one
        return

    def link(rel: str, href: str, media_type: str | None = None) -> None:
        element = etree.SubElement(channel, f"{{{ATOM_NS}}}link", rel=rel, href=href)
        if media_type:
            element.set("type", media_type)

    for fmt, url in view.alternates:
        if fmt != "rss":
            link("alternate", url, FEED_MEDIA_TYPES[fmt])
    if view.pages is not None:
        link("first", view.pages.first)
        if view.pages.previous:
            link("previous", view.pages.previous)
        if view.pages.next:
            link("next", view.pages.next)
        link("last", view.pages.last)
    archives = view.archives
    if archives is not None:
        if archives.current:
            link("current", archives.current)
        if archives.prev_archive:
            link("prev-archive", archives.prev_archive)
        if archives.next_archive:
            link("next-archive", archives.next_archive)
    if view.hub_url:
        link("hub", view.hub_url)
    if archives is not None and archives.archive:
        add_archive_marker(channel)


def _item_extras(entry: EntryView, item: etree._Element) -> None:
    """One ``dc:creator`` with every name of the byline, then the lead image."""
    if entry.authors:
        etree.SubElement(item, f"{{{DC_NS}}}creator").text = byline(entry.authors)
    if entry.image is not None:
        add_media_content(item, entry.image)


def build(spec: FeedSpec, articles: Sequence[Article], *, enclosures: bool = True) -> bytes:
    """The RSS 2.0 document for ``articles`` (newest first), as UTF-8 bytes.

    ``enclosures=False`` leaves out the print-issue PDFs (for feeds where a
    PDF per item would be noise; see the module notes).
    """
    return write(prepare(spec, articles, enclosures=enclosures))


def write(view: FeedView) -> bytes:
    """The document for a view made already (the digest makes its own entries)."""
    return assemble(LAYOUT, head(view), view.entries, entry_of, FeedEntry.rss_entry, serialise)


def serialise(fg: FeedGenerator) -> bytes:
    data: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data


def head(view: FeedView) -> FeedGenerator:
    """Everything in the document but its items."""
    fg = FeedGenerator()
    archive = view.archives is not None and view.archives.archive
    namespaces = {**CHANNEL_NAMESPACES, "fh": FH_NS} if archive else CHANNEL_NAMESPACES
    fg.register_extension(
        "syndicate_channel",
        partial(FeedgenHook, namespaces, partial(_channel_links, view)),
        None,
        atom=False,
        rss=True,
    )
    fg.title(view.title)
    fg.description(html.escape(view.description, quote=False))
    fg.link(href=view.self_url, rel="self", type=FEED_MEDIA_TYPES["rss"])
    fg.link(href=view.html_url, rel="alternate")  # last link() = channel <link>
    if view.language:
        fg.language(view.language)
    if view.rights:
        fg.copyright(view.rights)
    generator = " ".join(part for part in (view.generator, view.generator_version) if part)
    fg.generator(generator)
    fg.docs(RSS_DOCS)
    image = view.logo or view.icon
    if image:
        fg.image(url=image, title=view.title, link=view.html_url)
    fg.lastBuildDate(view.updated)
    return fg


def entry_of(entry: EntryView) -> FeedEntry:
    """One item, filled in for feedgen."""
    item = FeedEntry()
    item.title(entry.title)
    item.link(href=entry.url)
    item.guid(entry.id, permalink=False)
    if entry.summary:
        item.description(html.escape(entry.summary, quote=False))
    if entry.content_html is not None:
        item.content(entry.content_html)
    if entry.categories:
        item.category(
            [{"term": c.term, "label": c.label, "scheme": c.scheme} for c in entry.categories]
        )
    if entry.enclosure is not None:
        item.enclosure(entry.enclosure.url, entry.enclosure.length or 0, entry.enclosure.mime_type)
    item.published(entry.published)
    item.updated(entry.updated)
    item.register_extension(
        "syndicate_item", partial(FeedgenHook, {}, partial(_item_extras, entry)), atom=False
    )
    return item
