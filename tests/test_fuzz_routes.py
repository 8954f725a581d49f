"""Property-based fuzzing of every public route: no 5xx and no traceback, whatever is asked.

Hypothesis makes paths from every route's template (known and unknown keys,
odd characters, over-long segments), query strings (pages of every shape,
repeated and unknown keys) and headers (validators, codings, content types);
a real server on 127.0.0.1 answers them over http.client. A client's mistake
is a 4xx; anything the server logs with a traceback is a bug.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.config import parse_config
from syndicate.web.app import make_app
from tests.support import MINIMAL_CONFIG, fill_store, write_config

FEEDS = Path(__file__).resolve().parent.parent / "feeds"


class Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.seen.append(self.format(record))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Tracebacks]]:
    folder = tmp_path_factory.mktemp("fuzz")
    path = write_config(
        folder,
        MINIMAL_CONFIG.replace("[store]", f'[server]\ndemo_feeds = "{FEEDS}"\n\n[store]'),
    )
    fill_store(folder / "store.db", 120)
    config = parse_config(path.read_text(), path)
    caught = Tracebacks()
    logging.getLogger().addHandler(caught)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []
    runner = web.AppRunner(make_app(config), access_log=None)

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()))
    thread.start()
    assert ready.wait(30)
    try:
        yield port[0], caught
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
        logging.getLogger().removeHandler(caught)


ROUTES = [
    "/feed.{fmt}",
    "/sections/{key}/feed.{fmt}",
    "/authors/{key}/feed.{fmt}",
    "/issues/{key}/feed.{fmt}",
    "/tags/{key}/feed.{fmt}",
    "/feeds",
    "/feeds.opml",
    "/latest-news",
    "/latest-news.json",
    "/articles/{key}",
    "/demo-feeds/{key}",
    "/healthz",
    "/metrics",
    "/api/openapi.json",
    "/api/articles/{key}",
    "/admin",
    "/admin/{key}",
    "/{key}",
]
KNOWN_KEYS = ["news", "comment", "simon-assaf", "2005", "strikes", "story-7", "hostile.rss"]

keys = st.one_of(
    st.sampled_from(KNOWN_KEYS),
    st.text(min_size=0, max_size=40),
    st.text(alphabet="0123456789", min_size=1, max_size=5000),
    st.text(alphabet="a", min_size=200, max_size=400),
    st.sampled_from(["..", "%2e%2e", "%00", "a%2Fb", "\u202e", "CON", "feed.atom?page="]),
)
formats = st.one_of(st.sampled_from(["atom", "rss", "json"]), st.text(max_size=8))
pages = st.one_of(
    st.integers(min_value=-10, max_value=10**8).map(str),
    st.text(max_size=30),
    st.text(alphabet="0123456789", min_size=4000, max_size=6000),
    st.sampled_from(["\u00b2", "\u0663", "1e3", "0x10", " 2", "+2", "2.0"]),
)
queries = st.one_of(
    st.just(""),
    pages.map(lambda p: urlencode({"page": p})),
    st.lists(
        st.tuples(st.sampled_from(["page", "x", "fmt", ""]), st.text(max_size=20)), max_size=4
    ).map(urlencode),
)
header_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
headers = st.dictionaries(
    st.sampled_from(
        [
            "If-None-Match",
            "If-Modified-Since",
            "Accept-Encoding",
            "Accept",
            "Range",
            "Authorization",
            "Content-Type",
            "Cookie",
        ]
    ),
    header_values,
    max_size=4,
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str]]:
    route = draw(st.sampled_from(ROUTES))
    path = route.replace("{key}", quote(draw(keys), safe="")).replace(
        "{fmt}", quote(draw(formats), safe="")
    )
    query = draw(queries)
    method = draw(st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE"]))
    return method, path + (f"?{query}" if query else ""), draw(headers)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
def test_no_request_gets_a_5xx_or_leaves_a_traceback(
    server: tuple[int, Tracebacks], request: tuple[str, str, dict[str, str]]
):
    port, caught = server
    method, target, sent = request
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = b'{"title": "x"}' if method in ("POST", "PUT") else None
        connection.request(method, target, body=body, headers=sent)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status < 500, f"{method} {target[:200]} {sent} -> {response.status}"
    assert caught.seen == [], caught.seen[-1]
