"""Decoded feed text -> XML an XML parser will accept, and a note of each change.

Outside documents are broken in the same few ways over and over, so the
parse stage repairs before it parses, rather than rejecting whole feeds:

* Junk before the document (a PHP warning, say) and the XML declaration
  (the text is decoded now, whatever encoding it named) are removed.
* The DOCTYPE (with any internal subset) and every other markup
  declaration are removed from the prolog (XML 1.0 section 2.8) before any
  XML parser sees the document. No entity is ever declared, so neither an
  expansion bomb ("billion laughs") nor an external entity
  (``file:///etc/passwd``) can do anything: there is nothing to expand and
  nothing to load. (feedparser strips entity declarations itself, but with
  a line-anchored regex: a one-line bomb still reaches expat, which stops
  it only at its amplification limit, after seconds and tens of megabytes.)
* HTML named entities (``&eacute;``, ``&nbsp;``), which outside RSS 0.91's
  DTD make a document ill-formed (XML 1.0 section 4.1, "Entity Declared"),
  become numeric references, from the HTML Standard's table of named
  character references; unknown ones and bare ampersands are escaped so
  they show literally. Numeric references into the C1 range mean what
  windows-1252 means, as the HTML Standard reads them; references to
  characters XML forbids (XML 1.0 section 2.2, production [2] ``Char``),
  and raw control characters, are dropped. Without this expat gives up,
  and feedparser's lenient fallback invents semicolons ("R&D;"), escapes
  CDATA a second time, knows no HTML5 entities and keeps control
  characters.

CDATA sections, comments and processing instructions are left as they are:
their ampersands are literal.
"""

from __future__ import annotations

import html.entities
import re
from typing import Final

from syndicate.fetch.decode import C1_TO_CP1252
from syndicate.text import xml_safe

__all__ = ["repair"]

_XML_DECLARATION = re.compile(r"\A<\?xml\b.*?\?>", re.DOTALL)
_DOCUMENT_START = re.compile(r"<\?xml|<rss\b|<feed\b|<rdf:RDF\b", re.IGNORECASE)
# Sections whose ampersands are literal, and how each one ends.
_SECTION_START = re.compile(r"<!\[CDATA\[|<!--|<\?")
_SECTION_END: Final = {"<![CDATA[": "]]>", "<!--": "-->", "<?": "?>"}
# An ampersand that starts no reference at all: escaped, in one C-level pass.
_BARE_AMPERSAND = re.compile(
    r"&(?![A-Za-z][A-Za-z0-9]{0,40};|#[0-9]{1,10};|#[xX][0-9a-fA-F]{1,8};)"
)
# A reference that is not one of XML's own five (which are by far the most
# common, and need nothing): looked at one by one.
_REFERENCE = re.compile(
    r"&(?!(?:amp|lt|gt|quot|apos);)"
    r"(?:#([0-9]{1,10})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]{0,40}));"
)
_DECLARATION_TOKEN = re.compile(r"[\"'\[\]>]|<!--")


def _xml_char_allowed(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


class _Repairs:
    """What the repair step changed, for FeedData.warning."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def add(self, count: int, what: str) -> None:
        if count:
            self.notes.append(f"{count} {what}")


def _markup_declaration_end(text: str, start: int) -> int:
    """Index just past the ``<!...>`` declaration opening at ``start``.

    Quote- and bracket-aware, so an internal subset whose entity values hold
    ``>`` or ``]`` cannot end it early; an unterminated one runs to the end.
    """
    depth = 0
    i = start + 2
    while (token := _DECLARATION_TOKEN.search(text, i)) is not None:
        kind = token.group()
        i = token.end()
        if kind in ('"', "'"):
            close = text.find(kind, i)
            if close < 0:
                break
            i = close + 1
        elif kind == "[":
            depth += 1
        elif kind == "]":
            depth = max(0, depth - 1)
        elif kind == ">":
            if depth == 0:
                return i
        elif depth:  # a comment inside the internal subset
            close = text.find("-->", i)
            if close < 0:
                break
            i = close + 3
    return len(text)


def _strip_declarations(text: str) -> tuple[str, int]:
    """Remove DOCTYPE (and any other ``<!...>`` declaration) from the prolog.

    Only the prolog (before the root element) may declare entities; with
    every declaration gone, no parser downstream has an entity to expand or
    an external resource to load, whatever it would have done with them.
    """
    pieces: list[str] = []
    last = i = 0
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text.startswith("<?", i):
            close = text.find("?>", i + 2)
            i = n if close < 0 else close + 2
        elif text.startswith("<!--", i):
            close = text.find("-->", i + 4)
            i = n if close < 0 else close + 3
        elif text.startswith("<!", i) and not text.startswith("<![", i):
            pieces.append(text[last:i])
            last = i = _markup_declaration_end(text, i)
        else:
            break
    return "".join(pieces) + text[last:], len(pieces)


class _ReferenceFixer:
    """Rewrites one reference at a time (a ``re.sub`` callback) and counts."""

    def __init__(self) -> None:
        self.named = self.unknown = self.dropped = 0

    def __call__(self, ref: re.Match[str]) -> str:
        decimal, hexadecimal, name = ref.groups()
        if name is not None:
            replacement = html.entities.html5.get(f"{name};")
            if replacement is None:
                self.unknown += 1
                return f"&amp;{name};"
            self.named += 1
            return "".join(f"&#{ord(c)};" for c in replacement)
        code = int(decimal) if decimal is not None else int(hexadecimal, 16)
        if code in C1_TO_CP1252:  # &#146; means what windows-1252 means, as in HTML
            return f"&#{ord(C1_TO_CP1252[code])};"
        if _xml_char_allowed(code):
            return ref.group(0)
        self.dropped += 1
        return ""


def _fix_references(text: str, repairs: _Repairs) -> str:
    """Make every ``&`` well-formed XML, leaving CDATA, comments and PIs alone.

    Bare ampersands and the common references are handled by the regex
    engine; Python only sees the references that need a decision, so a
    hostile document of nothing but ampersands costs no more than a page.
    """
    fixer = _ReferenceFixer()
    bare = 0
    out: list[str] = []
    pos = 0
    while pos < len(text):
        section = _SECTION_START.search(text, pos)
        end = len(text) if section is None else section.start()
        chunk, count = _BARE_AMPERSAND.subn("&amp;", text[pos:end])
        bare += count
        out.append(_REFERENCE.sub(fixer, chunk))
        if section is None:
            break
        close = text.find(_SECTION_END[section.group()], section.end())
        # A section cut off by truncation runs to the end, untouched.
        pos = len(text) if close < 0 else close + len(_SECTION_END[section.group()])
        out.append(text[end:pos])
    repairs.add(fixer.named, "HTML entities made numeric")
    repairs.add(bare + fixer.unknown, "stray ampersands or undefined entities escaped")
    repairs.add(fixer.dropped, "references to characters XML forbids dropped")
    return "".join(out)


def repair(text: str) -> tuple[str, list[str]]:
    """Turn a decoded document into well-formed-if-at-all-possible XML text.

    Returns the repaired text and one note per kind of change made
    ("3 HTML entities made numeric"), empty when nothing was changed.
    The text may still not start with ``<``: then it was never XML.
    """
    repairs = _Repairs()
    text = text.lstrip("\ufeff \t\r\n")
    if not text.startswith("<"):
        start = _DOCUMENT_START.search(text, 0, 4096)
        if start is not None:
            repairs.add(start.start(), "characters of junk before the document removed")
            text = text[start.start() :]
    text = _XML_DECLARATION.sub("", text, count=1)
    text, declarations = _strip_declarations(text)
    text = text.lstrip()
    repairs.add(declarations, "DOCTYPE or markup declarations removed")
    text = _fix_references(text, repairs)
    safe = xml_safe(text)
    repairs.add(len(text) - len(safe), "control characters removed")
    return safe, repairs.notes
