"""Serve the sample outside feeds of the feeds/ folder, so the demo works offline.

Their dates are placeholders (``{{now-2h:rfc822}}``) filled in at the minute
of the request, so the demo's Latest News always reads "2 hours ago" rather
than drifting into the past. Validators are real, so the fetcher's
conditional requests get 304s here as they would from a real server.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web

from syndicate.httpdate import format_http_date
from syndicate.web.keys import CLOCK, LIVE

_PLACEHOLDER = re.compile(r"\{\{now(?:([+-])(\d+)([mhd]))?:(rfc822|rfc3339)\}\}")
_TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".json": "application/feed+json",
}
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
#: Longest file name looked up (most file systems stop at 255 bytes).
MAX_NAME = 128


def fill_dates(text: str, now: datetime) -> str:
    """Replace every date placeholder with a real date relative to ``now``."""

    def one(match: re.Match[str]) -> str:
        sign, amount, unit, style = match.groups()
        moment = now
        if amount:
            delta = timedelta(**{_UNITS[unit]: int(amount)})
            moment = now - delta if sign == "-" else now + delta
        if style == "rfc822":
            return format_http_date(moment)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    return _PLACEHOLDER.sub(one, text)


async def demo_feed(request: web.Request) -> web.StreamResponse:
    folder = request.app[LIVE].config.demo_feeds_path
    name = request.match_info["name"]
    if folder is None or "/" in name or name.startswith(".") or len(name) > MAX_NAME:
        raise web.HTTPNotFound(text="Not found\n")
    path: Path = folder / name
    content_type = _TYPES.get(path.suffix)
    try:
        found = content_type is not None and path.is_file()
    except (OSError, ValueError):  # a name the file system cannot hold, a NUL byte
        found = False
    if not found or content_type is None:
        raise web.HTTPNotFound(text=f"Not found: no demo feed {name[:80]!r}\n")
    now = request.app[CLOCK].now().replace(second=0, microsecond=0)
    body = fill_dates(path.read_text(encoding="utf-8"), now).encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
    # Headers as a modest outside server sends them (not ours: not public, no Vary).
    headers = {"ETag": etag, "Cache-Control": "max-age=60"}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/demo-feeds/{name}", demo_feed)
