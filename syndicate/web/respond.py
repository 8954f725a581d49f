"""Answering with a built document: 304, or the body in the client's best coding."""

from __future__ import annotations

import asyncio

from aiohttp import web

from syndicate.web.cache import Rendered
from syndicate.web.conditional import choose_encoding, not_modified
from syndicate.web.keys import CACHE

CODINGS = ("br", "gzip")


async def answer(request: web.Request, rendered: Rendered) -> web.Response:
    """Send a built document: 304, or the body in the best coding the client takes."""
    coding = choose_encoding(request.headers.get("Accept-Encoding"), CODINGS)
    headers = dict(rendered.headers)
    headers["ETag"] = rendered.etag_for(coding)
    if not_modified(
        request.headers.get("If-None-Match"),
        request.headers.get("If-Modified-Since"),
        rendered.etag,
        rendered.last_modified,
    ):
        del headers["Content-Type"]
        request.app[CACHE].responses[304] += 1
        return web.Response(status=304, headers=headers)
    if coding not in rendered.encoded:  # first client to want it: compress off the loop
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, rendered.body_for, coding)
    if coding != "identity":
        headers["Content-Encoding"] = coding
    request.app[CACHE].responses[200] += 1
    return web.Response(body=rendered.encoded[coding], headers=headers)
