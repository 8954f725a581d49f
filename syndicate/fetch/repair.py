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

* Junk after the root element's end tag (a PHP warning, an HTML footer
  appended by the server) is removed too, as junk before it is.

CDATA sections, comments and processing instructions are left as they are:
their ampersands are literal. Every newline of what is removed before the
root element is kept, so a parser's line numbers are the document's own.

What cannot be repaired is a document cut off before its end: its root
element is never closed (:func:`closes_its_root`), so its last entries
may be anything and the parse stage refuses the whole document.
"""

from __future__ import annotations

import html.entities
import re
from typing import Final

from syndicate.fetch.decode import C1_TO_CP1252
from syndicate.text import xml_safe

__all__ = ["closes_its_root", "repair"]

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
# What may stand before and after the root element (XML 1.0 production [27] Misc).
# Possessive (``*+``): a hostile tail of many comments and then junk would
# otherwise make the engine try every way of pairing their ends.
_MISC = re.compile(r"(?:\s|<\?.*?\?>|<!--.*?-->)*+", re.DOTALL)
_ROOT_NAME = re.compile(r"<([^\s/>!?\"'=<]+)")
_EMPTY_ROOT = re.compile(r"""<[^\s/>!?"'=<]+(?:\s+[^\s=/>"'<]+\s*=\s*(?:"[^"]*"|'[^']*'))*+\s*/>""")


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


def _newlines(removed: str) -> str:
    """The newlines of text taken out before the root, so line numbers stay the document's."""
    return "\n" * removed.count("\n")


def _strip_declarations(text: str) -> tuple[str, int]:
    """Remove DOCTYPE (and any other ``<!...>`` declaration) from the prolog.

    Only the prolog (before the root element) may declare entities; with
    every declaration gone, no parser downstream has an entity to expand or
    an external resource to load, whatever it would have done with them.
    Each declaration leaves only its newlines behind.
    """
    pieces: list[str] = []
    removed = 0
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
            end = _markup_declaration_end(text, i)
            pieces += [text[last:i], _newlines(text[i:end])]
            last = i = end
            removed += 1
        else:
            break
    return "".join(pieces) + text[last:], removed


def _root_end(text: str) -> int | None:
    """Index just past the root element: its last end tag, or an empty root's one tag.

    None when the root element is never closed: the document was cut off
    (or is no XML at all). The end tag's name is matched case-insensitively,
    a slip that is no sign of truncation.
    """
    start = _MISC.match(text).end()  # type: ignore[union-attr]  # it matches the empty string
    root = _ROOT_NAME.match(text, start)
    if root is None:
        return None
    empty = _EMPTY_ROOT.match(text, start)
    if empty is not None:
        return empty.end()
    ends = re.finditer(rf"</{re.escape(root.group(1))}\s*>", text, re.IGNORECASE)
    last = None
    for last in ends:  # noqa: B007 - only the last one is wanted
        pass
    return None if last is None else last.end()


def closes_its_root(text: str) -> bool:
    """Does this (repaired) document end its root element, or was it cut off before?"""
    return _root_end(text) is not None


def _cut_junk_after(text: str, repairs: _Repairs) -> str:
    """Remove what follows the root element, unless it is only comments, PIs and space."""
    end = _root_end(text)
    if end is None:
        return text
    tail = text[end:]
    if _MISC.fullmatch(tail):
        return text
    repairs.add(len(tail.strip()), "characters of junk after the document removed")
    return text[:end] + "\n"


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
    The text starts with newlines where the document's prolog had them;
    after those, it may still not start with ``<``: then it was never XML.
    """
    repairs = _Repairs()
    body = text.lstrip("\ufeff \t\r\n")
    lines = _newlines(text[: len(text) - len(body)])
    if not body.startswith("<"):
        start = _DOCUMENT_START.search(body, 0, 4096)
        if start is not None:
            repairs.add(start.start(), "characters of junk before the document removed")
            lines += _newlines(body[: start.start()])
            body = body[start.start() :]
    declaration = _XML_DECLARATION.match(body)
    if declaration is not None:
        lines += _newlines(declaration.group())
        body = body[declaration.end() :]
    body, declarations = _strip_declarations(body)
    repairs.add(declarations, "DOCTYPE or markup declarations removed")
    stripped = body.lstrip()
    lines += _newlines(body[: len(body) - len(stripped)])
    body = _cut_junk_after(stripped, repairs)
    body = _fix_references(body, repairs)
    safe = xml_safe(body)
    repairs.add(len(body) - len(safe), "control characters removed")
    return lines + safe, repairs.notes
