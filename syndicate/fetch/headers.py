"""Reading response headers, whoever built the mapping.

Header field names are case-insensitive (RFC 9110 section 5.1). The
retriever hands on a plain dict with lower-cased names, but the parse and
schedule stages are also called with headers written by hand (tests, the
command line), so they look names up here rather than trusting the case.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["content_type", "header"]


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` in ``headers``, whatever the case of either; None if absent.

    An exact match wins; otherwise the first name equal ignoring case.
    """
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        for key, candidate in headers.items():
            if key.lower() == wanted:
                return candidate
    return value


def content_type(headers: Mapping[str, str]) -> tuple[str, str | None]:
    """(media type, charset) from Content-Type (RFC 9110 section 8.3); both lower-cased.

    The media type is ``""`` without a Content-Type, the charset None
    without a ``charset`` parameter.
    """
    value = header(headers, "content-type") or ""
    media, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'").lower() or None
    return media.strip().lower(), charset
