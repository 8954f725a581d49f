"""HTTP validators and content coding, as pure functions of headers.

Kept apart from the handlers (as Django and Starlette do) so the rules of
RFC 9110 can be tested on their own: which request gets a 304, and which
encoding a client gets.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from syndicate.httpdate import parse_http_date


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): ``W/`` and our per-coding suffixes ignored.

    Every encoding of one build shares the base tag, so a client that cached
    the gzip body and now asks without gzip still gets its 304.
    """
    value = if_none_match.strip()
    if value == "*":
        return True
    wanted = _base(etag)
    return any(_base(candidate) == wanted for candidate in _split_tags(value))


def _split_tags(value: str) -> list[str]:
    tags: list[str] = []
    current = ""
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            tags.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        tags.append(current.strip())
    return tags


def _base(tag: str) -> str:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    for suffix in ("-gzip", "-br"):
        if tag.endswith(suffix):
            return tag[: -len(suffix)]
    return tag


def not_modified(
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str,
    last_modified: datetime | None,
) -> bool:
    """Should this GET/HEAD be answered 304? If-None-Match wins when both are sent."""
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    if if_modified_since is None or last_modified is None:
        return False
    # A date without a zone is no validator: guessing could send a stale 304.
    since = parse_http_date(if_modified_since, assume_utc=False)
    if since is None:
        return False
    return last_modified.replace(microsecond=0) <= since


def choose_encoding(accept_encoding: str | None, available: Collection[str]) -> str:
    """Pick br, then gzip, from what the client accepts; else identity.

    Raw deflate is never offered: some clients expect zlib framing and others
    raw DEFLATE, and a body read the wrong way is a broken feed.
    """
    if not accept_encoding:
        return "identity"
    accepted: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name:
            accepted[name] = q
    star = accepted.get("*", 0.0)
    best, best_q = "identity", 0.0
    for coding in ("br", "gzip"):
        q = accepted.get(coding, star)
        if coding in available and q > 0 and q > best_q:
            best, best_q = coding, q
    return best
