"""Typed keys for what the application object owns (no module-level singletons)."""

from __future__ import annotations

from aiohttp import web

from syndicate.config import Config
from syndicate.store import Store
from syndicate.web.cache import FeedCache

CONFIG = web.AppKey("config", Config)
STORE = web.AppKey("store", Store)
CACHE = web.AppKey("cache", FeedCache)
