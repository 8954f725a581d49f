"""Real clients at feed URLs: Chromium gets the page, every feed client the same bytes as ever.

Issue 15, "Feeds readable by people, untouched for feed readers". One real
`syndicate serve` on loopback. Chromium (Debian's, through Playwright) opens
feed links as a person would and is shown the feed's page, at desktop and
phone widths (screenshots in tmp_path). newsboat and the ``reader`` library
read the feeds through a recording tap in front of the server, so the bytes
they were actually sent are compared with what a request without any of
their headers gets; curl with its default ``Accept: */*`` and with no Accept
at all, too.
"""

from __future__ import annotations

import gzip
import http.client
import os
import shutil
import struct
import subprocess
import threading
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import brotli
import pytest

from tests.support import fill_store, running_server, write_config

FEEDS = ("/feed.rss", "/feed.atom", "/sections/news/feed.atom", "/tags/strikes/feed.rss")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


@dataclass
class Seen:
    """One exchange the tap passed on: what the client asked and was sent, byte for byte."""

    path: str
    asked: dict[str, str]
    status: int
    headers: dict[str, str]
    body: bytes


class Tap(ThreadingHTTPServer):
    """A loopback proxy that forwards GETs to the origin unchanged and records them."""

    daemon_threads = True

    def __init__(self, origin: str) -> None:
        parts = urlsplit(origin)
        self.origin = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.seen: list[Seen] = []
        super().__init__(("127.0.0.1", 0), _Forward)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    server: Tap

    def do_GET(self) -> None:
        asked = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        conn = http.client.HTTPConnection(*self.server.origin, timeout=10)
        try:
            conn.request("GET", self.path, headers=asked)
            response = conn.getresponse()
            body = response.read()  # as sent: http.client never decompresses
            headers = {k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP}
        finally:
            conn.close()
        self.server.seen.append(Seen(self.path, asked, response.status, headers, body))
        self.send_response(response.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("feedpages")
    config = write_config(folder)
    fill_store(folder / "store.db", 40)
    with running_server(config, "--workers", "1") as url:
        yield url


@pytest.fixture
def tap(root: str) -> Iterator[Tap]:
    server = Tap(root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[dict[str, str], bytes]:
    """A GET sending only ``headers`` (urllib adds Host, Connection and its User-Agent)."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as response:
        return dict(response.headers.items()), response.read()


def decoded(body: bytes, coding: str | None) -> bytes:
    if coding == "gzip":
        return gzip.decompress(body)
    if coding == "br":
        return bytes(brotli.decompress(body))
    if coding == "deflate":
        return zlib.decompress(body)
    return body


def same_fields(headers: dict[str, str]) -> dict[str, str]:
    """The fields that describe the document (not Date, nor the connection's own)."""
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP | {"date"}}


def check_untouched(root: str, seen: list[Seen]) -> None:
    """Every feed the client was sent is the feed as a bare request gets it, byte for byte."""
    answered = [s for s in seen if s.status == 200]
    assert {s.path for s in answered} == set(FEEDS)
    for exchange in answered:
        plain_headers, plain = fetch(root + exchange.path)
        coding = exchange.headers.get("Content-Encoding")
        assert decoded(exchange.body, coding) == plain, exchange.path
        # The same coding, asked for alone: the very bytes and headers.
        same = {"Accept-Encoding": coding} if coding else {}
        headers, body = fetch(root + exchange.path, same)
        assert exchange.body == body, exchange.path
        assert same_fields(exchange.headers) == same_fields(headers), exchange.path
        assert "text/html" not in exchange.headers["Content-Type"]
        assert plain_headers["Vary"] == "Accept-Encoding, Sec-Fetch-Dest"


@pytest.mark.skipif(shutil.which("newsboat") is None, reason="newsboat is not installed")
def test_newsboat_is_sent_the_feeds_unchanged(tap: Tap, root: str, tmp_path: Path):
    urls = tmp_path / "urls"
    urls.write_text("".join(tap.root + path + "\n" for path in FEEDS))
    (tmp_path / "config").write_text("")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    env["XDG_DATA_HOME"] = str(tmp_path)
    command = ["newsboat", "-u", str(urls), "-c", str(tmp_path / "cache.db")]
    command += ["-C", str(tmp_path / "config"), "-x", "reload"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    check_untouched(root, tap.seen)


def test_the_reader_library_is_sent_the_feeds_unchanged(tap: Tap, root: str, tmp_path: Path):
    from reader import make_reader

    reader = make_reader(str(tmp_path / "reader.sqlite"))
    try:
        for path in FEEDS:
            reader.add_feed(tap.root + path)
            reader.update_feed(tap.root + path)
            assert len(list(reader.get_entries(feed=tap.root + path))) > 0
    finally:
        reader.close()
    check_untouched(root, tap.seen)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("accept", [["-H", "Accept:"], []], ids=["no Accept", "Accept */*"])
def test_curl_gets_the_feeds_unchanged(root: str, accept: list[str]):
    for path in FEEDS:
        _, plain = fetch(root + path)
        done = subprocess.run(
            ["curl", "-sS", "--fail", *accept, root + path], capture_output=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == plain, path


def png_width(path: Path) -> int:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int(struct.unpack(">I", data[16:20])[0])


async def test_chromium_opening_a_feed_link_shows_its_page(root: str, page: Any, tmp_path: Path):
    url = root + "/sections/news/feed.atom"
    response = await page.goto(url)
    assert response.status == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert (await page.locator("h1").inner_text()) == "News | Test Weekly"
    field = page.locator("input[readonly]")
    assert await field.input_value() == "http://127.0.0.1:8080/sections/news/feed.atom"
    assert await page.locator("article.item").count() == 20
    assert await page.get_by_role("link", name="Feedly").count() == 1
    # The field can be selected whole for copying (no script: the CSP forbids it).
    await field.select_text()
    selected = await field.evaluate("e => e.value.substring(e.selectionStart, e.selectionEnd)")
    assert selected == await field.input_value()
    # Its style block was allowed by the CSP: the explanation is boxed, not plain.
    padding = await page.locator(".about").evaluate("e => getComputedStyle(e).paddingLeft")
    assert padding != "0px"
    wide = tmp_path / "feed-page-1280.png"
    await page.screenshot(path=str(wide), full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    box = await field.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 390
    narrow = tmp_path / "feed-page-390.png"
    await page.screenshot(path=str(narrow), full_page=True)
    assert png_width(wide) == 1280
    assert png_width(narrow) == 390
    for shot in (wide, narrow):
        assert shot.stat().st_size > 20_000  # a page of text, not a blank image
    assert wide.read_bytes() != narrow.read_bytes()


async def test_chromium_fetch_from_a_page_gets_the_feed(root: str, page: Any):
    """A script's fetch() of a feed URL (Sec-Fetch-Dest: empty) gets the feed's bytes."""
    await page.goto(root + "/healthz")  # same origin, no CSP
    _, plain = fetch(root + "/feed.atom")
    text = await page.evaluate("fetch('/feed.atom').then(r => r.text())")
    assert text.encode("utf-8") == plain
