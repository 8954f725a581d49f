"""Entries that feedgen made once, kept as bytes and put back into later feeds.

feedgen builds a whole document from scratch: for every entry it fills a
FeedEntry, builds its lxml elements and serialises them, about 50 us an entry
and most of an Atom or RSS build. But an article sits in a dozen feeds (site,
section, each author, each tag, its issue) and a change to one article leaves
the other 49 entries of a feed as they were. So each entry's XML is kept,
keyed by its cleaned :class:`~syndicate.formats.view.EntryView` (which
differs whenever anything the entry shows differs), and a feed is feedgen's
own document head with the kept entries put where feedgen puts them: at the
end of ``<feed>`` in Atom, of ``<channel>`` in RSS.

The bytes are exactly those of feedgen's whole-document output (a property
test compares them over arbitrary articles): an entry is serialised inside a
root element made the way feedgen makes the document's, with the same
namespace prefixes, so it is indented and prefixed as it would be in place.
Should a feedgen or lxml release ever serialise differently from what
:class:`Layout` expects, :meth:`Layout.fragments` returns None and the caller
builds the whole document with feedgen, as before: slower, never wrong.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from lxml import etree

from syndicate.formats.view import EntryView

#: Entries kept per format: a dozen feeds' worth of pages for every section,
#: author and tag that is busy at once, at about 2 KB each.
MAX_ENTRIES: Final = 6000


@dataclass(frozen=True)
class Layout:
    """Where a format's entries go in feedgen's pretty-printed document."""

    name: str
    #: The document element as feedgen makes it (tag, attributes), and its namespaces.
    root: tuple[str, Mapping[str, str]]
    namespaces: Mapping[str, str]
    #: The element entries are children of: "" for the root, else a child's tag.
    parent: str
    #: The bytes that end every document, right after the last entry.
    closing: bytes
    #: How a kept entry starts (its indentation and start tag).
    opening: bytes

    def fragments(self, elements: list[etree._Element]) -> list[bytes] | None:
        """Each element serialised as it appears in a document, or None if they would not splice.

        All of them go into one root, serialised once: cheaper than a root
        each. They are told apart by the start of each entry's first line,
        which no text inside an entry can contain (lxml escapes ``<`` there).
        """
        tag, attributes = self.root
        root = xml_elem(tag, nsmap=dict(self.namespaces), **attributes)
        parent = xml_elem(self.parent, root) if self.parent else root
        for element in elements:
            parent.append(element)
        data: bytes = etree.tostring(
            root, pretty_print=True, encoding="UTF-8", xml_declaration=False
        )
        if not data.endswith(self.closing):
            return None
        # "<root ...>", then per entry "\n  <entry>...\n  </entry>", then "\n".
        pieces = data[: len(data) - len(self.closing)].split(b"\n" + self.opening)
        if len(pieces) != len(elements) + 1 or not pieces[-1].endswith(b"\n"):
            return None
        return [self.opening + piece + b"\n" for piece in pieces[1:-1]] + [
            self.opening + pieces[-1]
        ]

    def splice(self, head: bytes, entries: Iterable[bytes]) -> bytes | None:
        """The document: ``head`` (feedgen's, with no entries) with ``entries`` at the end."""
        if not head.endswith(self.closing):
            return None
        return b"".join((head[: len(head) - len(self.closing)], *entries, self.closing))


class Fragments:
    """Serialised entries by format and EntryView, least recently used dropped first.

    Builds run in several threads at once; the lock guards the dictionary
    only, so two threads that miss the same entry both make it (the same
    bytes) rather than wait for each other.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._kept: OrderedDict[tuple[str, EntryView], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)

    def entries(
        self,
        layout: Layout,
        views: Iterable[EntryView],
        make: Callable[[EntryView], FeedEntry],
        element: Callable[[FeedEntry], etree._Element],
    ) -> list[bytes] | None:
        """Each view's entry bytes, made by ``element(make(view))`` when not kept.

        None when some entry would not splice (see :meth:`Layout.fragments`).
        """
        views = list(views)
        found: list[bytes | None] = []
        with self._lock:
            for view in views:
                kept = self._kept.get((layout.name, view))
                if kept is not None:
                    self._kept.move_to_end((layout.name, view))
                found.append(kept)
        missing = [i for i, kept in enumerate(found) if kept is None]
        if missing:
            made = layout.fragments([element(make(views[i])) for i in missing])
            if made is None:
                return None
            with self._lock:
                for i, fragment in zip(missing, made, strict=True):
                    found[i] = fragment
                    self._kept[(layout.name, views[i])] = fragment
                while len(self._kept) > self.max_entries:
                    self._kept.popitem(last=False)
        return [kept for kept in found if kept is not None]


#: The one store of kept entries, shared by the format modules.
FRAGMENTS: Final = Fragments()


def assemble(
    layout: Layout,
    fg: FeedGenerator,
    views: Sequence[EntryView],
    make: Callable[[EntryView], FeedEntry],
    element: Callable[[FeedEntry], etree._Element],
    serialise: Callable[[FeedGenerator], bytes],
) -> bytes:
    """The document: kept entries after feedgen's head ``fg``, or feedgen's whole build.

    ``make`` fills a FeedEntry for a view, ``element`` is feedgen's
    ``atom_entry`` or ``rss_entry``, ``serialise`` its ``atom_str`` or ``rss_str``.
    """
    kept = FRAGMENTS.entries(layout, views, make, element)
    document = layout.splice(serialise(fg), kept) if kept is not None else None
    if document is not None:
        return document
    for view in views:  # the splice did not fit: feedgen makes it all
        fg.add_entry(make(view), order="append")
    return serialise(fg)
