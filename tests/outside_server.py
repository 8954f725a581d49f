"""A misbehaving "outside" feed server on loopback, for fetcher tests.

Outside feeds are broken, slow, huge and hostile; tests need a real server that
is all of those on demand, not a mock of aiohttp's client. ``Outside`` is one
such server's state: documents to serve (with ETag, Last-Modified and
conditional GET, like a well-behaved publisher), a log of every request it saw
(so a test can assert that a refused URL never reached it), and counters of
requests in flight (so a test can check the fetcher's concurrency limits).

Use it with pytest-aiohttp's ``aiohttp_server``::

    @pytest.fixture
    async def outside(aiohttp_server):
        return await Outside.start(aiohttp_server)

    async def test_something(outside):
        outside.documents["/a.xml"] = Document(b"<rss .../>")
        url = outside.url("/a.xml")

Besides the documents, fixed paths misbehave (see ``Outside.app``):
``/status/{code}``, ``/redirect/{codes}/{tail}``, ``/hops/{n}``, ``/loop/{a|b}``,
``/location?to=...``, ``/gzip``, ``/br``, ``/bad-gzip``, ``/big``, ``/chunked``, ``/bomb``,
``/trickle``, ``/hang``, ``/truncated``, ``/slow``, ``/wrong-type``, ``/html``.
Sizes and delays come from the query string so each test states its own.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import brotli
from aiohttp import web

SAMPLE_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Outside News</title><link>http://outside.example/</link>
<description>A sample outside feed</description><ttl>60</ttl>
<item><title>First story</title><link>http://outside.example/1</link>
<guid>http://outside.example/1</guid><pubDate>Wed, 01 Jan 2025 10:00:00 GMT</pubDate></item>
<item><title>Second story</title><link>http://outside.example/2</link>
<guid>http://outside.example/2</guid><pubDate>Thu, 02 Jan 2025 10:00:00 GMT</pubDate></item>
</channel></rss>
"""

RSS_TYPE = "application/rss+xml; charset=utf-8"
LAST_MODIFIED = "Wed, 01 Jan 2025 12:00:00 GMT"


@dataclass
class Document:
    """A feed served at a path, answering conditional requests like a good publisher."""

    body: bytes
    content_type: str = RSS_TYPE
    #: None: derived from the body (a strong ETag, as syndicate's own server does).
    etag: str | None = None
    last_modified: str | None = LAST_MODIFIED
    #: Extra response headers (Cache-Control, Expires, ...).
    headers: dict[str, str] = field(default_factory=dict)

    def current_etag(self) -> str:
        if self.etag is not None:
            return self.etag
        return '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'


@dataclass(frozen=True)
class SeenRequest:
    """One request as the server received it (header names lowercased)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]

    @property
    def conditional(self) -> bool:
        return "if-none-match" in self.headers or "if-modified-since" in self.headers


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@cache
def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped: a small body that expands enormously."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    block = bytes(1 << 20)
    parts = []
    left = size
    while left > 0:
        parts.append(packer.compress(block[: min(left, len(block))]))
        left -= len(block)
    parts.append(packer.flush())
    return b"".join(parts)


class Outside:
    """State and routes of one misbehaving outside server (see the module docstring)."""

    def __init__(self) -> None:
        self.documents: dict[str, Document] = {"/feed.xml": Document(SAMPLE_RSS)}
        self.requests: list[SeenRequest] = []
        self.statuses: Counter[int] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.base_url = ""

    @classmethod
    async def start(cls, aiohttp_server: Any, host: str = "127.0.0.1", **kwargs: Any) -> Outside:
        """Start a server for a new ``Outside`` with pytest-aiohttp's factory.

        ``kwargs`` go to the factory (``ssl=`` an SSLContext serves https).
        """
        outside = cls()
        server = await aiohttp_server(outside.app(), host=host, **kwargs)
        outside.base_url = str(server.make_url("")).rstrip("/")
        return outside

    def url(self, path: str) -> str:
        """An absolute URL on this server (``path`` starts with "/")."""
        assert self.base_url, "start the server first (Outside.start)"
        return self.base_url + path

    def reset(self) -> None:
        """Forget the request log and counters, keep the documents."""
        self.requests.clear()
        self.statuses.clear()
        self.max_in_flight = 0

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    # -- the app ---------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._track])
        app.router.add_get("/status/{code}", self.status)
        app.router.add_get("/redirect/{codes}/{tail:.*}", self.redirect_chain)
        app.router.add_get("/hops/{n}", self.hops)
        app.router.add_get("/loop/{name}", self.loop)
        app.router.add_get("/location", self.location)
        app.router.add_get("/gzip", self.gzipped)
        app.router.add_get("/br", self.brotli)
        app.router.add_get("/bad-gzip", self.bad_gzip)
        app.router.add_get("/big", self.big)
        app.router.add_get("/chunked", self.chunked)
        app.router.add_get("/bomb", self.bomb)
        app.router.add_get("/trickle", self.trickle)
        app.router.add_get("/hang", self.hang)
        app.router.add_get("/truncated", self.truncated)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/wrong-type", self.wrong_type)
        app.router.add_get("/html", self.html)
        app.router.add_get("/{path:.*}", self.document)
        return app

    @web.middleware
    async def _track(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append(
            SeenRequest(
                method=request.method,
                path=request.path,
                query=request.query_string,
                headers={k.lower(): v for k, v in request.headers.items()},
            )
        )
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = await handler(request)
        finally:
            self.in_flight -= 1
        self.statuses[response.status] += 1
        return response

    # -- well-behaved ----------------------------------------------------------

    async def document(self, request: web.Request) -> web.StreamResponse:
        """A registered document, with ETag/Last-Modified and conditional GET."""
        doc = self.documents.get(request.path)
        if doc is None:
            return web.Response(status=404, text="not here")
        etag = doc.current_etag()
        headers = {"ETag": etag, **doc.headers}
        if doc.last_modified:
            headers["Last-Modified"] = doc.last_modified
        inm = request.headers.get("If-None-Match")
        ims = request.headers.get("If-Modified-Since")
        if (inm is not None and etag in [t.strip() for t in inm.split(",")]) or (
            inm is None and ims is not None and ims == doc.last_modified
        ):
            return web.Response(status=304, headers=headers)
        return web.Response(body=doc.body, headers={**headers, "Content-Type": doc.content_type})

    async def slow(self, request: web.Request) -> web.StreamResponse:
        """The sample feed after ``delay`` seconds: for counting requests in flight."""
        await asyncio.sleep(float(request.query.get("delay", "0.2")))
        return web.Response(body=SAMPLE_RSS, content_type="application/rss+xml")

    async def gzipped(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=gzip.compress(SAMPLE_RSS),
            headers={"Content-Encoding": "gzip", "Content-Type": RSS_TYPE},
        )

    async def brotli(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=brotli.compress(SAMPLE_RSS),
            headers={"Content-Encoding": "br", "Content-Type": RSS_TYPE},
        )

    async def bad_gzip(self, request: web.Request) -> web.StreamResponse:
        """Says gzip, is not: the body cannot be decoded."""
        return web.Response(
            body=b"this is not gzip at all" * 10,
            headers={"Content-Encoding": "gzip", "Content-Type": RSS_TYPE},
        )

    async def wrong_type(self, request: web.Request) -> web.StreamResponse:
        """A feed labelled as something else: common in the wild; the parser decides."""
        return web.Response(body=SAMPLE_RSS, headers={"Content-Type": "text/plain"})

    async def html(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            text="<!doctype html><title>Not a feed</title>", content_type="text/html"
        )

    # -- statuses and redirects -------------------------------------------------

    async def status(self, request: web.Request) -> web.StreamResponse:
        """Any status; ``?retry_after=...`` adds a Retry-After header verbatim."""
        headers = {}
        if "retry_after" in request.query:
            headers["Retry-After"] = request.query["retry_after"]
        return web.Response(status=int(request.match_info["code"]), text="status", headers=headers)

    async def redirect_chain(self, request: web.Request) -> web.StreamResponse:
        """``/redirect/301,308/feed.xml``: a 301 to ``/redirect/308/feed.xml``, then a 308."""
        first, _, rest = request.match_info["codes"].partition(",")
        tail = request.match_info["tail"]
        target = f"/redirect/{rest}/{tail}" if rest else f"/{tail}"
        return web.Response(status=int(first), headers={"Location": target})

    async def hops(self, request: web.Request) -> web.StreamResponse:
        """``/hops/N``: N temporary redirects (relative Locations), then the feed."""
        n = int(request.match_info["n"])
        if n <= 0:
            return web.Response(body=SAMPLE_RSS, content_type="application/rss+xml")
        return web.Response(status=302, headers={"Location": str(n - 1)})

    async def loop(self, request: web.Request) -> web.StreamResponse:
        other = "b" if request.match_info["name"] == "a" else "a"
        return web.Response(status=301, headers={"Location": f"/loop/{other}"})

    async def location(self, request: web.Request) -> web.StreamResponse:
        """A redirect (``?code=``, default 302) to ``?to=``, whatever it is."""
        code = int(request.query.get("code", "302"))
        return web.Response(status=code, headers={"Location": request.query.get("to", "")})

    # -- too big, too slow, too short ----------------------------------------------

    async def big(self, request: web.Request) -> web.StreamResponse:
        """``size`` bytes with an honest Content-Length."""
        size = int(request.query.get("size", "1000000"))
        return web.Response(body=b"x" * size, content_type="application/rss+xml")

    async def chunked(self, request: web.Request) -> web.StreamResponse:
        """``size`` bytes, chunked, no Content-Length: only counting catches it."""
        size = int(request.query.get("size", "1000000"))
        response = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
        response.enable_chunked_encoding()
        await response.prepare(request)
        block = b"x" * 65536
        sent = 0
        try:
            while sent < size:
                await response.write(block[: size - sent])
                sent += len(block)
            await response.write_eof()
        except ConnectionError:  # the client gave up, as it should
            pass
        return response

    async def bomb(self, request: web.Request) -> web.StreamResponse:
        """A gzip body of ``size`` zero bytes: tiny on the wire, huge decompressed."""
        body = gzip_bomb(int(request.query.get("size", str(100 << 20))))
        return web.Response(
            body=body, headers={"Content-Encoding": "gzip", "Content-Type": RSS_TYPE}
        )

    async def trickle(self, request: web.Request) -> web.StreamResponse:
        """Headers at once, then one byte every ``interval`` seconds, for ``seconds``."""
        interval = float(request.query.get("interval", "0.1"))
        seconds = float(request.query.get("seconds", "20"))
        response = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
        response.enable_chunked_encoding()
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        try:
            while loop.time() < end:
                await response.write(b" ")
                await asyncio.sleep(interval)
            await response.write_eof()
        except ConnectionError:
            pass
        return response

    async def hang(self, request: web.Request) -> web.StreamResponse:
        """Accept the request and say nothing for ``seconds``."""
        await asyncio.sleep(float(request.query.get("seconds", "5")))
        return web.Response(text="too late")

    async def truncated(self, request: web.Request) -> web.StreamResponse:
        """Promise ``length`` bytes (Content-Length), send ``sent``, then hang up."""
        length = int(request.query.get("length", "10000"))
        sent = int(request.query.get("sent", "100"))
        response = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
        response.content_length = length
        await response.prepare(request)
        await response.write(SAMPLE_RSS[:sent].ljust(sent, b" "))
        assert request.transport is not None
        request.transport.close()
        return response
