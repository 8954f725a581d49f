"""Every cache header syndicate sends, made in one place.

Caches in front (nginx, Varnish, a CDN) and feed readers decide what to keep
and for how long from these fields alone, so they are never spelled by hand
elsewhere: ``Cache-Control`` (RFC 9111 section 5.2, with RFC 5861's
``stale-while-revalidate``), ``Vary`` (RFC 9110 section 12.5.5),
``Last-Modified`` (RFC 9110 section 8.8.2) and ``nosniff``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from html import unescape
from typing import Final

from syndicate.httpdate import format_http_date

#: For what must never be kept by anyone: operations endpoints, admin pages.
NO_STORE = "no-store"
#: max-age of a closed archive document (a year): RFC 5005 says archives SHOULD NOT change.
ARCHIVE_MAX_AGE: Final = 31_536_000
#: What syndicate calls itself in ``Server``: no versions for a scanner to match.
SERVER_NAME: Final = "syndicate"

_STYLE_RE: Final = re.compile(r"<style>(.*?)</style>", re.DOTALL)
_STYLE_ATTRIBUTE_RE: Final = re.compile(r'\sstyle="([^"]*)"')


def _hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(
    html: str,
    *,
    form_action: str = "'none'",
    images: bool = False,
    frames: Iterable[str] = (),
) -> str:
    """A CSP for one HTML page: no scripts at all, only this page's own style blocks.

    The page's ``<style>`` blocks are allowed by hash (CSP Level 3, "hash-source").
    Outside text reaches pages only autoescaped, so it cannot add a style
    block of its own; with no script-src, nothing in an article body or an
    outside feed can run even if it got through. ``images`` lets the page
    show pictures, audio and video from anywhere (an article's own media live
    on the CMS); ``frames`` are the hosts whose https pages it may embed
    (``site.embed_hosts``, which the sanitiser lets through as iframes).
    """
    hosts = tuple(frames)
    hashes = " ".join(_hash(block) for block in _STYLE_RE.findall(html))
    # Inline style attributes (only the digest's email pages have them: email
    # clients drop style blocks) are allowed one by one, by the hash of each
    # value (CSP Level 3, 'unsafe-hashes'), never as 'unsafe-inline'.
    attributes = sorted({unescape(value) for value in _STYLE_ATTRIBUTE_RE.findall(html)})
    if attributes:
        hashes = " ".join(["'unsafe-hashes'", *(_hash(a) for a in attributes), hashes]).strip()
    return (
        "default-src 'none'; "
        + (f"style-src {hashes}; " if hashes else "")
        + ("img-src http: https:; media-src http: https:; " if images else "")
        + (f"frame-src {' '.join(f'https://{host}' for host in hosts)}; " if hosts else "")
        + f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )


def page_headers(html: str, *, images: bool = False, frames: Iterable[str] = ()) -> dict[str, str]:
    """What every public HTML page adds to its cache headers: no script, no framing.

    ``frame-ancestors 'none'`` (and X-Frame-Options for older browsers) stops
    clickjacking; the Referrer-Policy keeps full URLs of our pages out of
    other sites' logs.
    """
    return {
        "Content-Security-Policy": content_security_policy(html, images=images, frames=frames),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


#: Vary of every feed URL, feed bytes and browser page alike (RFC 9110 section
#: 12.5.5). The page is chosen only for ``Sec-Fetch-Dest: document`` *and* an
#: Accept preferring text/html (syndicate.web.browsers). Accept is left out on
#: purpose: feed readers send hundreds of spellings of it, and a cache keyed
#: on it would keep a copy of the same bytes per spelling. Leaving it out
#: cannot mix the two answers up for anyone but a client that claims to be
#: a browser navigating: without ``Sec-Fetch-Dest: document`` the origin never
#: reads Accept, so every such request gets the feed, and a cache keyed on
#: Sec-Fetch-Dest keeps those apart from navigations. Browsers set
#: Sec-Fetch-Dest themselves (a page's script cannot, it is a forbidden
#: header) and put text/html first in a navigation's Accept, so their
#: navigations all get the page. The shipped fronts key on the exact rule.
BROWSER_VARY: Final = "Accept-Encoding, Sec-Fetch-Dest"


def cache_headers(
    content_type: str | None,
    *,
    max_age: int,
    stale_while_revalidate: int | None = None,
    last_modified: datetime | None = None,
    immutable: bool = False,
    compressed: bool = True,
    cors: bool = False,
    page: str | None = None,
    images: bool = False,
    frames: Iterable[str] = (),
    link: str | None = None,
    browsers: bool = False,
) -> dict[str, str]:
    """The headers of a public, cacheable response, in the order they are sent.

    ``compressed`` says the body is offered in several content codings, so
    caches must key on Accept-Encoding; ``cors`` lets other sites' pages
    read it (the sidebar, made to be embedded); ``page`` is the HTML of a
    page, which then gets :func:`page_headers` too; ``link`` a ``Link``
    field (:func:`websub_link`), made once per build like the rest.
    ``immutable`` (RFC 8246) tells caches not to revalidate within max-age:
    for closed archives. ``browsers`` marks a feed URL, which a browser's
    navigation is answered at with an HTML page instead (README, "Feeds in a
    browser"): its Vary names ``Sec-Fetch-Dest`` too, see :data:`BROWSER_VARY`.
    """
    headers: dict[str, str] = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    control = f"public, max-age={max_age}"
    if stale_while_revalidate is not None:
        control += f", stale-while-revalidate={stale_while_revalidate}"
    if immutable:
        control += ", immutable"
    headers["Cache-Control"] = control
    if compressed:
        headers["Vary"] = BROWSER_VARY if browsers else "Accept-Encoding"
    headers["X-Content-Type-Options"] = "nosniff"
    if cors:
        headers["Access-Control-Allow-Origin"] = "*"
    if page is not None:
        headers.update(page_headers(page, images=images, frames=frames))
    if last_modified is not None:
        headers["Last-Modified"] = format_http_date(last_modified)
    if link is not None:
        headers["Link"] = link
    return headers


def websub_link(hub: str, self_url: str) -> str:
    """The ``Link`` field naming a feed's hub and its own URL (W3C WebSub section 4).

    The relation types are quoted (RFC 8288 allows both forms): some hubs,
    flask-websub among them, look for the literal ``rel="hub"`` and
    ``rel="self"`` and refuse to publish otherwise.
    """
    return f'<{hub}>; rel="hub", <{self_url}>; rel="self"'


def no_store_headers() -> dict[str, str]:
    """For answers that describe this moment only (/healthz, /metrics)."""
    return {"Cache-Control": NO_STORE}
