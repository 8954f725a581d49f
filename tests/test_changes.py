"""The change door: a listener hears exactly the documents whose bytes changed.

Each case writes through a second connection (as the CMS or another worker
would), then waits for the leader's door to report, and compares what it
reported with an oracle: every first page, every archive month of every feed,
the directory and the sidebar, fetched over HTTP before and after, hashed.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate.catalog import FORMATS, archive_path, feed_path
from syndicate.config import Config, parse_config
from syndicate.documents.changes import Change
from syndicate.models import SITE, Scope
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.store.archive import periods
from syndicate.text import slugify
from syndicate.web.app import make_app
from syndicate.web.keys import DOOR, LIVE
from tests.support import (
    AUTHORS,
    MINIMAL_CONFIG,
    TAGS,
    fill_store,
    running_server,
    sample_record,
    write_config,
)

ROOT = "http://127.0.0.1:8080"
SECTIONS = ("news", "comment")
ARTICLES = 60  # the site feed has two pages; every other feed one


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = write_config(tmp_path)
    fill_store(tmp_path / "store.db", ARTICLES)
    return parse_config(path.read_text(), path)


class Heard:
    """A listener that keeps every change it is told of."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def __call__(self, change: Change) -> None:
        self.changes.append(change)

    async def next(self, timeout: float = 10.0) -> Change:
        deadline = time.monotonic() + timeout
        while not self.changes:
            assert time.monotonic() < deadline, "the door reported nothing"
            await asyncio.sleep(0.02)
        return self.changes.pop(0)

    async def nothing_more(self, wait: float = 1.0) -> None:
        await asyncio.sleep(wait)
        assert self.changes == [], f"also reported: {[c.urls for c in self.changes]}"


@pytest.fixture
async def leader(aiohttp_client: Any, config: Config) -> tuple[Any, Heard]:
    client = await aiohttp_client(make_app(config, leader=True))
    door = client.app[DOOR]
    heard = Heard()
    door.subscribe(heard)
    await asyncio.wait_for(door.ready.wait(), 30)
    return client, heard


def heads(scopes: list[Scope]) -> set[str]:
    return {ROOT + feed_path(scope, fmt) for scope in scopes for fmt in FORMATS}


def archives(scopes: list[Scope], *months: str) -> set[str]:
    return {
        ROOT + archive_path(scope, fmt, month)
        for scope in scopes
        for fmt in FORMATS
        for month in months
    }


#: Every sample article before the tests' own is in this month (60 x 7 hours from 1 January).
MONTH = "2025-01"
DIRECTORY = {ROOT + "/feeds", ROOT + "/feeds.opml"}


async def snapshot(client: Any, config: Config) -> dict[str, str]:
    """The oracle: a hash of every first page, the directory and the sidebar, over HTTP."""
    with Store.open(config.store_path) as store:
        scopes = [SITE] + [Scope("section", s.slug) for s in config.sections]
        for kind in ("author", "tag", "issue"):
            scopes += [Scope(kind, key) for key, _, _ in store.directory(kind)]  # type: ignore[arg-type]
        now = datetime.now(UTC)
        months = {s: periods(store, s, now) for s in scopes}
    every_archive = set().union(*(archives([s], *months[s]) for s in scopes))
    urls = sorted(heads(scopes) | every_archive | DIRECTORY | {ROOT + "/latest-news.json"})
    found: dict[str, str] = {}
    for url in urls:
        response = await client.get(url.removeprefix(ROOT))
        body = await response.read()
        found[url] = f"{response.status}:{hashlib.sha256(body).hexdigest()}"
    return found


def differing(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {u for u in before.keys() | after.keys() if before.get(u) != after.get(u)}


def write(config: Config, *records: dict[str, object]) -> None:
    """Write as another process would: its own connection, its own transaction."""
    with Store.open(config.store_path) as store:
        store.upsert_articles([parse_record(r, SECTIONS) for r in records], datetime.now(UTC))


async def test_a_publish_reports_the_first_pages_of_its_feeds_and_the_directory(leader, config):
    client, heard = leader
    before = await snapshot(client, config)
    write(config, sample_record(ARTICLES))  # news; Simon Assaf and Salma Haddad; Strikes
    change = await heard.next()
    scopes = [
        SITE,
        Scope("section", "news"),
        Scope("author", slugify(AUTHORS[0])),
        Scope("author", slugify(AUTHORS[1])),
        Scope("tag", slugify(TAGS[0])),
        Scope("issue", str(2000 + ARTICLES // 10)),
    ]
    # The month it was published in, which each of its feeds archives.
    expected = heads(scopes) | archives(scopes, MONTH) | DIRECTORY
    assert set(change.urls) == expected
    assert Scope("section", "news") in change.scopes
    assert change.gone == frozenset()
    await heard.nothing_more()
    assert set(change.urls) == differing(before, await snapshot(client, config))


async def test_an_edit_of_an_old_article_reports_only_the_feeds_it_heads(leader, config):
    client, heard = leader
    before = await snapshot(client, config)
    # Story 0 is on page 2 of the site feed, but on page 1 of its own feeds.
    write(config, sample_record(0, title="Story zero, corrected"))
    change = await heard.next()
    scopes = [
        Scope("section", "news"),
        Scope("author", slugify(AUTHORS[0])),
        Scope("author", slugify(AUTHORS[1])),
        Scope("tag", slugify(TAGS[0])),
        Scope("issue", "2000"),
    ]
    # Every archive holding it changes, the site's too (its month holds every article).
    expected = heads(scopes) | archives([*scopes, SITE], MONTH)
    assert set(change.urls) == expected
    assert SITE in change.scopes, "the site's older pages moved, and the change says so"
    await heard.nothing_more()
    assert set(change.urls) == differing(before, await snapshot(client, config))


async def test_an_unpublish_reports_the_feeds_it_leaves(leader, config):
    client, heard = leader
    before = await snapshot(client, config)
    last = ARTICLES - 1  # comment; Zoë Øberg; NHS and Climate; issue 2005
    write(config, sample_record(last, status="draft"))
    change = await heard.next()
    scopes = [
        SITE,
        Scope("section", "comment"),
        Scope("author", slugify(AUTHORS[last % len(AUTHORS)])),
        Scope("tag", slugify(TAGS[last % len(TAGS)])),
        Scope("tag", slugify(TAGS[(last * 3) % len(TAGS)])),
        Scope("issue", str(2000 + last // 10)),
    ]
    expected = heads(scopes) | archives(scopes, MONTH) | DIRECTORY
    assert set(change.urls) == expected
    await heard.nothing_more()
    assert set(change.urls) == differing(before, await snapshot(client, config))


async def test_a_scheduled_article_is_reported_when_it_goes_live(leader, config):
    client, heard = leader
    live_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    record = sample_record(ARTICLES, published=live_at.isoformat(), issue=2005)
    before = await snapshot(client, config)
    write(config, record)
    # Written but not yet live: only /feeds moves (its counts include scheduled articles).
    change = await heard.next()
    assert set(change.urls) == {ROOT + "/feeds"}
    assert set(change.urls) == differing(before, await snapshot(client, config))
    before = await snapshot(client, config)
    change = await heard.next(timeout=15)
    assert datetime.now(UTC) >= live_at
    scopes = [
        SITE,
        Scope("section", "news"),
        Scope("author", slugify(AUTHORS[0])),
        Scope("author", slugify(AUTHORS[1])),
        Scope("tag", slugify(TAGS[0])),
        Scope("issue", "2005"),
    ]
    # A new month in each of its feeds, and the month before it gains its next-archive link.
    now_month = f"{live_at:%Y-%m}"
    expected = heads(scopes) | archives(scopes, now_month, MONTH) | {ROOT + "/feeds.opml"}
    assert set(change.urls) == expected
    await heard.nothing_more()
    assert set(change.urls) == differing(before, await snapshot(client, config))


async def test_a_config_reload_renaming_a_section_reports_every_feed_it_reaches(leader, config):
    client, heard = leader
    before = await snapshot(client, config)
    config.source.write_text(MINIMAL_CONFIG.replace('title = "News"', 'title = "Breaking"'))
    assert client.app[LIVE].reload("file")
    change = await heard.next()
    urls = set(change.urls)
    assert heads([Scope("section", "news")]) <= urls, "the renamed section's own feeds"
    assert heads([SITE]) <= urls, "the site feed labels its entries with the section's title"
    assert not heads([Scope("section", "comment")]) & urls, "the other section is untouched"
    assert urls >= DIRECTORY
    await heard.nothing_more()
    assert urls == differing(before, await snapshot(client, config))


async def test_a_write_that_changes_no_bytes_reports_nothing(leader, config):
    client, heard = leader
    before = await snapshot(client, config)
    # A real write to the row (its feeds are touched), of a field no feed shows:
    # the alt text of an image that has a caption, with the same ``updated``.
    record = sample_record(0)
    published = str(record["published"])
    image = {"url": "/images/lead-0.jpg", "caption": "Lead 0", "alt": "Another crowd"}
    write(config, sample_record(0, image=image, updated=published))
    with Store.open(config.store_path) as store:
        stored = store.article("story-0")
    assert stored is not None
    assert stored.image is not None
    assert stored.image.alt == "Another crowd"
    await heard.nothing_more(1.5)
    assert differing(before, await snapshot(client, config)) == set()


async def test_a_follower_reports_nothing(aiohttp_client: Any, config: Config):
    client = await aiohttp_client(make_app(config))  # not the leader
    heard = Heard()
    client.app[DOOR].subscribe(heard)
    await client.get("/feed.atom")
    write(config, sample_record(ARTICLES))
    assert (await client.get("/feed.atom")).status == 200  # its own cache still refreshes
    await heard.nothing_more(1.0)


def test_exactly_one_worker_acts_on_a_change(tmp_path: Path):
    """With --workers 2, one publish is announced once, by one process.

    /metrics sums every worker's figures (syndicate.metrics), so whichever
    worker answers, the server's total must be exactly 1, never 2.
    """
    import re
    import urllib.request

    config = write_config(tmp_path, MINIMAL_CONFIG)
    fill_store(tmp_path / "store.db", 5)
    with running_server(config, "--workers", "2", "--no-fetch") as root:
        time.sleep(1.0)  # the leader's first census
        write(parse_config(config.read_text(), config), sample_record(7))
        deadline = time.monotonic() + 20
        counts: dict[str, float] = {}
        while time.monotonic() < deadline:
            # A fresh connection each time, so the kernel spreads them over both workers.
            with urllib.request.urlopen(root + "/metrics") as response:
                text = response.read().decode()
            pid = re.search(r'syndicate_info\{[^}]*pid="(\d+)"', text)
            announced = re.search(r"^syndicate_changes_announced_total (\S+)$", text, re.M)
            assert pid
            assert announced
            counts[pid.group(1)] = float(announced.group(1))
            if len(counts) == 2 and min(counts.values()) >= 1:
                break
            time.sleep(0.05)
        assert len(counts) == 2, f"only reached workers {sorted(counts)}"
        time.sleep(1.5)  # a second announcement (by the other worker) would show by now
        for _ in range(6):
            with urllib.request.urlopen(root + "/metrics") as response:
                text = response.read().decode()
            announced = re.search(r"^syndicate_changes_announced_total (\S+)$", text, re.M)
            assert announced, text
            assert float(announced.group(1)) == 1.0, text
