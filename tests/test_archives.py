"""Archived feeds (RFC 5005 section 4): one document per feed and month, linked into a chain.

A real client walks the chain: feedparser, fetching over loopback from a
running ``syndicate serve``, follows ``prev-archive`` from the subscription
document and must collect every live article exactly once (no draft, no
scheduled piece). The documents are read strictly and validated (RFC 4287's
schema, JSON Feed's), closed months are sent ``immutable``, a publish leaves
every closed month byte for byte as it was, and an edit of an old article
changes its month's archive with a new ETag, which the change door reports.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from syndicate.catalog import FORMATS, archive_path, feed_path
from syndicate.config import Config, parse_config
from syndicate.models import SITE, Scope
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.store.archive import periods
from syndicate.web.app import make_app
from syndicate.web.keys import DOOR
from tests.support import MINIMAL_CONFIG, running_server, sample_record, write_config
from tests.test_build import atom_schema, check_atom, check_json, check_rss, json_schema

__all__ = ["atom_schema", "json_schema"]  # fixtures, used by name

ROOT = "http://127.0.0.1:8080"
SECTIONS = ("news", "comment")
FH = "http://purl.org/syndication/history/1.0"
ATOM = "http://www.w3.org/2005/Atom"
NEWS = Scope("section", "news")

#: (month, how many articles): two months, a gap, then a busy month (two pages of the site feed).
MONTHS = (("2024-11", 2), ("2025-01", 3), ("2025-03", 55))


def records() -> list[dict[str, object]]:
    """The articles of MONTHS, then a draft in 2025-01 and a piece scheduled for tomorrow."""
    found: list[dict[str, object]] = []
    for month, count in MONTHS:
        start = datetime.fromisoformat(f"{month}-01T08:00:00+00:00")
        for n in range(count):
            when = start + timedelta(hours=9 * n)
            found.append(sample_record(len(found), published=when.isoformat()))
    found.append(sample_record(len(found), published="2025-01-20T10:00:00Z", status="draft"))
    tomorrow = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    found.append(sample_record(len(found), published=tomorrow.isoformat()))
    return found


LIVE = sum(count for _, count in MONTHS)


def fill(path: Path) -> None:
    with Store.open(path) as store:
        store.upsert_articles([parse_record(r, SECTIONS) for r in records()], datetime.now(UTC))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = write_config(tmp_path)
    fill(tmp_path / "store.db")
    return parse_config(path.read_text(), path)


@pytest.fixture
async def client(aiohttp_client: Any, config: Config) -> Any:
    return await aiohttp_client(make_app(config), headers={"Accept-Encoding": "identity"})


def live_ids(scope: Scope = SITE) -> set[str]:
    """The entry IDs a feed's chain must hold: every live article of the scope."""
    found = set()
    for i, record in enumerate(records()[:LIVE]):
        if scope == SITE or record["section"] == scope.key:
            found.add(f"tag:test.example,2026:article:{i + 1}")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def walk_with_feedparser(url: str) -> tuple[list[str], list[str]]:
    """Follow prev-archive from ``url`` as a reader would; the entry IDs met and the URLs."""
    ids: list[str] = []
    visited: list[str] = []
    head = feedparser.parse(url)
    assert head.get("status") == 200, head.get("bozo_exception")
    links = {link.rel: link.href for link in head.feed.links}
    following = links.get("prev-archive")
    while following and len(visited) < 50:
        visited.append(following)
        document = feedparser.parse(following)
        assert document.get("status") == 200
        assert not document.bozo, document.get("bozo_exception")
        ids += [entry.id for entry in document.entries]
        links = {link.rel: link.href for link in document.feed.links}
        assert links["current"] == url, "every archive names its subscription document"
        following = links.get("prev-archive")
    return ids, visited


def test_feedparser_walking_prev_archive_collects_every_article_once(tmp_path: Path):
    port = free_port()
    text = MINIMAL_CONFIG.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    config = write_config(tmp_path, text)
    fill(tmp_path / "store.db")
    with running_server(config, "--port", str(port), "--workers", "1", "--no-fetch") as root:
        for scope in (SITE, NEWS):
            for fmt in ("atom", "rss"):
                ids, visited = walk_with_feedparser(root + feed_path(scope, fmt))
                assert len(ids) == len(set(ids)), "an article in two archives"
                assert set(ids) == live_ids(scope), f"{scope} {fmt}: not every article, or more"
                months = [u.rsplit("/", 2)[-2] for u in visited]
                assert months == ["2025-03", "2025-01", "2024-11"], "newest first, the gap skipped"
        # JSON Feed has no archive standard: next_url walks the months, _archive names them.
        url: str | None = root + archive_path(SITE, "json", "2025-03")
        seen: list[str] = []
        while url:
            with urllib.request.urlopen(url, timeout=10) as response:
                document = json.load(response)
            seen += [item["id"] for item in document["items"]]
            assert document["_archive"]["archive"] is True
            assert document["_archive"].get("prev_archive") == document.get("next_url")
            url = document.get("next_url")
        assert sorted(seen) == sorted(live_ids())


async def test_archives_carry_rfc5005_section_4_and_validate(client, atom_schema, json_schema):
    head = await (await client.get("/feed.atom")).read()
    root = check_atom(head, atom_schema)
    rels = {link.get("rel"): link.get("href") for link in root.iter(f"{{{ATOM}}}link")}
    assert rels["prev-archive"] == ROOT + "/archive/2025-03/feed.atom"
    assert rels["next"] == ROOT + "/feed.atom?page=2", "paging (section 3) stays"
    assert root.find(f"{{{FH}}}archive") is None, "the head is no archive"

    middle = check_atom(await (await client.get("/archive/2025-01/feed.atom")).read(), atom_schema)
    assert middle.find(f"{{{FH}}}archive") is not None
    rels = {link.get("rel"): link.get("href") for link in middle.iter(f"{{{ATOM}}}link")}
    assert rels["self"] == ROOT + "/archive/2025-01/feed.atom"
    assert rels["current"] == ROOT + "/feed.atom"
    assert rels["prev-archive"] == ROOT + "/archive/2024-11/feed.atom"
    assert rels["next-archive"] == ROOT + "/archive/2025-03/feed.atom", "2025-02 is empty"
    assert not {"first", "next", "last", "previous"} & set(rels), "no paging in an archive"
    assert len(middle.findall(f"{{{ATOM}}}entry")) == 3, "the draft is in no archive"

    rss = check_rss(await (await client.get("/archive/2024-11/feed.rss")).read())
    channel = rss.find("channel")
    assert channel is not None
    assert channel.find(f"{{{FH}}}archive") is not None
    rels = {link.get("rel"): link.get("href") for link in channel.iter(f"{{{ATOM}}}link")}
    assert "prev-archive" not in rels, "the oldest month ends the chain"
    assert rels["next-archive"] == ROOT + "/archive/2025-01/feed.rss"
    assert rels["current"] == ROOT + "/feed.rss"

    document = check_json(
        await (await client.get("/archive/2025-03/feed.json")).read(), json_schema
    )
    assert document["_archive"]["prev_archive"] == ROOT + "/archive/2025-01/feed.json"
    assert "next_archive" not in document["_archive"]
    assert len(document["items"]) == 55, "a month is one document, however long"
    head_json = json.loads(await (await client.get("/feed.json")).read())
    assert head_json["_archive"] == {
        "about": "https://www.rfc-editor.org/rfc/rfc5005#section-4",
        "prev_archive": ROOT + "/archive/2025-03/feed.json",
    }

    for path in (
        "/archive/2025-02/feed.atom",
        "/archive/2026-13/feed.atom",
        "/archive/0000-01/feed.rss",
    ):
        assert (await client.get(path)).status == 404, path
    assert (await client.get("/tags/no-such-tag/archive/2025-01/feed.atom")).status == 404
    assert (await client.get("/feed.atom?page=2")).status == 200, "?page=N keeps working"


async def test_closed_months_are_immutable_and_the_newest_is_not(client):
    closed = await client.get("/sections/news/archive/2025-01/feed.atom")
    assert closed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert closed.headers["Vary"] == "Accept-Encoding"
    again = await client.get(
        "/sections/news/archive/2025-01/feed.atom",
        headers={"If-None-Match": closed.headers["ETag"]},
    )
    assert again.status == 304
    newest = await client.get("/sections/news/archive/2025-03/feed.atom")
    assert "immutable" not in newest.headers["Cache-Control"]
    assert "max-age=300" in newest.headers["Cache-Control"]


async def every_archive(client: Any, config: Config) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    with Store.open(config.store_path) as store:
        scopes = [SITE, NEWS, Scope("section", "comment")]
        for kind in ("author", "tag", "issue"):
            scopes += [Scope(kind, key) for key, _, _ in store.directory(kind)]  # type: ignore[arg-type]
        months = {s: periods(store, s, datetime.now(UTC)) for s in scopes}
    for scope, found_months in months.items():
        for month in found_months:
            for fmt in FORMATS:
                path = archive_path(scope, fmt, month)
                response = await client.get(path)
                assert response.status == 200, path
                found[path] = await response.read()
    return found


async def test_a_publish_changes_only_the_newest_month_of_its_feeds(client, config):
    before = await every_archive(client, config)
    record = sample_record(0, slug="late-news", published="2025-03-30T12:00:00Z", tags=["Gaza"])
    record["authors"] = ["Simon Assaf"]
    with Store.open(config.store_path) as store:
        store.upsert_articles([parse_record(record, SECTIONS)], datetime.now(UTC))
    after = await every_archive(client, config)
    changed = {path for path in before if before[path] != after.get(path)}
    scopes = [
        SITE,
        NEWS,
        Scope("author", "simon-assaf"),
        Scope("tag", "gaza"),
        Scope("issue", "2000"),
    ]
    assert changed == {archive_path(s, fmt, "2025-03") for s in scopes for fmt in FORMATS}
    assert all("/2025-03/" in path for path in changed), "every closed month is as it was"


async def test_an_edit_in_a_closed_month_gives_its_archive_a_new_etag_and_is_reported(
    aiohttp_client: Any, config: Config
):
    client = await aiohttp_client(make_app(config, leader=True))
    door = client.app[DOOR]
    heard: list[Any] = []
    door.subscribe(heard.append)
    await asyncio.wait_for(door.ready.wait(), 30)
    path = "/archive/2024-11/feed.atom"
    first = await client.get(path)  # a reader or an export has it: the store records its tag
    assert "immutable" in first.headers["Cache-Control"]
    edited = sample_record(0, published="2024-11-01T08:00:00Z", title="Story zero, corrected")
    with Store.open(config.store_path) as store:
        store.upsert_articles([parse_record(edited, SECTIONS)], datetime.now(UTC))
    deadline = time.monotonic() + 10
    while not heard and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert heard, "the door reported nothing"
    urls = set(heard[0].urls)
    assert ROOT + path in urls
    assert ROOT + "/archive/2025-01/feed.atom" not in urls, "its neighbours did not move"
    assert ROOT + "/archive/2025-03/feed.atom" not in urls
    second = await client.get(path)
    assert second.headers["ETag"] != first.headers["ETag"]
    assert b"Story zero, corrected" in await second.read()


def test_every_kind_of_feed_has_archives_by_its_own_index(tmp_path: Path):
    """The archive queries walk each scope's index (EXPLAIN QUERY PLAN), never the whole table."""
    from syndicate.store.archive import _BEFORE, _FROM, _IN_PERIOD

    fill(tmp_path / "store.db")
    with Store.open(tmp_path / "store.db") as store:
        for table in (_IN_PERIOD, _BEFORE, _FROM):
            for kind, sql in table.items():
                params = {
                    "key": "x",
                    "now": "2025-01-01T00:00:00Z",
                    "start": "2024-01-01T00:00:00Z",
                }
                params["end"] = "2025-01-01T00:00:00Z"
                rows = store.conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
                plan = " | ".join(str(row[-1]) for row in rows)
                assert "SCAN" not in plan, (kind, plan)
                assert "TEMP B-TREE" not in plan, (kind, plan)
