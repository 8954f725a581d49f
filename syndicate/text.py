"""Text hygiene shared by the store, the builders and the fetcher.

Feeds die on characters that XML 1.0 forbids: lxml refuses them and the
whole feed becomes a 500. Every string that ends up in a document passes
through :func:`xml_safe` first, so there is exactly one door to guard.

Titles and names also lose their bidirectional controls here
(:func:`strip_bidi_controls`), the one rule shared by the importer, the
publishing API (through :mod:`syndicate.records`) and the fetcher
(:mod:`syndicate.fetch.clean`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Final

# Everything XML 1.0 forbids (C0 controls except tab/newline/return, lone
# surrogates, U+FFFE and U+FFFF), plus the C1 controls and noncharacters that
# validators flag and that are, in practice, always mojibake.
_XML_ILLEGAL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")

#: Bidirectional embeddings and overrides (U+202A-U+202E: LRE, RLE, PDF, LRO,
#: RLO) and isolates (U+2066-U+2069: LRI, RLI, FSI, PDI), as a table for
#: ``str.translate``. An override or an unclosed embedding in a name reorders
#: the text around it (a right-to-left override in a byline reverses the date
#: beside it) and can make a title display as something it is not (Unicode
#: Technical Report 36, section 2.1). The marks U+200E LEFT-TO-RIGHT MARK,
#: U+200F RIGHT-TO-LEFT MARK and U+061C ARABIC LETTER MARK are kept: they are
#: invisible strong characters that writers of mixed-direction names use on
#: purpose, they cannot reach past the text they sit in once the pages isolate
#: every name and title (``<bdi>``), and removing them would change how a
#: correct name reads.
BIDI_CONTROLS: Final = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_WHITESPACE = re.compile(r"\s+")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
# Latin letters that Unicode does not decompose into a base letter plus accent.
_NO_DECOMPOSITION = str.maketrans(
    {
        "ß": "ss",
        "Ł": "L",
        "ł": "l",
        "Ø": "O",
        "ø": "o",
        "Đ": "D",
        "đ": "d",
        "Æ": "AE",
        "æ": "ae",
        "Œ": "OE",
        "œ": "oe",
        "Þ": "Th",
        "þ": "th",
        "\u0131": "i",  # dotless i
        "Ħ": "H",
        "ħ": "h",
    }
)


def xml_safe(text: str) -> str:
    """Drop every character that would make an XML 1.0 document ill-formed."""
    return _XML_ILLEGAL.sub("", text)


def strip_bidi_controls(text: str) -> str:
    """Remove every bidirectional embedding, override and isolate (see :data:`BIDI_CONTROLS`).

    For titles and names, never for article bodies: a body is HTML whose
    author may use these characters inside markup that balances them.
    """
    return text.translate(BIDI_CONTROLS)


def encodable(text: str) -> str:
    """Replace lone surrogates, which UTF-8 (and so SQLite) cannot store."""
    return _SURROGATE.sub("\ufffd", text)


def collapse_whitespace(text: str) -> str:
    """Fold runs of whitespace into single spaces and trim the ends."""
    return _WHITESPACE.sub(" ", text).strip()


def slugify(text: str) -> str:
    """A URL-safe ASCII slug; non-Latin names fall back to their code points.

    Accented Latin folds to plain letters ("José" -> "jose"); a name with no
    Latin letters at all (Arabic, say) becomes a stable hex spelling instead
    of an empty slug, so every author still gets a feed URL.
    """
    folded = unicodedata.normalize("NFKD", text.translate(_NO_DECOMPOSITION))
    folded = folded.encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_JUNK.sub("-", folded.lower()).strip("-")
    if slug:
        return slug
    points = [f"{ord(c):x}" for c in text if not c.isspace()]
    if not points:
        return ""
    slug = "u-" + "-".join(points)
    if len(slug) > 120:  # keep it short but distinct: a digest of the whole name
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        slug = slug[:100].rstrip("-") + "-" + digest
    return slug
