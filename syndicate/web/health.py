"""Operations endpoints: is this process up, and can it read its store?"""

from __future__ import annotations

import asyncio
import os

from aiohttp import web

from syndicate import __version__
from syndicate.documents.headers import no_store_headers
from syndicate.store import StoreError
from syndicate.web.keys import CACHE, DOOR, LIVE, SERVER_LOG, STORE
from syndicate.web.websub import metric_lines as websub_metrics


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


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format; figures are per worker process (each has its own cache)."""
    cache = request.app[CACHE]
    stats = cache.stats()
    lines = [
        "# HELP syndicate_feed_responses_total Feed and directory responses by HTTP status.",
        "# TYPE syndicate_feed_responses_total counter",
    ]
    lines += [
        f'syndicate_feed_responses_total{{status="{status}"}} {count}'
        for status, count in sorted(cache.responses.items())
    ]
    lines += [
        "# HELP syndicate_feed_builds_total Feeds built since start.",
        "# TYPE syndicate_feed_builds_total counter",
        f"syndicate_feed_builds_total {stats['builds']}",
        "# HELP syndicate_feed_cache_feeds Feeds held in memory.",
        "# TYPE syndicate_feed_cache_feeds gauge",
        f"syndicate_feed_cache_feeds {stats['feeds']}",
        "# HELP syndicate_feed_cache_bytes Bytes held in memory, all codings.",
        "# TYPE syndicate_feed_cache_bytes gauge",
        f"syndicate_feed_cache_bytes {stats['bytes']}",
        "# HELP syndicate_config_reloads_total Accepted config reloads by trigger.",
        "# TYPE syndicate_config_reloads_total counter",
        *(
            f'syndicate_config_reloads_total{{trigger="{trigger}"}} {count}'
            for trigger, count in sorted(request.app[LIVE].reloads.items())
        ),
        "# HELP syndicate_broken_builds_total Built documents that did not parse (not served).",
        "# TYPE syndicate_broken_builds_total counter",
        f"syndicate_broken_builds_total {cache.broken}",
        "# HELP syndicate_server_errors_total Requests answered 500 because a handler raised.",
        "# TYPE syndicate_server_errors_total counter",
        f"syndicate_server_errors_total {request.app[SERVER_LOG].errors}",
        "# HELP syndicate_malformed_requests_total Requests aiohttp's parser refused (400).",
        "# TYPE syndicate_malformed_requests_total counter",
        f"syndicate_malformed_requests_total {request.app[SERVER_LOG].malformed}",
        "# HELP syndicate_changes_announced_total Changes the change door announced (leader only).",
        "# TYPE syndicate_changes_announced_total counter",
        f"syndicate_changes_announced_total {request.app[DOOR].announced}",
        *websub_metrics(request.app),
        f'syndicate_info{{version="{__version__}",pid="{os.getpid()}"}} 1',
    ]
    return web.Response(
        text="\n".join(lines) + "\n",
        content_type="text/plain",
        charset="utf-8",
        headers=no_store_headers(),
    )
