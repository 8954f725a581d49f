"""A built document and everything needed to answer for it, made once per build.

The bytes, their ETag (a hash of the bytes, so every worker and every
restart agrees), each compressed form (made in the build's thread, so
answering never waits for a compressor) and the response headers per
coding. Nothing here knows HTTP servers: the web layer copies what it finds.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import brotli
from multidict import CIMultiDict

from syndicate.errors import SyndicateError
from syndicate.httpdate import format_http_date

#: Levels picked by bench/bench_build.py: near the best ratio for a few
#: milliseconds on a 300 KB feed; higher levels cost 5-50x the time for 1-3%.
GZIP_LEVEL = 6
BROTLI_QUALITY = 6
#: The content codings offered besides identity, best first.
CODINGS = ("br", "gzip")

#: What a 304 repeats from the 200 (RFC 9110 section 15.4.5), besides the ETag.
NOT_MODIFIED_FIELDS = frozenset({"Cache-Control", "Expires", "Vary", "Content-Location"})


def etag_of(body: bytes) -> str:
    """A strong ETag from the bytes alone, so every worker and every restart agrees."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class NotFound(SyndicateError):
    """The document does not exist (unknown section, author, tag, issue, or page)."""


@dataclass
class Rendered:
    """One built document and everything needed to answer for it."""

    body: bytes
    content_type: str
    last_modified: datetime | None
    headers: Mapping[str, str]
    etag: str = ""
    encoded: dict[str, bytes] = field(default_factory=dict)
    #: Epoch seconds after which the document is stale even if the store is not
    #: (the sidebar's "5 minutes ago"); None for documents that only data changes.
    expires: float | None = None

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = etag_of(self.body)
        self.encoded["identity"] = self.body
        #: Response headers per coding (and "304"), made once on first use.
        self.heads: dict[str, CIMultiDict[str]] = {}
        base = self.etag.strip('"')
        #: If-None-Match values that match as they stand, tried before the full parser.
        self.matches = frozenset(
            f'{weak}"{base}{suffix}"' for weak in ("", "W/") for suffix in ("", "-gzip", "-br")
        )

    def head_for(self, coding: str, *, not_modified: bool = False) -> CIMultiDict[str]:
        """Headers for a response in ``coding``, or for a 304 to a client that takes it.

        A CIMultiDict, because that is what aiohttp makes of whatever it is
        given: copying one costs less than building one from a dict. Made once
        per coding and kept.

        A 304 carries only what RFC 9110 (15.4.5) asks of it: the caching
        fields a 200 would have sent, and the ETag that 200 would have had.
        That is the tag of the coding the request selects, so a cache that
        stored our gzip body under ``"X-gzip"`` and revalidates with it is
        told ``"X-gzip"`` again, never the identity tag. Anything more is bytes
        on the busiest response a feed server sends.
        """
        slot = f"304 {coding}" if not_modified else coding
        found = self.heads.get(slot)
        if found is None:
            if not_modified:
                fields = {k: v for k, v in self.headers.items() if k in NOT_MODIFIED_FIELDS}
                fields["ETag"] = self.etag_for(coding)
            else:
                fields = dict(self.headers)
                fields["ETag"] = self.etag_for(coding)
                if coding != "identity":
                    fields["Content-Encoding"] = coding
            found = self.heads[slot] = CIMultiDict(fields)
        return found

    @property
    def last_modified_http(self) -> str | None:
        if self.last_modified is None:
            return None
        return format_http_date(self.last_modified)

    def encode_all(self) -> Rendered:
        """Compress into every coding served (in the build thread, not on the loop)."""
        for coding in CODINGS:
            self.body_for(coding)
        return self

    def body_for(self, coding: str) -> bytes:
        """The body in a content coding, compressed on first use and kept."""
        found = self.encoded.get(coding)
        if found is None:
            found = compress(self.body, coding)
            self.encoded[coding] = found
        return found

    def etag_for(self, coding: str) -> str:
        return self.etag if coding == "identity" else self.etag[:-1] + f'-{coding}"'

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.encoded.values())


def compress(body: bytes, coding: str) -> bytes:
    if coding == "gzip":
        # mtime=0: the same bytes in give the same bytes out, in every worker.
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    if coding == "br":
        return bytes(brotli.compress(body, quality=BROTLI_QUALITY))
    raise ValueError(f"unknown content coding {coding!r}")
