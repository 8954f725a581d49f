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
from typing import Final

from syndicate.httpdate import format_http_date

#: For what must never be kept by anyone: operations endpoints, admin pages.
NO_STORE = "no-store"
#: max-age of a closed archive document (a year): RFC 5005 says archives SHOULD NOT change.
ARCHIVE_MAX_AGE: Final = 31_536_000
#: What syndicate calls itself in ``Server``: no versions for a scanner to match.
SERVER_NAME: Final = "syndicate"

_STYLE_RE: Final = re.compile(r"<style>(.*?)</style>", re.DOTALL)


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
    hashes = " ".join(
        "'sha256-"
        + base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode("ascii")
        + "'"
        for block in _STYLE_RE.findall(html)
    )
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
) -> dict[str, str]:
    """The headers of a public, cacheable response, in the order they are sent.

    ``compressed`` says the body is offered in several content codings, so
    caches must key on Accept-Encoding; ``cors`` lets other sites' pages
    read it (the sidebar, made to be embedded); ``page`` is the HTML of a
    page, which then gets :func:`page_headers` too. ``immutable`` (RFC 8246)
    tells caches not to revalidate within max-age: for closed archives.
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
        headers["Vary"] = "Accept-Encoding"
    headers["X-Content-Type-Options"] = "nosniff"
    if cors:
        headers["Access-Control-Allow-Origin"] = "*"
    if page is not None:
        headers.update(page_headers(page, images=images, frames=frames))
    if last_modified is not None:
        headers["Last-Modified"] = format_http_date(last_modified)
    return headers


def no_store_headers() -> dict[str, str]:
    """For answers that describe this moment only (/healthz, /metrics)."""
    return {"Cache-Control": NO_STORE}
