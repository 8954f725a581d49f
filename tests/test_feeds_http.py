"""Feeds over real HTTP: validators, codings, paging, errors, freshness."""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import brotli
import feedparser
import pytest
from lxml import etree

from syndicate.config import Config, parse_config
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.web.app import make_app
from syndicate.web.keys import CACHE
from tests.support import MINIMAL_CONFIG, fill_store, run_cli, sample_record, write_config

ATOM = "{http://www.w3.org/2005/Atom}"
ARTICLES = 130  # more than two pages of 50


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = write_config(tmp_path)
    fill_store(tmp_path / "store.db", ARTICLES)
    return parse_config(path.read_text(), path)


@pytest.fixture
async def client(aiohttp_client: Any, config: Config) -> Any:
    return await aiohttp_client(
        make_app(config), auto_decompress=False, headers={"Accept-Encoding": "identity"}
    )


def atom_links(body: bytes) -> dict[str, str]:
    root = etree.fromstring(body)
    return {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}


async def test_feed_headers(client: Any):
    response = await client.get("/feed.atom")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert response.headers["ETag"].startswith('"')
    assert not response.headers["ETag"].startswith("W/")
    assert response.headers["Cache-Control"] == "public, max-age=300, stale-while-revalidate=60"
    assert response.headers["Vary"] == "Accept-Encoding, Sec-Fetch-Dest"
    assert response.headers["Last-Modified"].endswith(" GMT")
    for path, media in (
        ("/feed.rss", "application/rss+xml"),
        ("/feed.json", "application/feed+json"),
    ):
        other = await client.get(path)
        assert other.headers["Content-Type"] == f"{media}; charset=utf-8"


async def test_if_none_match_gives_304_without_body(client: Any):
    first = await client.get("/sections/news/feed.atom")
    etag = first.headers["ETag"]
    again = await client.get("/sections/news/feed.atom", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    assert again.headers["ETag"] == etag
    # RFC 9110 15.4.5: the validator and the caching fields, nothing about a body.
    for name in ("Cache-Control", "Vary"):
        assert again.headers[name] == first.headers[name]
    for name in ("Content-Type", "Content-Encoding", "Last-Modified", "X-Content-Type-Options"):
        assert name not in again.headers
    other = await client.get("/sections/news/feed.atom", headers={"If-None-Match": '"nope"'})
    assert other.status == 200


async def test_if_modified_since_gives_304(client: Any):
    first = await client.get("/feed.rss")
    modified = first.headers["Last-Modified"]
    again = await client.get("/feed.rss", headers={"If-Modified-Since": modified})
    assert again.status == 304
    older = await client.get(
        "/feed.rss", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    )
    assert older.status == 200


async def test_304_builds_nothing(client: Any):
    first = await client.get("/feed.json")
    cache = client.app[CACHE]
    builds = cache.builds
    for _ in range(5):
        again = await client.get("/feed.json", headers={"If-None-Match": first.headers["ETag"]})
        assert again.status == 304
    assert cache.builds == builds


async def test_head_has_headers_and_no_body(client: Any):
    get = await client.get("/feed.atom")
    body = await get.read()
    head = await client.head("/feed.atom")
    assert head.status == 200
    assert await head.read() == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    assert int(head.headers["Content-Length"]) == len(body)


async def test_compression_negotiation(client: Any):
    plain = await (await client.get("/feed.atom", headers={"Accept-Encoding": "identity"})).read()
    gz = await client.get("/feed.atom", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await gz.read()) == plain
    br = await client.get("/feed.atom", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(await br.read()) == plain
    deflate = await client.get("/feed.atom", headers={"Accept-Encoding": "deflate"})
    assert "Content-Encoding" not in deflate.headers
    assert await deflate.read() == plain
    refused = await client.get("/feed.atom", headers={"Accept-Encoding": "gzip;q=0, br;q=0"})
    assert "Content-Encoding" not in refused.headers
    assert len({gz.headers["ETag"], br.headers["ETag"], deflate.headers["ETag"]}) == 3
    # The gzip body's validator still answers 304 for the plain one: same content.
    cross = await client.get("/feed.atom", headers={"If-None-Match": gz.headers["ETag"]})
    assert cross.status == 304


async def test_paging_walks_back_to_the_first_article(client: Any):
    seen: list[str] = []
    url = "/feed.atom"
    pages = 0
    while url:
        response = await client.get(url)
        assert response.status == 200
        body = await response.read()
        links = atom_links(body)
        assert links["self"].endswith(url)
        assert links["first"].endswith("/feed.atom")
        assert links["last"].endswith("/feed.atom?page=3")
        seen += [e.findtext(f"{ATOM}id") for e in etree.fromstring(body).findall(f"{ATOM}entry")]
        url = links.get("next", "").replace("http://127.0.0.1:8080", "")
        pages += 1
        assert pages < 10
    assert pages == 3
    assert len(seen) == ARTICLES == len(set(seen))
    assert seen[-1].endswith(":article:1")


async def test_paging_in_rss_and_json(client: Any):
    rss = await (await client.get("/feed.rss?page=2")).read()
    root = etree.fromstring(rss)
    rels = {link.get("rel") for link in root.iter(f"{ATOM}link")}
    assert {"self", "first", "last", "previous", "next"} <= rels
    feed = json.loads(await (await client.get("/feed.json?page=2")).read())
    assert feed["next_url"].endswith("/feed.json?page=3")
    last = json.loads(await (await client.get("/feed.json?page=3")).read())
    assert "next_url" not in last


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/sections/sport/feed.atom", 404),
        ("/authors/nobody/feed.rss", 404),
        ("/tags/unknown-tag/feed.json", 404),
        ("/issues/99999/feed.atom", 404),
        ("/issues/abc/feed.atom", 404),
        ("/feed.atom?page=0", 400),
        ("/feed.atom?page=-1", 400),
        ("/feed.atom?page=two", 400),
        ("/feed.atom?page=4", 404),
        ("/feed.xml", 404),
    ],
)
async def test_error_paths(client: Any, path: str, status: int):
    response = await client.get(path)
    assert response.status == status
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    assert "Traceback" not in text
    assert len(text) < 300


async def test_every_scope_has_feeds_that_feedparser_reads(client: Any):
    for path in (
        "/feed",
        "/sections/news/feed",
        "/authors/simon-assaf/feed",
        "/issues/2001/feed",
        "/tags/gaza/feed",
    ):
        for ext in ("atom", "rss", "json"):
            response = await client.get(f"{path}.{ext}")
            assert response.status == 200, (path, ext)
            body = await response.read()
            if ext == "json":
                assert json.loads(body)["items"]
            else:
                parsed = feedparser.parse(body)
                assert not parsed.bozo, (path, ext, parsed.get("bozo_exception"))
                assert parsed.entries


async def test_issue_feed_has_the_pdf_as_enclosure(client: Any):
    body = await (await client.get("/issues/2001/feed.rss")).read()
    enclosures = etree.fromstring(body).findall("channel/item/enclosure")
    assert enclosures
    assert enclosures[0].get("url") == "https://pdf.test/2001.pdf"
    assert enclosures[0].get("type") == "application/pdf"


async def test_write_by_another_process_is_noticed(client: Any, config: Config, tmp_path: Path):
    before = await (await client.get("/sections/news/feed.atom")).read()
    comment = await client.get("/sections/comment/feed.atom")
    cache = client.app[CACHE]
    builds = cache.builds
    data = tmp_path / "new.jsonl"
    fresh = sample_record(1000, slug="breaking", title="Breaking news", section="news", tags=[])
    fresh["published"] = datetime.now(UTC).replace(microsecond=0).isoformat()
    fresh["authors"] = ["Simon Assaf"]
    data.write_text(json.dumps(fresh) + "\n")
    result = run_cli("--config", str(config.source), "import", str(data))
    assert result.returncode == 0, result.stderr
    after = await (await client.get("/sections/news/feed.atom")).read()
    assert after != before
    assert b"Breaking news" in after
    assert cache.builds == builds + 1
    untouched = await client.get("/sections/comment/feed.atom")
    assert untouched.headers["ETag"] == comment.headers["ETag"]
    assert cache.builds == builds + 1, "a change to one section rebuilt another"


async def test_scheduled_article_appears_on_time_without_a_write(client: Any, config: Config):
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    record = parse_record(
        sample_record(
            2000,
            slug="scheduled",
            title="Scheduled story",
            section="news",
            published=soon.isoformat(),
        ),
        ["news", "comment"],
    )
    with Store.open(config.store_path) as writer:
        writer.upsert_article(record, datetime.now(UTC))
    early = await (await client.get("/sections/news/feed.atom")).read()
    assert b"Scheduled story" not in early
    await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()))
    for _ in range(50):  # due now; allow for a loaded machine
        late = await (await client.get("/sections/news/feed.atom")).read()
        if b"Scheduled story" in late:
            break
        await asyncio.sleep(0.1)
    assert b"Scheduled story" in late


async def test_feed_directory_and_opml(client: Any):
    page = await client.get("/feeds")
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    html = await page.text()
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert "/authors/simon-assaf/feed.atom" in html
    opml = etree.fromstring(await (await client.get("/feeds.opml")).read())
    urls = {o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")}
    assert "http://127.0.0.1:8080/feed.atom" in urls
    assert "http://127.0.0.1:8080/sections/news/feed.atom" in urls
    assert "http://127.0.0.1:8080/tags/gaza/feed.atom" in urls
    assert len([u for u in urls if "/authors/" in u]) == 5


def test_etags_agree_across_processes_and_workers(tmp_path: Path):
    import urllib.request

    from tests.support import running_server

    config = write_config(tmp_path, MINIMAL_CONFIG)
    fill_store(tmp_path / "store.db", 60)
    tags = []
    # One server at a time on a store (a second is refused): one process, then
    # two workers of another, as after a restart with more workers.
    for workers, requests in (("1", 1), ("2", 6)):
        with running_server(config, "--workers", workers) as root:
            for _ in range(requests):
                with urllib.request.urlopen(root + "/sections/news/feed.atom") as response:
                    tags.append(response.headers["ETag"])
    assert len(set(tags)) == 1


async def test_text_that_is_not_utf8_in_the_store_comes_out_as_valid_feeds(
    client: Any, config: Config
):
    """Another process may write any bytes as TEXT; the feeds stay valid, with U+FFFD."""
    import sqlite3

    conn = sqlite3.connect(config.store_path)
    with conn:
        # CAST of a BLOB stores its bytes as TEXT unchecked: \xff and a cut-off é.
        conn.execute(
            "UPDATE articles SET title = CAST(X'427573ff20737472696b65c3' AS TEXT), "
            "body = CAST(X'3c703e4fff3c2f703e' AS TEXT) WHERE slug = 'story-129'"
        )
        conn.execute("UPDATE authors SET name = CAST(X'53696dff6f6e' AS TEXT) WHERE id = 1")
    conn.close()
    for path in ("/feed.atom", "/feed.rss", "/feed.json", "/feeds", "/feeds.opml"):
        response = await client.get(path)
        assert response.status == 200, path
        body = await response.read()
        if path.endswith(".json"):
            json.loads(body)
        elif path != "/feeds":
            etree.fromstring(body, etree.XMLParser(recover=False))
        text = body.decode("utf-8")
        if path.startswith("/feed."):
            assert "Bus\ufffd strike\ufffd" in text or "Bus\\ufffd strike\\ufffd" in text, path
    api = await client.get("/articles/story-129")
    assert api.status == 200
    assert "Bus\ufffd strike" in await api.text()
