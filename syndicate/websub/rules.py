"""The WebSub Recommendation's rules, as pure functions (W3C, 23 January 2018).

No I/O, no clock: what a subscription request must hold (section 5.1), how a
lease is clamped (5.1, 5.3), which topics are ours, how a callback URL gets
its verification parameters without losing its own query (5.3), how a
delivery is signed (7.1), and when a failed delivery is tried again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from syndicate.catalog import EXTENSIONS, FOLDER_KINDS, DocKey, feed_key
from syndicate.config import WebSubConfig
from syndicate.models import SITE, Scope

#: Section 5.1: "hub.secret ... MUST be less than 200 bytes in length."
MAX_SECRET_BYTES = 199
#: Longest callback or topic URL accepted (they are stored and shown).
MAX_URL_LENGTH = 2000
#: Bytes of a verification answer read: a challenge is a few dozen.
MAX_CHALLENGE_ANSWER = 4096

Mode = Literal["subscribe", "unsubscribe"]


class BadRequest(ValueError):
    """A subscription request the hub must answer with 400 (section 5.1: 4xx)."""


@dataclass(frozen=True)
class Request:
    """A well-formed (un)subscription request, not yet verified."""

    mode: Mode
    topic: str
    callback: str
    #: The lease asked for (None: the hub's default), before clamping.
    lease_seconds: int | None = None
    secret: str | None = None


def _url(value: str, name: str) -> str:
    if not value:
        raise BadRequest(f"{name} is missing")
    if len(value) > MAX_URL_LENGTH:
        raise BadRequest(f"{name} is longer than {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        raise BadRequest(f"{name} must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError as exc:
        raise BadRequest(f"{name} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"{name} must be an absolute http(s) URL")
    return value


def parse_request(form: Mapping[str, str]) -> Request:
    """A subscription request from the POSTed form, or BadRequest saying what is wrong."""
    mode = form.get("hub.mode", "")
    if mode == "publish":
        raise BadRequest(
            "hub.mode=publish is not needed: this hub pushes every feed the moment it changes"
        )
    if mode not in ("subscribe", "unsubscribe"):
        raise BadRequest(f"hub.mode must be subscribe or unsubscribe, got {mode[:40]!r}")
    callback = _url(form.get("hub.callback", ""), "hub.callback")
    topic = _url(form.get("hub.topic", ""), "hub.topic")
    lease: int | None = None
    raw = form.get("hub.lease_seconds", "")
    if raw:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 12 and int(raw) > 0):
            raise BadRequest(f"hub.lease_seconds must be a positive whole number, got {raw[:40]!r}")
        lease = int(raw)
    secret = form.get("hub.secret") or None
    if secret is not None and len(secret.encode("utf-8")) > MAX_SECRET_BYTES:
        raise BadRequest("hub.secret must be less than 200 bytes")
    return Request(mode, topic, callback, lease, secret)  # type: ignore[arg-type]


def clamp_lease(asked: int | None, config: WebSubConfig) -> int:
    """The lease granted: the default when none was asked, else within the configured range."""
    if asked is None:
        return config.lease_default
    return max(config.lease_min, min(asked, config.lease_max))


_FEED_FILE = re.compile(r"feed\.([a-z]+)")


def topic_key(root: str, url: str) -> DocKey | None:
    """The first feed page ``url`` names on the site at ``root``, or None if it is not one.

    A topic is the exact URL a feed calls itself (``rel="self"``): any
    format, page 1 only (it has no query), no fragment.
    """
    if not url.startswith(root + "/"):
        return None
    rest = url[len(root) :]
    if "?" in rest or "#" in rest:
        return None
    parts = rest.split("/")[1:]
    if len(parts) == 1:
        scope, name = SITE, parts[0]
    elif len(parts) == 3 and parts[1]:
        kind = next((k.kind for k in FOLDER_KINDS if k.folder == parts[0]), None)
        if kind is None:
            return None
        scope, name = Scope(kind, parts[1]), parts[2]
    else:
        return None
    found = _FEED_FILE.fullmatch(name)
    fmt = next((f for f, ext in EXTENSIONS.items() if found and ext == found.group(1)), None)
    return None if fmt is None else feed_key(scope, fmt)


def is_topic(key: DocKey) -> bool:
    """Whether a document is something subscribers follow: a feed's first page."""
    return key.doc == "feed" and key.page == 1


def with_params(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` added to its own query, which is kept (section 5.3)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def verified(status: int, answer: bytes, challenge: str) -> bool:
    """Section 5.3.1: any 2xx whose body is exactly the challenge confirms intent."""
    return 200 <= status < 300 and answer == challenge.encode("ascii")


def signature(secret: str, body: bytes) -> str:
    """``X-Hub-Signature`` for ``body`` (section 7.1): HMAC-SHA256 of the exact bytes sent."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def retry_at(
    now: float, first_at: float, attempts: int, *, base: float, retry_for: float, jitter: float
) -> float | None:
    """When to try again after ``attempts`` failures, or None once retry_for has run out.

    Exponential backoff (base, 2 base, 4 base ...), each wait scaled by
    ``jitter`` in [0.5, 1] so that subscribers failing together do not come
    back together.
    """
    wait = base * 2 ** min(attempts - 1, 30) * jitter
    at = now + wait
    return None if at > first_at + retry_for else at


def delivered(status: int) -> bool:
    """Section 7: the subscriber acknowledges with any 2xx (redirects are not followed)."""
    return 200 <= status < 300


def gone(status: int) -> bool:
    """410 Gone: the subscriber says it wants nothing more (the subscription is dropped)."""
    return status == 410


def publish_form(topic: str, parameter: str) -> dict[str, str]:
    """The form announcing ``topic`` to an outside hub (``websub.publish_with``).

    The Recommendation leaves publishing to each hub, and the common ones
    disagree: Google's reference hub (and Superfeedr) read ``hub.url``,
    flask-websub reads ``hub.topic`` and answers 400 when it is missing.
    Each ignores the parameter it does not know, so "both" sends both, and
    one request works with either kind.
    """
    names = ("hub.topic", "hub.url") if parameter == "both" else (parameter,)
    return {"hub.mode": "publish", **dict.fromkeys(names, topic)}


__all__ = [
    "BadRequest",
    "Request",
    "clamp_lease",
    "delivered",
    "gone",
    "is_topic",
    "parse_request",
    "publish_form",
    "retry_at",
    "signature",
    "topic_key",
    "verified",
    "with_params",
]
