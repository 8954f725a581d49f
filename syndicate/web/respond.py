"""Answering with a built document: 304, or the body in the client's best coding."""

from __future__ import annotations

import asyncio
import functools

from aiohttp import web

from syndicate.web.cache import Rendered
from syndicate.web.conditional import choose_encoding, not_modified
from syndicate.web.keys import CACHE

CODINGS = ("br", "gzip")


@functools.lru_cache(maxsize=256)
def _choose(accept_encoding: str | None) -> str:
    """choose_encoding, memoised: clients send a handful of distinct headers."""
    return choose_encoding(accept_encoding, CODINGS)


async def answer(request: web.Request, rendered: Rendered) -> web.Response:
    """Send a built document: 304, or the body in the best coding the client takes."""
    asked = request.headers
    coding = _choose(asked.get("Accept-Encoding"))
    if_none_match = asked.get("If-None-Match")
    if (if_none_match is not None and if_none_match in rendered.matches) or not_modified(
        if_none_match,
        asked.get("If-Modified-Since"),
        rendered.etag,
        rendered.last_modified,
    ):
        request.app[CACHE].responses[304] += 1
        return web.Response(status=304, headers=rendered.head_for("304"))
    headers = rendered.head_for(coding)
    if coding not in rendered.encoded:  # first client to want it: compress off the loop
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, rendered.body_for, coding)
    request.app[CACHE].responses[200] += 1
    return web.Response(body=rendered.encoded[coding], headers=headers)
