"""Is this process up, and can it read its store? (/metrics is syndicate.web.observe.)"""

from __future__ import annotations

import asyncio

from aiohttp import web

from syndicate import __version__
from syndicate.documents.headers import no_store_headers
from syndicate.store import StoreError
from syndicate.web.keys import STORE


async def healthz(request: web.Request) -> web.Response:
    """200 when the store answers a query; 503 (not a traceback) when it does not."""
    store = request.app[STORE]
    try:
        schema = await asyncio.get_running_loop().run_in_executor(None, store.probe)
    except StoreError as exc:
        return web.json_response(
            {"status": "error", "error": f"store unreadable: {exc}"},
            status=503,
            headers=no_store_headers(),
        )
    return web.json_response(
        {"status": "ok", "version": __version__, "schema": schema},
        headers=no_store_headers(),
    )
