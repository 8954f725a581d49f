"""Answering with a built document: 304, or the body in the client's best coding."""

from __future__ import annotations

import functools
from collections import Counter

from aiohttp import hdrs, web

from syndicate.catalog import DocKey
from syndicate.documents.cache import RETRY_BROKEN, DocumentCache, Unavailable
from syndicate.documents.rendered import CODINGS, Rendered
from syndicate.web.conditional import choose_encoding, etag_matches, not_modified


@functools.lru_cache(maxsize=256)
def _choose(accept_encoding: str | None) -> str:
    """choose_encoding, memoised: clients send a handful of distinct headers."""
    return choose_encoding(accept_encoding, CODINGS)


def answer(request: web.Request, rendered: Rendered, counts: Counter[int]) -> web.Response:
    """Send a built document: 304, or the body in the best coding the client takes.

    The common cases are tried first and cheaply: no validator at all, or an
    If-None-Match that is one of the document's own tags, as sent back.
    Header names are aiohttp's ``hdrs`` constants, already case-folded.
    ``counts`` tallies the answers by status (the cache's, for /metrics).
    """
    asked = request.headers
    if_none_match = asked.get(hdrs.IF_NONE_MATCH)
    if if_none_match is not None:
        fresh = if_none_match in rendered.matches or etag_matches(if_none_match, rendered.etag)
    else:
        since = asked.get(hdrs.IF_MODIFIED_SINCE)
        fresh = since is not None and not_modified(
            None, since, rendered.etag, rendered.last_modified
        )
    coding = _choose(asked.get(hdrs.ACCEPT_ENCODING))
    if fresh:
        counts[304] += 1
        return web.Response(status=304, headers=rendered.head_for(coding, not_modified=True))
    counts[200] += 1
    # The cache compressed every coding when it built the document.
    return web.Response(body=rendered.body_for(coding), headers=rendered.head_for(coding))


async def document(cache: DocumentCache, key: DocKey) -> Rendered:
    """The cached or newly built document; 503 while it cannot be built into valid bytes."""
    try:
        return await cache.get(key)
    except Unavailable:
        cache.responses[503] += 1
        raise web.HTTPServiceUnavailable(
            text="This document cannot be built right now; try again shortly.\n",
            headers={"Retry-After": str(int(RETRY_BROKEN))},
        ) from None
