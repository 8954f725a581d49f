"""The pages feeds link to (``site.pages``) and the demo's made-up files (``server.demo_media``).

Over real HTTP (aiohttp's test server on loopback) on a real store: off by
default, so a real site's own pages are never shadowed; on, each page lists
its scope's latest articles, inert, and follows writes and the sidebar.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from syndicate.config import Config, ConfigError, parse_config
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.web.app import make_app
from tests.support import MINIMAL_CONFIG, fill_store, sample_record
from tests.test_pages import put_entries

PAGES_ON = MINIMAL_CONFIG.replace(
    'tag_authority = "test.example,2026"', 'tag_authority = "test.example,2026"\npages = true'
)
SOURCES = """
[[sidebar.sources]]
name = "Busy Wire"
url = "http://busy.example/feed"
"""


def make_config(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text + SOURCES)
    if not (tmp_path / "store.db").exists():
        fill_store(tmp_path / "store.db", 12)
    return parse_config(path.read_text(), path)


async def test_off_by_default_the_website_keeps_its_pages(aiohttp_client: Any, tmp_path: Path):
    config = make_config(tmp_path, MINIMAL_CONFIG)
    assert not config.site.pages
    assert not config.server.demo_media
    client = await aiohttp_client(make_app(config))
    for path in ("/", "/sections/news", "/authors/simon-assaf", "/tags/strikes", "/issues/2000"):
        assert (await client.get(path)).status == 404, path
    for path in ("/images/picket-line-3.svg", "/static/icon.png", "/pdf/issue-2000.pdf"):
        assert (await client.get(path)).status == 404, path
    # The feeds' alternate links are the base URL's paths, as before.
    feed = json.loads(await (await client.get("/sections/news/feed.json")).text())
    assert feed["home_page_url"] == "http://127.0.0.1:8080/sections/news"


async def test_a_page_lists_its_scope_inert_with_feeds_and_sidebar(
    aiohttp_client: Any, tmp_path: Path
):
    config = make_config(tmp_path, PAGES_ON)
    put_entries(config, "http://busy.example/feed", ["Busy one"], datetime.now(UTC))
    client = await aiohttp_client(make_app(config))
    response = await client.get("/sections/news")
    assert response.status == 200
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "img-src" in response.headers["Content-Security-Policy"]
    text = await response.text()
    assert "<strike>" not in text  # "the <strike> that won" is text
    tree = lxml_html.fromstring(text)
    titles = [a.text_content() for a in tree.findall(".//li[@class='article']//h2/a")]
    assert titles
    assert all(t.endswith("& the <strike> that won") for t in titles)
    numbers = [int(t.split()[2]) for t in titles]
    assert all(n % 2 == 0 for n in numbers)  # news only: even numbers
    assert numbers == sorted(numbers, reverse=True)
    names = [b.text_content() for b in tree.findall(".//a[@class='byline']/bdi")]
    assert "سلمى حداد" in names
    alternates = tree.findall(".//head/link[@rel='alternate']")
    assert {link.get("href") for link in alternates} == {
        f"http://127.0.0.1:8080/sections/news/feed.{fmt}" for fmt in ("atom", "rss", "json")
    }
    assert "Busy one" in tree.find(".//aside").text_content()
    assert (await client.get("/sections/nope")).status == 404
    assert (await client.get("/issues/not-a-number")).status == 404


async def test_a_page_follows_writes_and_the_sidebar(aiohttp_client: Any, tmp_path: Path):
    config = make_config(tmp_path, PAGES_ON)
    client = await aiohttp_client(make_app(config))
    first = await client.get("/")
    assert "Breaking: dockers win" not in await first.text()
    etag = first.headers["ETag"]
    assert (await client.get("/", headers={"If-None-Match": etag})).status == 304
    record = sample_record(500, title="Breaking: dockers win", section="news")
    record["published"] = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    with Store.open(config.store_path) as store:
        store.upsert_article(parse_record(record, ["news", "comment"]), datetime.now(UTC))
    assert "Breaking: dockers win" in await (await client.get("/")).text()
    assert "Breaking: dockers win" in await (await client.get("/sections/news")).text()
    put_entries(config, "http://busy.example/feed", ["Sidebar news"], datetime.now(UTC))
    assert "Sidebar news" in await (await client.get("/")).text()


def test_pages_must_be_true_or_false(tmp_path: Path):
    with pytest.raises(ConfigError, match="pages"):
        parse_config(PAGES_ON.replace("pages = true", 'pages = "yes"'), tmp_path / "c.toml")
