"""Every cache header syndicate sends, made in one place.

Caches in front (nginx, Varnish, a CDN) and feed readers decide what to keep
and for how long from these fields alone, so they are never spelled by hand
elsewhere: ``Cache-Control`` (RFC 9111 section 5.2, with RFC 5861's
``stale-while-revalidate``), ``Vary`` (RFC 9110 section 12.5.5),
``Last-Modified`` (RFC 9110 section 8.8.2) and ``nosniff``.
"""

from __future__ import annotations

from datetime import datetime

from syndicate.httpdate import format_http_date

#: For what must never be kept by anyone: operations endpoints, admin pages.
NO_STORE = "no-store"


def cache_headers(
    content_type: str | None,
    *,
    max_age: int,
    stale_while_revalidate: int | None = None,
    last_modified: datetime | None = None,
    compressed: bool = True,
    cors: bool = False,
) -> dict[str, str]:
    """The headers of a public, cacheable response, in the order they are sent.

    ``compressed`` says the body is offered in several content codings, so
    caches must key on Accept-Encoding; ``cors`` lets other sites' pages
    read it (the sidebar, made to be embedded).
    """
    headers: dict[str, str] = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    control = f"public, max-age={max_age}"
    if stale_while_revalidate is not None:
        control += f", stale-while-revalidate={stale_while_revalidate}"
    headers["Cache-Control"] = control
    if compressed:
        headers["Vary"] = "Accept-Encoding"
    headers["X-Content-Type-Options"] = "nosniff"
    if cors:
        headers["Access-Control-Allow-Origin"] = "*"
    if last_modified is not None:
        headers["Last-Modified"] = format_http_date(last_modified)
    return headers


def no_store_headers() -> dict[str, str]:
    """For answers that describe this moment only (/healthz, /metrics)."""
    return {"Cache-Control": NO_STORE}
