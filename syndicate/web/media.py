"""The demo's pictures, icon, logo and issue PDFs, made on request (``server.demo_media``).

The demo's articles and config.toml link to /images/*.svg, /static/icon.png,
/static/logo.png and /pdf/issue-N.pdf; syndicate.samplemedia makes each from
its name, so there is no folder to read and no path to escape from: a name
the demo never links (or any name while ``server.demo_media`` is off) is 404.
"""

from __future__ import annotations

from aiohttp import web

from syndicate.documents.headers import cache_headers
from syndicate.samplemedia import make
from syndicate.web.keys import LIVE

#: Seconds caches may keep a made-up file: the same name always gives the same bytes.
MEDIA_MAX_AGE = 86400


async def demo_file(request: web.Request) -> web.Response:
    folder, name = request.match_info["folder"], request.match_info["name"]
    made = make(folder, name) if request.app[LIVE].config.server.demo_media else None
    if made is None:
        raise web.HTTPNotFound(text="Not found\n")
    body, content_type = made
    headers = cache_headers(content_type, max_age=MEDIA_MAX_AGE, compressed=False)
    # An SVG opened on its own is a document on this origin: it may run nothing.
    headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return web.Response(body=body, headers=headers)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/{folder:images|static|pdf}/{name}", demo_file)


__all__ = ["add_routes"]
