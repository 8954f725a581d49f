"""Typed keys for what the application object owns (no module-level singletons)."""

from __future__ import annotations

from aiohttp import web

from syndicate.clock import Clock
from syndicate.store import Store
from syndicate.web.cache import FeedCache

STORE = web.AppKey("store", Store)
CACHE = web.AppKey("cache", FeedCache)
CLOCK = web.AppKey("clock", Clock)

from syndicate.web.live import LIVE, LiveConfig  # noqa: E402  (re-exported)

__all__ = ["CACHE", "CLOCK", "LIVE", "STORE", "LiveConfig"]
