"""Last-Modified is when a feed's bytes last changed: the same everywhere, never stale.

Each case is a client that sends only If-Modified-Since (as many aggregators
do): after any change to a feed's bytes it must get a 200, never a stale 304.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from syndicate.config import Config, parse_config
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.web.app import make_app
from syndicate.web.keys import LIVE
from tests.support import MINIMAL_CONFIG, fill_store, sample_record, write_config

SECTIONS = ("news", "comment")
COUNT = 20


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = write_config(tmp_path)
    fill_store(tmp_path / "store.db", COUNT)
    return parse_config(path.read_text(), path)


@pytest.fixture
async def client(aiohttp_client: Any, config: Config) -> Any:
    return await aiohttp_client(make_app(config))


def write(config: Config, record: dict[str, object]) -> None:
    with Store.open(config.store_path) as store:
        store.upsert_article(parse_record(record, SECTIONS), datetime.now(UTC))


async def modified(client: Any, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200
    return str(response.headers["Last-Modified"])


async def still_fresh(client: Any, path: str, since: str) -> bool:
    response = await client.get(path, headers={"If-Modified-Since": since})
    return bool(response.status == 304)


async def next_second() -> None:
    await asyncio.sleep(1.1)  # HTTP dates have whole seconds


async def test_unpublishing_the_newest_article_is_not_a_stale_304(client: Any, config: Config):
    since = await modified(client, "/feed.atom")
    assert await still_fresh(client, "/feed.atom", since)
    await next_second()
    write(config, sample_record(COUNT - 1, status="draft"))  # the newest one
    assert not await still_fresh(client, "/feed.atom", since)
    after = await modified(client, "/feed.atom")
    assert parsedate_to_datetime(after) > parsedate_to_datetime(since), "never backwards"


async def test_editing_an_older_article_with_an_older_date_is_not_a_stale_304(
    client: Any, config: Config
):
    since = await modified(client, "/sections/news/feed.rss")
    await next_second()
    old = sample_record(2, title="An old story, corrected")
    old["updated"] = "2025-01-02T00:00:00Z"  # older than the feed's newest item
    write(config, old)
    assert not await still_fresh(client, "/sections/news/feed.rss", since)


async def test_a_config_reload_that_changes_the_bytes_is_not_a_stale_304(
    client: Any, config: Config
):
    since = await modified(client, "/sections/news/feed.atom")
    await next_second()
    config.source.write_text(MINIMAL_CONFIG.replace('title = "News"', 'title = "Reports"'))
    assert client.app[LIVE].reload("file")
    assert not await still_fresh(client, "/sections/news/feed.atom", since)


async def test_a_rebuild_with_the_same_bytes_keeps_its_date(client: Any, config: Config):
    first = await modified(client, "/sections/comment/feed.atom")
    await next_second()
    write(config, sample_record(0, title="A news story, edited"))  # touches news only
    config.source.write_text(MINIMAL_CONFIG.replace('title = "News"', 'title = "Reports"'))
    client.app[LIVE].reload("file")  # drops every document: comment is rebuilt
    assert await modified(client, "/sections/comment/feed.atom") == first


async def test_last_modified_is_never_after_the_response_date(client: Any, config: Config):
    future = datetime.now(UTC) + timedelta(days=3)
    write(config, sample_record(COUNT, updated=future.isoformat()))
    response = await client.get("/feed.atom")
    sent = parsedate_to_datetime(response.headers["Last-Modified"])
    assert sent <= parsedate_to_datetime(response.headers["Date"])


async def test_every_worker_and_every_restart_send_the_same_date(
    aiohttp_client: Any, config: Config
):
    one = await aiohttp_client(make_app(config))
    first = await modified(one, "/tags/strikes/feed.json")
    await next_second()
    other = await aiohttp_client(make_app(config))  # another worker, or after a restart
    assert await modified(other, "/tags/strikes/feed.json") == first
    assert await still_fresh(other, "/tags/strikes/feed.json", first)


async def test_a_feed_with_no_article_yet_is_dated_from_its_scopes_last_change(
    client: Any, config: Config
):
    """Issue 2099 holds only a scheduled article: its feed is empty, but not from 1970."""
    later = datetime.now(UTC) + timedelta(days=2)
    before = datetime.now(UTC).replace(microsecond=0)
    write(config, sample_record(COUNT + 1, issue=2099, published=later.isoformat()))
    for fmt in ("atom", "rss", "json"):
        response = await client.get(f"/issues/2099/feed.{fmt}")
        assert response.status == 200
        body = await response.read()
        assert b"1970" not in body, fmt
    import feedparser

    parsed = feedparser.parse(await (await client.get("/issues/2099/feed.atom")).read())
    assert parsed.entries == []
    updated = datetime(*parsed.feed.updated_parsed[:6], tzinfo=UTC)
    assert before - timedelta(seconds=2) <= updated <= datetime.now(UTC)
