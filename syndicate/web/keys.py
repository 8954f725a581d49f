"""Typed keys for what the application object owns (no module-level singletons)."""

from __future__ import annotations

from aiohttp import web

from syndicate.clock import Clock
from syndicate.documents.cache import DocumentCache
from syndicate.documents.changes import ChangeDoor
from syndicate.documents.editions import EditionClerk
from syndicate.store import Store
from syndicate.web.serverlog import ServerLog
from syndicate.websub.counts import HubCounts

STORE = web.AppKey("store", Store)
CACHE = web.AppKey("cache", DocumentCache)
CLOCK = web.AppKey("clock", Clock)
DOOR = web.AppKey("door", ChangeDoor)
CLERK = web.AppKey("clerk", EditionClerk)
SERVER_LOG = web.AppKey("server_log", ServerLog)
#: The WebSub hub's running totals by outcome (syndicate.websub.counts).
HUB_COUNTS = web.AppKey("websub_counts", HubCounts)

from syndicate.live import LiveConfig  # noqa: E402  (re-exported)
from syndicate.web.live import LIVE  # noqa: E402

__all__ = [
    "CACHE",
    "CLERK",
    "CLOCK",
    "DOOR",
    "HUB_COUNTS",
    "LIVE",
    "SERVER_LOG",
    "STORE",
    "LiveConfig",
]
