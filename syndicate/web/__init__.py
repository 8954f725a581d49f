"""The HTTP side: the aiohttp app factory, handlers, caching and serving."""
