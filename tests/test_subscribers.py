"""Subscriber counts: the User-Agent forms aggregators use, the per-worker tally,
the store's merge across workers and days, and the figures on /admin.

The app runs in process with a ManualClock (aiohttp's test client on
loopback); each "worker" is a real app with its own tally over one real
SQLite store, flushed by hand instead of waiting FLUSH_EVERY.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate.clock import ManualClock
from syndicate.config import parse_config
from syndicate.store import Store
from syndicate.store.accounts import Accounts
from syndicate.store.subscribers import KEEP_DAYS, Batch, SubscriberCounts, day_of
from syndicate.subscribers import MOST, reported
from syndicate.web.app import make_app
from syndicate.web.subscribers import SUBSCRIBERS, batch_of, flush
from tests.support import MINIMAL_CONFIG, fill_store
from tests.test_admin import PASSWORD, logged_in, q

START = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("agent", "aggregator", "count"),
    [
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 123 subscribers)", "Feedly", 123),
        ("Feedly/1.0 (poller; 131 subscribers;)", "Feedly", 131),
        (
            "NewsBlur Feed Fetcher - 45 subscribers - http://www.newsblur.com/site/1/x",
            "NewsBlur Feed Fetcher",
            45,
        ),
        (
            "Inoreader/1.0 (+http://www.inoreader.com/feed-fetcher; 12 subscribers; )",
            "Inoreader",
            12,
        ),
        ("Feedbin feed-id:1 - 7 subscribers", "Feedbin feed-id:1", 7),
        (
            "Mozilla/5.0 (compatible; theoldreader.com; 8 subscribers; feed-id=123)",
            "theoldreader.com feed-id:123",
            8,
        ),
        (
            "Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 5 subscribers)",
            "BazQux",
            5,
        ),
        (
            "Overcast/1.0 Podcast Sync (123 subscribers; feed-id=456789; +http://overcast.fm/)",
            "Overcast feed-id:456789",
            123,
        ),
        ("Bloglines/3.0-rho (; 7 subscribers)", "Bloglines", 7),
        ("kinjabot (; 1 Readers)", "kinjabot", 1),
        ("YahooFeedSeeker/2.0 (compatible; Mozilla 4.0; users 2; views 169)", "YahooFeedSeeker", 2),
        (
            "PlainFeeder v0.0.1 (+http://plainfeeder.com/about ; Subscriber Count: 12)",
            "PlainFeeder",
            12,
        ),
    ],
)
def test_aggregators_are_read_from_their_user_agents(agent: str, aggregator: str, count: int):
    found = reported(agent)
    assert found is not None
    assert (found.aggregator, found.subscribers) == (aggregator, count)


@pytest.mark.parametrize(
    "agent",
    [
        "",
        "Newsboat/2.21.0 (Linux x86_64)",
        "curl/7.88.1",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
        "python-reader/3.12",
        f"Feedly/1.0 (+http://www.feedly.com/fetcher.html; {MOST + 1} subscribers)",
    ],
)
def test_other_clients_are_direct_readers(agent: str):
    assert reported(agent) is None


def test_a_batch_counts_page_one_only_and_the_highest_figure_of_a_window():
    feedly = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {} subscribers)"
    batch = batch_of(
        [
            ("/feed.atom", feedly.format(10), "10.0.0.1"),
            ("/feed.atom", feedly.format(12), "10.0.0.2"),
            ("/feed.atom?utm_source=x", "newsboat", "192.0.2.1"),
            ("/feed.atom", "newsboat", "192.0.2.1"),
            ("/feed.atom?page=2", "newsboat", "192.0.2.9"),
        ]
    )
    assert batch.aggregators == {("/feed.atom", "Feedly"): 12}
    assert batch.readers == {("/feed.atom", "192.0.2.1\x00newsboat")}


def test_the_store_merges_workers_closes_days_and_keeps_no_hash_past_its_day(tmp_path: Path):
    path = tmp_path / "store.db"
    with Store.open(path) as store:
        counts = SubscriberCounts(store)
        one = Batch(
            {("/feed.atom", "Feedly"): 100}, {("/feed.atom", "a\x00x"), ("/feed.rss", "b\x00y")}
        )
        two = Batch(
            {("/feed.atom", "Feedly"): 101}, {("/feed.atom", "a\x00x"), ("/feed.atom", "c\x00z")}
        )
        counts.flush(one, START)
        counts.flush(two, START + timedelta(seconds=15))  # another worker, later
        today = counts.on(day_of(START))
        assert today["/feed.atom"].aggregated == 101  # the latest figure, not a sum
        assert today["/feed.atom"].readers == 2  # the same reader seen by two workers is one
        assert today["/feed.rss"].readers == 1
        # An older report arriving late does not overwrite a newer one.
        counts.flush(Batch({("/feed.atom", "Feedly"): 90}), START + timedelta(seconds=5))
        assert counts.on(day_of(START))["/feed.atom"].aggregated == 101
        hashes = [r[0] for r in store.conn.execute("SELECT reader FROM feed_readers")]
        assert all(isinstance(h, bytes) and len(h) == 16 for h in hashes)
        assert not any(b"a\x00x" in h for h in hashes)

    # A restart keeps everything; the next day closes the last one.
    with Store.open(path) as store:
        counts = SubscriberCounts(store)
        assert counts.on(day_of(START))["/feed.atom"].readers == 2
        tomorrow = START + timedelta(days=1)
        counts.flush(Batch(readers={("/feed.atom", "a\x00x")}), tomorrow)
        assert counts.on(day_of(START))["/feed.atom"].readers == 2  # kept as a count
        assert counts.on(day_of(tomorrow))["/feed.atom"].readers == 1
        days = {r[0] for r in store.conn.execute("SELECT day FROM feed_readers")}
        salts = {r[0] for r in store.conn.execute("SELECT day FROM reader_salts")}
        assert days == salts == {day_of(tomorrow)}  # yesterday's hashes and salt are gone
        # Figures are kept for KEEP_DAYS, then dropped.
        counts.flush(Batch(), START + timedelta(days=KEEP_DAYS + 1))
        assert counts.on(day_of(START)) == {}
        assert counts.on(day_of(tomorrow))["/feed.atom"].readers == 1


@pytest.fixture
def config(tmp_path: Path) -> Any:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL_CONFIG, encoding="utf-8")
    found = parse_config(MINIMAL_CONFIG, path)
    fill_store(found.store_path, 6)
    with Store.open(found.store_path) as store:
        Accounts(store).add_editor("alice", PASSWORD, datetime.now(UTC))
    return found


async def test_two_workers_count_readers_and_aggregators_shown_on_admin(
    aiohttp_client: Any, config: Any
):
    from lxml import html as lxml_html

    clock = ManualClock(datetime.now(UTC))
    first = await aiohttp_client(make_app(config, clock=clock))
    second = await aiohttp_client(make_app(config, clock=clock))
    feedly = {"User-Agent": "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 40 subscribers)"}
    inoreader = {
        "User-Agent": "Inoreader/1.0 (+http://www.inoreader.com/feed-fetcher; 2 subscribers; )"
    }
    for client, headers in (
        (first, feedly),
        (second, feedly),
        (first, inoreader),
        (first, {"User-Agent": "newsboat"}),
        (second, {"User-Agent": "newsboat"}),  # the same reader through another worker
        (second, {"User-Agent": "reader/3.12"}),
    ):
        response = await client.get("/feed.atom", headers=headers)
        assert response.status == 200
    news = await first.get("/sections/news/feed.rss", headers={"User-Agent": "newsboat"})
    assert news.status == 200
    assert len(first.app[SUBSCRIBERS].seen) == 4
    await flush(first.app)
    await flush(second.app)
    assert not first.app[SUBSCRIBERS].seen

    await logged_in(first)
    page = lxml_html.fromstring(await (await first.get("/admin")).text())
    site = q(page, "section#section-site .subscriber-count")[0].text_content()
    assert site == "44"  # 40 (Feedly) + 2 (Inoreader) + 2 direct readers
    news_count = q(page, "section#section-news .subscriber-count")[0].text_content()
    assert news_count == "1"
    assert q(page, ".total-today")[0].text_content() == "45"


async def test_a_worker_that_stops_flushes_what_it_holds(config: Any):
    from aiohttp.test_utils import TestClient, TestServer

    app = make_app(config)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/feed.json", headers={"User-Agent": "newsboat"})
        assert response.status == 200
        assert app[SUBSCRIBERS].seen  # not flushed yet (every 15 s)
    with Store.open(config.store_path) as store:
        found = SubscriberCounts(store).on(day_of(datetime.now(UTC)))
    assert found["/feed.json"].readers == 1
