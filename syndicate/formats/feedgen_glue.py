"""feedgen glue: the hook that lets the builders add elements feedgen does not know.

The RSS channel's paging and hub links, ``dc:creator`` and ``media:content``
go in through feedgen's own extension protocol; the namespaces live here so
that both XML builders spell them the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from lxml import etree

from syndicate.formats.view import LeadImage

ATOM_NS: Final = "http://www.w3.org/2005/Atom"
#: Media RSS (https://www.rssboard.org/media-rss), for the lead image.
MEDIA_NS: Final = "http://search.yahoo.com/mrss/"
#: Dublin Core elements (https://www.dublincore.org/specifications/dublin-core/dces/).
DC_NS: Final = "http://purl.org/dc/elements/1.1/"
#: Feed History (RFC 5005 section 4), for ``fh:archive``.
FH_NS: Final = "http://purl.org/syndication/history/1.0"


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


def add_archive_marker(parent: etree._Element) -> None:
    """``<fh:archive/>``: this document is an archive that should not change (RFC 5005 4)."""
    etree.SubElement(parent, f"{{{FH_NS}}}archive")
