"""The rules config.toml's fields are checked by, and :func:`rule` that attaches one.

Each check takes a value and answers ``None`` or a plain sentence saying
what is wrong; the loader (syndicate.config) adds the key path. They live
apart from the schema so the schema reads as a list of settings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import MISSING, field
from typing import Any
from urllib.parse import urlsplit

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

Check = Callable[[Any], str | None]


def within(lo: float | None = None, hi: float | None = None) -> Check:
    def check(value: Any) -> str | None:
        if value != value:  # NaN: every comparison is False, so say it outright
            return "must be a number, got nan"
        if lo is not None and value < lo:
            return f"must be at least {lo}, got {value}"
        if hi is not None and value > hi:
            return f"must be at most {hi}, got {value}"
        return None

    return check


def http_url(value: Any) -> str | None:
    # urlsplit quietly drops tabs and newlines, but the raw string is what
    # ends up in every feed: refuse them outright.
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in value):
        return f"must not contain spaces or control characters, got {value!r}"
    try:
        parts = urlsplit(value)
        host = parts.hostname
        _ = parts.port  # raises for a port that is not a number from 0 to 65535
    except ValueError as exc:
        return f"is not a valid URL ({exc}): {value!r}"
    if parts.scheme not in ("http", "https") or not host:
        return f"must be an absolute http(s) URL, got {value!r}"
    return None


def optional_url(value: Any) -> str | None:
    return None if value == "" else http_url(value)


def base_url(value: Any) -> str | None:
    problem = http_url(value)
    if problem:
        return problem
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        return f"must not have a query or fragment, got {value!r}"
    return None


def slug(value: Any) -> str | None:
    if not SLUG_RE.fullmatch(value):
        return f"must be a slug of lowercase letters, digits and single hyphens, got {value!r}"
    return None


def not_blank(value: Any) -> str | None:
    return "must not be empty" if not str(value).strip() else None


def language(value: Any) -> str | None:
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
        return f"must be a language tag such as 'en' or 'en-GB', got {value!r}"
    return None


def tag_authority(value: Any) -> str | None:
    if not re.fullmatch(
        r"([a-z0-9-]+(\.[a-z0-9-]+)+|[^@\s]+@[a-z0-9.-]+),\d{4}(-\d{2}(-\d{2})?)?", value
    ):
        return (
            "must be a domain (or email) you owned on a date, as 'example.org,2026' "
            f"(RFC 4151), got {value!r}"
        )
    return None


_HOST_RE = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)


def hosts(value: Any) -> str | None:
    """Exact host names: lowercase, no scheme, port or path (each is matched as written)."""
    bad = [host for host in value if not _HOST_RE.fullmatch(host) or len(host) > 253]
    if not bad:
        return None
    hints = []
    for host in bad:
        try:
            guess = urlsplit(host if "//" in host else f"//{host}").hostname or ""
        except ValueError:
            guess = ""
        hint = f" (write {guess!r})" if guess and _HOST_RE.fullmatch(guess) else ""
        hints.append(f"{host!r}{hint}")
    return (
        "must list bare host names such as 'www.youtube-nocookie.com' (lowercase; "
        f"no scheme, port or path), got {', '.join(hints)}"
    )


def slugs(value: Any) -> str | None:
    bad = [item for item in value if slug(item)]
    return f"must list section slugs, got {', '.join(repr(b) for b in bad)}" if bad else None


def path_template(value: Any) -> str | None:
    if not value.startswith("/") or ("{slug}" not in value and "{id}" not in value):
        return f"must start with '/' and contain {{slug}} or {{id}}, got {value!r}"
    return None


def rule(
    default: Any = MISSING,
    *,
    check: Check | None = None,
    doc: str = "",
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """A dataclass field carrying its validation rule and a line of docs."""
    meta = {"check": check, "doc": doc}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)
