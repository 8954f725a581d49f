"""Outside feed bytes -> text: which encoding a document is really in.

The parse stage decodes every document itself and hands feedparser UTF-8,
so feedparser never guesses. The order follows XML 1.0 (Fifth Edition)
Appendix F and RFC 7303 section 3, with the forgiveness real feeds need:

1. A byte order mark decides (XML 1.0 Appendix F.1; RFC 7303, unlike the
   RFC 3023 it replaced, lets the BOM win over the charset parameter).
2. UTF-16 without a BOM shows itself: XML never starts with a NUL.
3. The HTTP ``charset`` parameter, then the XML declaration's ``encoding``
   (XML 1.0 section 4.3.3), then UTF-8 (the XML default), then
   windows-1252, which cannot fail.

A label that does not fit the bytes is skipped rather than obeyed: a
UTF-16 label on ASCII-compatible bytes, or a strict decode that fails.
The labels ``us-ascii``, ``iso-8859-1`` and ``windows-1252`` all mean
windows-1252, as the WHATWG Encoding Standard has browsers read them; and
on bytes that are valid UTF-8 beyond ASCII they lose to UTF-8, because
servers stamp ISO-8859-1 on UTF-8 feeds far more often than latin-1 text
happens to be valid UTF-8. Codecs Python has but no feed should be read
with (UTF-7, which smuggles markup past filters, among them) are refused.
"""

from __future__ import annotations

import codecs
import re
from typing import Final

__all__ = ["C1_TO_CP1252", "decode"]

# Longest first: the UTF-32-LE BOM begins with the UTF-16-LE one.
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels that always "succeed" and that servers send by default (or by
# mistake) for UTF-8 documents; WHATWG reads all of them as windows-1252.
_LEGACY: Final = frozenset({"ascii", "iso8859-1", "cp1252"})
_WIDE: Final = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})
# Codecs Python has but no feed should be read with (UTF-7 smuggles markup).
_REFUSED: Final = frozenset(
    {"utf-7", "unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined"}
)
_XML_ENCODING = re.compile(
    rb"""\A\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._:-]{0,40})["']"""
)
#: windows-1252's letters for the C1 range, which latin-1 decodes to controls
#: (all but 0x81, 0x8D, 0x8F, 0x90 and 0x9D, which windows-1252 leaves undefined).
C1_TO_CP1252: Final = {
    byte: char for byte in range(0x80, 0xA0) if (char := bytes([byte]).decode("cp1252", "ignore"))
}


def _codec(label: str | None) -> str | None:
    """Python's name for an encoding label, or None if unknown or refused."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None
    return None if name in _REFUSED else name


def _decode_cp1252(body: bytes) -> str:
    """windows-1252 that cannot fail: its five undefined bytes stay C1 controls."""
    return body.decode("latin-1").translate(C1_TO_CP1252)


def _is_utf8_beyond_ascii(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _sniff_utf16(body: bytes) -> str | None:
    """UTF-16 without a BOM shows itself: XML never starts with a NUL."""
    if len(body) >= 4:
        if body[0] and not body[1] and body[2] and not body[3]:
            return "utf-16-le"
        if not body[0] and body[1] and not body[2] and body[3]:
            return "utf-16-be"
    return None


def decode(body: bytes, http_charset: str | None) -> str:
    """Decode per BOM, HTTP charset, XML declaration, UTF-8, windows-1252.

    Never raises: the last resort decodes any bytes. See the module
    docstring for which label loses to which.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, "replace")
    wide = _sniff_utf16(body)
    if wide:
        return body.decode(wide, "replace")
    declared = _XML_ENCODING.match(body[:1024])
    labels = (http_charset, declared.group(1).decode("ascii") if declared else None, "utf-8")
    for label in labels:
        name = _codec(label)
        if name is None or name in _WIDE:
            continue
        if name in _LEGACY:
            if _is_utf8_beyond_ascii(body):
                return body.decode("utf-8")
            return _decode_cp1252(body)
        try:
            return body.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return _decode_cp1252(body)
