"""OPML 2.0, the exchange format of feed readers, for the sidebar's sources.

OPML files come from other programs, so they are parsed with entity
expansion and network access off; the result is only ever appended to
config.toml, which stays the one list of sources.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from lxml import etree

from syndicate.config import SourceConfig
from syndicate.text import collapse_whitespace, xml_safe


class OpmlError(ValueError):
    """The file is not OPML we can use; the message says why."""


def read_opml(data: bytes) -> list[tuple[str, str]]:
    """Every (name, url) of an OPML file's feed outlines, nested folders included."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"not well-formed XML: {exc}") from None
    if root.tag != "opml":
        raise OpmlError(f"the root element is <{root.tag}>, not <opml>")
    found: list[tuple[str, str]] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise OpmlError(
                f"outline {outline.get('text')!r}: xmlUrl {url!r} is not an http(s) URL"
            )
        name = collapse_whitespace(xml_safe(outline.get("title") or outline.get("text") or ""))
        found.append((name or parts.netloc, url))
    if not found:
        raise OpmlError("no outline with an xmlUrl: nothing to import")
    return found


def sources_to_opml(title: str, sources: Iterable[SourceConfig]) -> str:
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = xml_safe(f"{title}: Latest News sources")
    body = ET.SubElement(opml, "body")
    for source in sources:
        ET.SubElement(
            body,
            "outline",
            type="rss",
            text=xml_safe(source.name),
            title=xml_safe(source.name),
            xmlUrl=source.url,
        )
    ET.indent(opml)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(opml, encoding="unicode") + "\n"


def append_sources(config_text: str, sources: Iterable[tuple[str, str]]) -> str:
    """config.toml with one [[sidebar.sources]] block per source appended."""
    blocks = [
        f"\n[[sidebar.sources]]\nname = {json.dumps(name, ensure_ascii=False)}\n"
        f"url = {json.dumps(url, ensure_ascii=False)}\n"
        for name, url in sources
    ]
    text = config_text if config_text.endswith("\n") else config_text + "\n"
    return text + "\n# Added by `syndicate sources import`" + "".join(blocks)
