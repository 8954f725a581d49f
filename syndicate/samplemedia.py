"""The demo's own files, made from their names: pictures, the icon and logo, issue PDFs.

The demo publication links to lead images, figures in bodies, an icon, a
logo and a PDF per print issue (issue 15, "A demo with no dead links").
They are made here, byte for byte the same from the same name, so nothing
needs storing: ``syndicate serve`` makes each on request when
``server.demo_media`` is on (syndicate.web.media), and ``syndicate demo``
records each issue's real PDF size as its enclosure length (RSS 2.0,
``<enclosure length>`` is the size in bytes).

- pictures are SVG: a coloured panel with the picture's name as its caption
  (escaped, as every text in XML must be);
- the icon and logo are PNG (RSS 2.0's ``<image>`` takes GIF, JPEG or PNG),
  written with zlib and struct (the PNG spec, sections 5 and 11);
- a PDF is one page of text, with a cross-reference table whose offsets are
  the objects' real byte offsets (ISO 32000-1, section 7.5).

Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from html import escape
from typing import Final

#: A picture's name: ``picket-line-12``, ``picket-line-12-640`` (lowercase, digits, hyphens).
PICTURE_NAME: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+){0,8}")
#: The PNGs the demo's config.toml names, and their size in pixels.
PNG_SIZES: Final[dict[str, tuple[int, int]]] = {"icon.png": (64, 64), "logo.png": (240, 80)}
#: A print issue's PDF: ``issue-2094.pdf``.
ISSUE_PDF: Final = re.compile(r"issue-([0-9]{1,9})\.pdf")
ACCENT: Final = (200, 16, 46)


def _colour(name: str) -> tuple[int, int, int]:
    """A muted colour of its own for every name, so pictures side by side differ."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return (60 + digest[0] % 140, 60 + digest[1] % 140, 60 + digest[2] % 140)


def picture_caption(name: str) -> str:
    """``picket-line-12-640`` reads "Picket line 12"; the width suffix is the size, not words."""
    words = name.split("-")
    if len(words) > 2 and words[-1] in {"640", "1280"}:
        words = words[:-1]
    return " ".join(words).capitalize()


def picture_svg(name: str) -> bytes:
    """A 16:9 panel in the name's colour with its caption; 640 or 1280 wide as the name says."""
    width = 1280 if name.endswith("-1280") else 640
    height = width * 9 // 16
    red, green, blue = _colour(name)
    caption = escape(picture_caption(name))
    size = width // 20
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{caption}">'
        f'<rect width="{width}" height="{height}" fill="rgb({red},{green},{blue})"/>'
        f'<text x="{width // 2}" y="{height // 2}" font-family="sans-serif" font-size="{size}" '
        f'fill="#fff" text-anchor="middle" dominant-baseline="middle">{caption}</text>'
        "</svg>\n"
    ).encode()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, rgb: tuple[int, int, int] = ACCENT) -> bytes:
    """An RGB PNG: a panel of ``rgb`` with a white band across its middle third."""
    band = range(height // 3, 2 * height // 3)
    colour = bytes(rgb) * width
    white = b"\xff\xff\xff" * (width // 6) + bytes(rgb) * (width - width // 6)
    raw = b"".join(b"\x00" + (white if y in band else colour) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _pdf_text(text: str) -> str:
    """A PDF literal string: backslashes and parentheses escaped, Latin-1 only."""
    text = text.encode("latin-1", "replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def issue_pdf(number: int) -> bytes:
    """A one-page PDF 1.4 for print issue ``number``, with a correct xref table."""
    lines = [f"Print issue {number}", "A demo of syndicate: the paper's PDF would be here."]
    stream = "BT /F1 28 Tf 72 720 Td (" + _pdf_text(lines[0]) + ") Tj "
    stream += "/F1 14 Tf 0 -40 Td (" + _pdf_text(lines[1]) + ") Tj ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for index, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{index} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    table = f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n"
    table += "".join(f"{offset:010d} 00000 n \n" for offset in offsets)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out + (table + trailer).encode("latin-1")


def make(folder: str, name: str) -> tuple[bytes, str] | None:
    """The bytes and media type of ``/{folder}/{name}``; None for a name the demo never links."""
    if folder == "images" and name.endswith(".svg") and PICTURE_NAME.fullmatch(name[:-4]):
        return picture_svg(name[:-4]), "image/svg+xml"
    if folder == "static" and name in PNG_SIZES:
        return png(*PNG_SIZES[name]), "image/png"
    found = ISSUE_PDF.fullmatch(name) if folder == "pdf" else None
    if found:
        return issue_pdf(int(found.group(1))), "application/pdf"
    return None
