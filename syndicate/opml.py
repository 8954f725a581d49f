"""OPML 2.0 (http://opml.org/spec2.opml), the exchange format of feed readers.

One writer for every OPML document syndicate makes (/feeds.opml, `syndicate
sources export`) and one reader for the files editors import. OPML files
come from other programs, so they are parsed with entity expansion and
network access off; the result is only ever appended to config.toml, which
stays the one list of sources.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from lxml import etree

from syndicate.config import SourceConfig
from syndicate.errors import SyndicateError
from syndicate.httpdate import format_http_date
from syndicate.text import collapse_whitespace, xml_safe


class OpmlError(SyndicateError, ValueError):
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


@dataclass(frozen=True)
class Outline:
    """A feed (with ``xml_url``) or a folder of outlines (without)."""

    text: str
    xml_url: str | None = None
    html_url: str | None = None
    children: Sequence[Outline] = ()


def write_opml(
    title: str,
    outlines: Iterable[Outline],
    *,
    date_modified: datetime | None = None,
    docs: bool = False,
) -> str:
    """An OPML 2.0 document: feeds as ``type="rss"`` outlines (the spec's name for any feed)."""
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = xml_safe(title)
    if date_modified is not None:
        ET.SubElement(head, "dateModified").text = format_http_date(date_modified)
    if docs:
        ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = ET.SubElement(opml, "body")

    def add(parent: ET.Element, outline: Outline) -> None:
        text = xml_safe(outline.text)
        if outline.xml_url is None:
            # A folder is text alone: the W3C validator asks any outline with
            # more than "text" for a type (MissingOutlineType).
            folder = ET.SubElement(parent, "outline", text=text)
            for child in outline.children:
                add(folder, child)
            return
        attributes = {"type": "rss", "text": text, "title": text, "xmlUrl": outline.xml_url}
        if outline.html_url is not None:
            attributes["htmlUrl"] = outline.html_url
        ET.SubElement(parent, "outline", attributes)

    for outline in outlines:
        add(body, outline)
    ET.indent(opml)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(opml, encoding="unicode") + "\n"


def sources_to_opml(title: str, sources: Iterable[SourceConfig]) -> str:
    return write_opml(f"{title}: Latest News sources", (Outline(s.name, s.url) for s in sources))


def append_sources(config_text: str, sources: Iterable[tuple[str, str]]) -> str:
    """config.toml with one [[sidebar.sources]] block per source appended."""
    blocks = [
        f"\n[[sidebar.sources]]\nname = {json.dumps(name, ensure_ascii=False)}\n"
        f"url = {json.dumps(url, ensure_ascii=False)}\n"
        for name, url in sources
    ]
    text = config_text if config_text.endswith("\n") else config_text + "\n"
    return text + "\n# Added by `syndicate sources import`" + "".join(blocks)
