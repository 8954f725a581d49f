"""Entry IDs as the document wrote them, and the base URL in force for each entry.

An entry's ID is its identity for ever (it is the dedup key the store keeps),
so it must not depend on the URL the feed happened to be fetched from. But
when a document uses ``xml:base`` (XML Base, W3C, second edition), feedparser
has to be given the fetch URL to apply it correctly, and then it resolves
permalink GUIDs (RSS 2.0 ``<guid isPermaLink="true">``) and every Atom
``<id>`` (RFC 4287 section 4.2.6) against it as well. This module reads
the IDs a second time, with lxml, exactly as written, together with the
``xml:base`` in force on each entry element, so :mod:`.xmlfeed` can pair
them with feedparser's entries (:func:`ids_agree` says whether a pairing is
plausible).

lxml reads the already repaired text (:mod:`.repair`), with entity
resolution, DTD loading and network access off, so it can neither expand
nor fetch anything; a document it cannot read even leniently gives None.
"""

from __future__ import annotations

from typing import Any, Final

from lxml import etree

__all__ = ["ids_agree", "raw_identities", "xml_parser"]

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


def xml_parser(*, recover: bool) -> etree.XMLParser:
    """lxml that can neither expand nor fetch anything: no entities, no DTD, no network."""
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


def raw_identities(data: bytes, url: str) -> list[tuple[str | None, str | None]] | None:
    """(raw guid, base in force) for each entry element, in document order.

    ``url`` is the base the document's own ``xml:base`` is resolved
    against. None if lxml cannot read the document, strictly or leniently.
    """
    root: Any = None
    for recover in (False, True):
        try:
            parser = xml_parser(recover=recover)
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


def ids_agree(fp_id: str | None, raw: str | None) -> bool:
    """Could feedparser's ID be ``raw``, perhaps resolved against a base?"""
    if not fp_id or not raw:
        return not fp_id and not raw
    return fp_id == raw or fp_id.endswith(raw.lstrip("./"))
