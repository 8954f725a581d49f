"""Feed URLs opened in a browser: an HTML page for people, the feed's bytes for everyone else.

Issue 15, "Feeds readable by people, untouched for feed readers". Over real
HTTP (aiohttp's test server on loopback, a real SQLite store): a request
with ``Sec-Fetch-Dest: document`` and an Accept preferring text/html gets the
page; every other combination gets the very bytes and headers a plain GET
gets. Chromium, newsboat and the reader library are in test_feed_pages_clients.py.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import feedparser
import pytest

from syndicate.config import Config, parse_config
from syndicate.models import Scope
from syndicate.web.app import make_app
from syndicate.web.browsers import prefers_html
from syndicate.web.keys import CACHE
from syndicate.web.subscribers import SUBSCRIBERS
from tests.support import MINIMAL_CONFIG, fill_store, write_config

#: What Chromium sends when a person opens a link or types a URL.
CHROMIUM_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
NAVIGATION = {"Sec-Fetch-Dest": "document", "Accept": CHROMIUM_ACCEPT, "Sec-Fetch-Mode": "navigate"}
#: Requests that must get the feed's bytes: curl, feed readers, XHR/fetch, odd mixes.
NOT_BROWSERS: dict[str, dict[str, str]] = {
    "no headers": {},
    "curl": {"Accept": "*/*", "User-Agent": "curl/8.5.0"},
    "feed reader": {"Accept": "application/atom+xml, application/rss+xml;q=0.9, */*;q=0.1"},
    "html without Sec-Fetch-Dest": {"Accept": CHROMIUM_ACCEPT},
    "fetch() from a page": {"Sec-Fetch-Dest": "empty", "Accept": CHROMIUM_ACCEPT},
    "navigation taking anything": {"Sec-Fetch-Dest": "document", "Accept": "*/*"},
    "navigation with no Accept": {"Sec-Fetch-Dest": "document"},
    "navigation preferring the feed": {
        "Sec-Fetch-Dest": "document",
        "Accept": "application/atom+xml, text/html;q=0.5",
    },
    "an iframe": {"Sec-Fetch-Dest": "iframe", "Accept": CHROMIUM_ACCEPT},
}
FEEDS = (
    "/feed.atom",
    "/sections/news/feed.rss",
    "/authors/simon-assaf/feed.json",
    "/tags/strikes/feed.atom",
    "/issues/2001/feed.atom",
    "/feed.atom?page=2",
)
VARY = "Accept-Encoding, Sec-Fetch-Dest"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = write_config(tmp_path)
    fill_store(tmp_path / "store.db", 70)
    return parse_config(path.read_text(), path)


@pytest.fixture
async def client(aiohttp_client: Any, config: Config) -> Any:
    return await aiohttp_client(
        make_app(config), auto_decompress=False, headers={"Accept-Encoding": "identity"}
    )


class Page(HTMLParser):
    """The parts of the page a test looks at: text, links, inputs, scripts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.inputs: list[dict[str, str | None]] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.headlines = [
            unescape(h) for h in re.findall(r'<h3><a href="[^"]+"><bdi>(.*?)</bdi></a></h3>', html)
        ]
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag == "input":
            self.inputs.append(found)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def words(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text))


def test_prefers_html() -> None:
    assert prefers_html(CHROMIUM_ACCEPT)
    assert prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert prefers_html("text/html")
    assert not prefers_html("*/*")
    assert not prefers_html("application/atom+xml, text/html;q=0.9")
    assert not prefers_html("text/html;q=0, */*")
    assert not prefers_html("text/html;q=nonsense")
    assert not prefers_html("")


@pytest.mark.parametrize("path", FEEDS)
async def test_a_navigation_gets_the_feeds_page(client: Any, config: Config, path: str):
    response = await client.get(path, headers=NAVIGATION)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Vary"] == VARY
    csp = response.headers["Content-Security-Policy"]
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    html = (await response.read()).decode()
    page = Page(html)
    assert "script" not in page.tags
    url = config.site.root + path
    assert [i.get("value") for i in page.inputs] == [url]
    assert "readonly" in page.inputs[0]
    assert "This is a web feed" in page.words
    encoded = quote(url, safe="")
    for reader in (
        f"https://feedly.com/i/subscription/feed/{encoded}",
        f"https://www.inoreader.com/?add_feed={encoded}",
        f"https://newsblur.com/?url={encoded}",
        f"https://theoldreader.com/feeds/subscribe?url={encoded}",
    ):
        assert reader in page.links
    base, _, query = url.partition("?")
    stem = base.rsplit(".", 1)[0]
    others = {f"{stem}.{ext}" + (f"?{query}" if query else "") for ext in ("atom", "rss", "json")}
    assert others - {url} <= set(page.links)
    # The latest items, as the feed holds them: headline linked, byline, date, standfirst.
    atom = path.replace(".rss", ".atom").replace(".json", ".atom")  # same items, every format
    feed = feedparser.parse(await (await client.get(atom)).read())
    assert page.tags.count("article") == min(20, len(feed.entries)) > 0
    assert [e.title for e in feed.entries[:3]] == page.headlines[:3]
    assert any("/articles/story-" in link for link in page.links)
    assert re.search(r"What happened in story \d+", page.words)
    assert re.search(r"\d\d [A-Z][a-z]+ 20\d\d, \d\d:\d\d UTC", page.words)
    assert "&lt;strike&gt;" in html  # headlines are text, escaped
    assert "<bdi>" in html


async def test_the_page_names_the_feed_and_its_byline(client: Any):
    page = Page(
        (
            await (await client.get("/authors/simon-assaf/feed.atom", headers=NAVIGATION)).read()
        ).decode()
    )
    assert "Simon Assaf | Test Weekly" in page.words
    assert "Simon Assaf" in page.words.split("Latest in this feed", 1)[1]
    # Each name of a shared byline is isolated on its own (Arabic beside Latin).
    site = (await (await client.get("/feed.atom", headers=NAVIGATION)).read()).decode()
    assert re.search(r"<bdi>[^<]+</bdi> and <bdi>سلمى حداد</bdi> · <time", site)


@pytest.mark.parametrize("path", FEEDS)
async def test_every_other_client_gets_the_feed_bytes_unchanged(client: Any, path: str):
    plain = await client.get(path)
    body = await plain.read()
    assert plain.status == 200
    assert plain.headers["Vary"] == VARY
    assert plain.headers["Content-Type"] != "text/html; charset=utf-8"
    expected = {k: v for k, v in plain.headers.items() if k not in ("Date",)}
    for name, headers in NOT_BROWSERS.items():
        other = await client.get(path, headers=headers)
        assert other.status == 200, name
        assert await other.read() == body, name
        assert {k: v for k, v in other.headers.items() if k != "Date"} == expected, name


async def test_page_and_feed_have_their_own_etags_and_304s(client: Any):
    path = "/sections/news/feed.atom"
    feed = await client.get(path)
    page = await client.get(path, headers=NAVIGATION)
    assert feed.headers["ETag"] != page.headers["ETag"]
    again = await client.get(path, headers={**NAVIGATION, "If-None-Match": page.headers["ETag"]})
    assert again.status == 304
    assert again.headers["Vary"] == VARY
    # The page's tag sent without the navigation headers names other bytes: the feed again.
    crossed = await client.get(path, headers={"If-None-Match": page.headers["ETag"]})
    assert crossed.status == 200
    assert await crossed.read() == await feed.read()


async def test_the_page_is_built_once_per_change(client: Any):
    cache = client.app[CACHE]
    path = "/tags/strikes/feed.atom"
    first = await client.get(path, headers=NAVIGATION)
    builds = cache.builds
    second = await client.get(path, headers=NAVIGATION)
    assert await first.read() == await second.read()
    assert first.headers["ETag"] == second.headers["ETag"]
    assert cache.builds == builds
    # A change to the scope drops the page with the feed: built again, once.
    cache.invalidate(frozenset({Scope("tag", "strikes")}))
    third = await client.get(path, headers=NAVIGATION)
    assert third.status == 200
    assert cache.builds == builds + 1


async def test_a_missing_feed_is_404_for_browsers_too(client: Any):
    for path in ("/tags/no-such-tag/feed.atom", "/feed.atom?page=99"):
        response = await client.get(path, headers=NAVIGATION)
        assert response.status == 404
    bad = await client.get("/feed.atom?page=x", headers=NAVIGATION)
    assert bad.status == 400


async def test_a_digest_feed_has_its_page_too(aiohttp_client: Any, tmp_path: Path):
    """A digest's items are editions, not articles: its page is built from its own view."""
    text = MINIMAL_CONFIG + '\n[[digests]]\nslug = "morning"\ntitle = "Morning Red"\n'
    path = write_config(tmp_path, text)
    fill_store(tmp_path / "store.db", 3)
    config = parse_config(path.read_text(), path)
    client = await aiohttp_client(make_app(config))
    response = await client.get("/digests/morning/feed.rss", headers=NAVIGATION)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = Page(await response.text())
    assert "Morning Red | Test Weekly" in page.words
    assert "Nothing here yet" in page.words
    feed = await client.get("/digests/morning/feed.rss")
    assert feed.headers["Content-Type"].startswith("application/rss+xml")
    assert feed.headers["Vary"] == VARY


async def test_a_person_looking_is_not_counted_as_a_subscriber(client: Any):
    seen = client.app[SUBSCRIBERS].seen
    seen.clear()
    await client.get("/sections/news/feed.atom", headers=NAVIGATION)
    assert not seen
    await client.get("/sections/news/feed.atom", headers={"Accept": "*/*"})
    assert len(seen) == 1
