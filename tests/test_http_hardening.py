"""What fuzzing and an attacker's look at the headers found: 4xx for client mistakes, no
versions in Server, no script on public pages, one log line per malformed request."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from syndicate.config import Config, parse_config
from syndicate.passwords import new_token
from syndicate.store import Store
from syndicate.store.accounts import Accounts
from syndicate.web.app import make_app
from tests.support import MINIMAL_CONFIG, fill_store, write_config

FEEDS = Path(__file__).resolve().parent.parent / "feeds"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = write_config(
        tmp_path,
        MINIMAL_CONFIG.replace("[store]", f'[server]\ndemo_feeds = "{FEEDS}"\n\n[store]'),
    )
    fill_store(tmp_path / "store.db", 60)
    return parse_config(path.read_text(), path)


@pytest.fixture
def token(config: Config) -> str:
    secret = new_token()
    with Store.open(config.store_path) as store:
        from datetime import UTC, datetime

        Accounts(store).add_token("cms", secret, datetime.now(UTC))
    return secret


async def boom(request: web.Request) -> web.Response:
    raise RuntimeError("a bug in a handler")


@pytest.fixture
async def client(aiohttp_client: Any, config: Config) -> Any:
    app = make_app(config)
    app.router.add_get("/test-only/boom", boom)
    return await aiohttp_client(app, auto_decompress=False)


@pytest.mark.parametrize(
    "page", ["9" * 5000, "9" * 8, "\u00b2", "\u0663", "1e3", "-2", "0x10", " 2", ""]
)
async def test_a_page_that_is_not_a_small_ascii_number_is_400(client: Any, page: str):
    response = await client.get("/feed.atom", params={"page": page})
    assert response.status == 400
    assert "page must be a whole number" in await response.text()


@pytest.mark.parametrize("path", ["/feed.atom", "/sections/news/feed.rss", "/feed.json"])
async def test_page_1_moves_permanently_to_the_feeds_one_url(client: Any, path: str):
    for query in ("?page=1", "?page=01"):
        response = await client.get(path + query, allow_redirects=False)
        assert response.status == 301
        assert response.headers["Location"] == path
        assert "max-age" in response.headers["Cache-Control"]
    # The site feed has 60 articles: its page 2 is served as it is.
    assert (await client.get("/feed.atom?page=2", allow_redirects=False)).status == 200


async def test_a_demo_feed_name_too_long_for_the_disk_is_404(client: Any):
    response = await client.get("/demo-feeds/" + "a" * 300 + ".rss")
    assert response.status == 404
    assert (await client.get("/demo-feeds/labour-wire.rss")).status == 200


async def test_a_body_that_is_not_the_gzip_it_declares_is_400(client: Any, token: str):
    response = await client.put(
        "/api/articles/a-story",
        data=b'{"title": "not gzip at all"}',
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    assert response.status == 400
    assert "could not be read" in (await response.json())["error"]


async def test_the_server_header_names_no_versions(client: Any, token: str):
    etag = (await client.get("/feed.atom")).headers["ETag"]
    answers = [
        await client.get("/feed.atom"),
        await client.get("/feed.atom", headers={"If-None-Match": etag}),
        await client.get("/sections/nope/feed.atom"),
        await client.get("/feed.atom?page=abc"),
        await client.get("/feed.atom?page=1", allow_redirects=False),
        await client.get("/feeds"),
        await client.get("/latest-news.json"),
        await client.get("/healthz"),
        await client.get("/metrics"),
        await client.get("/admin"),
        await client.get("/api/articles/x"),
        await client.get("/no/such/path"),
    ]
    assert [r.headers.get("Server") for r in answers] == ["syndicate"] * len(answers)
    # aiohttp's own answer to a request its parser refuses, too.
    host, port = client.server.host, client.server.port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /feed.atom HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
    await writer.drain()
    head = (await reader.read(1000)).split(b"\r\n")
    writer.close()
    assert head[0].startswith(b"HTTP/1.0 400") or head[0].startswith(b"HTTP/1.1 400")
    assert b"Server: syndicate" in head


@pytest.mark.parametrize("path", ["/feeds", "/articles/story-3", "/latest-news"])
async def test_public_html_pages_forbid_script_and_framing(client: Any, path: str):
    response = await client.get(path)
    assert response.status == 200
    csp = response.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'")
    assert "script-src" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "base-uri 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("accept", "suffix"), [("gzip", "-gzip"), ("br", "-br"), ("identity", ""), ("", "")]
)
async def test_a_304_carries_the_etag_of_the_coding_the_request_selects(
    client: Any, accept: str, suffix: str
):
    """RFC 9110 15.4.5: the 304 sends the ETag the 200 would have sent."""
    full = await client.get("/feed.atom", headers={"Accept-Encoding": accept})
    assert full.status == 200
    etag = full.headers["ETag"]
    assert etag.endswith(f'{suffix}"')
    for sent in (etag, etag.replace(suffix + '"', '"') if suffix else etag):
        again = await client.get(
            "/feed.atom", headers={"Accept-Encoding": accept, "If-None-Match": sent}
        )
        assert again.status == 304
        assert again.headers["ETag"] == etag


async def test_malformed_requests_leave_one_line_and_bugs_are_counted(
    client: Any, caplog: pytest.LogCaptureFixture
):
    host, port = client.server.host, client.server.port
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    for raw in (
        b"GET /feed.atom HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"GET /feed.atom HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    ):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(raw)
        await writer.drain()
        assert (await reader.read(1000)).startswith(b"HTTP/1.")
        writer.close()
    server_lines = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(server_lines) == 3
    assert all(r.exc_info is None and r.levelno <= logging.INFO for r in server_lines)
    assert all("malformed request refused (400)" in r.getMessage() for r in server_lines)
    metrics = await (await client.get("/metrics")).text()
    assert "syndicate_malformed_requests_total 3" in metrics
    assert "syndicate_server_errors_total 0" in metrics
    caplog.clear()
    assert (await client.get("/test-only/boom")).status == 500
    metrics = await (await client.get("/metrics")).text()
    assert "syndicate_server_errors_total 1" in metrics
    assert any(r.exc_info for r in caplog.records), "a bug keeps its traceback"
