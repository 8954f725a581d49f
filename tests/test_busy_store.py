"""A store another writer is using: a bulk import, or a connection holding the write lock.

The publishing API must never answer 500 for it: reads go on (WAL readers
need no lock), a write waits at most about a second behind ``syndicate
import`` (which commits in short batches and leaves the lock free between
them), and a write that cannot get the lock in its bounded wait answers 503
with Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syndicate.config import Config, parse_config
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.store.core import StoreBusy
from syndicate.web.api import PATIENCE, RETRY_AFTER
from syndicate.web.app import make_app
from tests.support import fill_store, sample_record, write_config
from tests.test_api import add_token, article, bearer

BULK = 20_000
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def bulk_line(i: int) -> str:
    return json.dumps(
        {
            "slug": f"bulk-{i}",
            "title": f"Bulk {i}",
            "body": f"<p>Body {i}</p>",
            "section": "news",
            "published": "2025-01-01T00:00:00Z",
            "authors": ["Bulk Writer"],
            "tags": ["Bulk"],
        }
    )


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = write_config(tmp_path)
    fill_store(tmp_path / "store.db", 6)
    return parse_config(path.read_text(), path)


def count_bulk(store_path: Path) -> int:
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        return int(
            conn.execute("SELECT COUNT(*) FROM articles WHERE slug GLOB 'bulk-*'").fetchone()[0]
        )
    finally:
        conn.close()


@pytest.mark.timeout(120)
async def test_the_api_answers_quickly_while_a_long_import_runs(
    aiohttp_client: Any, config: Config, tmp_path: Path
):
    token = add_token(config.store_path)
    client = await aiohttp_client(make_app(config))
    data = tmp_path / "bulk.jsonl"
    data.write_text("\n".join(bulk_line(i) for i in range(BULK)) + "\n", encoding="utf-8")
    importer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syndicate",
        "--config",
        str(config.source),
        "import",
        str(data),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    puts: list[tuple[int, float, int]] = []  # status, seconds, bulk articles stored before
    gets: list[tuple[int, float]] = []
    refusals: list[str] = []

    async def put_every_100ms() -> None:
        n = 0
        while importer.returncode is None:
            before = await asyncio.to_thread(count_bulk, config.store_path)
            started = time.perf_counter()
            response = await client.put(
                f"/api/articles/live-{n}", json=article(f"live-{n}"), headers=bearer(token)
            )
            took = time.perf_counter() - started
            body = await response.json()
            puts.append((response.status, took, before))
            if response.status == 503:
                refusals.append(f"{response.headers.get('Retry-After')} {body}")
            n += 1
            await asyncio.sleep(max(0.0, 0.1 - took))

    async def get_every_100ms() -> None:
        while importer.returncode is None:
            started = time.perf_counter()
            response = await client.get("/api/articles/story-1", headers=bearer(token))
            await response.read()
            gets.append((response.status, time.perf_counter() - started))
            await asyncio.sleep(0.1)

    putter = asyncio.create_task(put_every_100ms())
    getter = asyncio.create_task(get_every_100ms())
    out, err = await importer.communicate()
    await asyncio.gather(putter, getter)

    assert importer.returncode == 0, err.decode()
    assert f"{BULK} created" in out.decode()
    assert count_bulk(config.store_path) == BULK
    during = [p for p in puts if 0 < p[2] < BULK]
    assert len(during) >= 5, f"too few PUTs overlapped the writing: {puts}"
    statuses = {status for status, _, _ in puts}
    assert statuses <= {200, 201, 503}, puts
    assert all(r.startswith(f"{RETRY_AFTER} ") for r in refusals), refusals
    longest_put = max(took for _, took, _ in during)
    longest_get = max(took for _, took in gets)
    print(
        f"\n{len(puts)} PUTs ({len(during)} while the import was writing, "
        f"{len(refusals)} answered 503); longest PUT wait {longest_put:.3f}s, "
        f"longest GET {longest_get:.3f}s over {len(gets)} GETs"
    )
    assert longest_put < 1.5
    assert {status for status, _ in gets} == {200}
    assert longest_get < 1.0
    # Every PUT that was answered 201/200 is stored.
    with Store.open(config.store_path) as store:
        for n, (status, _, _) in enumerate(puts):
            assert (store.article(f"live-{n}") is not None) == (status != 503)


@pytest.mark.timeout(60)
async def test_a_write_lock_held_elsewhere_is_a_503_with_retry_after_not_a_500(
    aiohttp_client: Any, config: Config
):
    token = add_token(config.store_path)
    client = await aiohttp_client(make_app(config))
    holder = sqlite3.connect(config.store_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO feed_changes (kind, key) VALUES ('site', '')")
    try:
        started = time.perf_counter()
        response = await client.put(
            "/api/articles/blocked", json=article("blocked"), headers=bearer(token)
        )
        took = time.perf_counter() - started
        assert response.status == 503, await response.text()
        assert response.headers["Retry-After"] == str(RETRY_AFTER)
        assert response.content_type == "application/json"
        assert "busy" in (await response.json())["error"]
        assert PATIENCE - 0.2 < took < PATIENCE + 1.0, took

        started = time.perf_counter()
        deleted = await client.delete("/api/articles/story-1", headers=bearer(token))
        assert deleted.status == 503
        assert deleted.headers["Retry-After"] == str(RETRY_AFTER)

        # Reading needs no lock: GETs answer at once, the token is still checked.
        started = time.perf_counter()
        got = await client.get("/api/articles/story-1", headers=bearer(token))
        assert got.status == 200, await got.text()
        assert time.perf_counter() - started < 1.0
        refused = await client.get("/api/articles/story-1", headers=bearer("wrong-token"))
        assert refused.status == 401
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Nothing half-stored: the same PUT goes through now, and story-1 was never deleted.
    retried = await client.put(
        "/api/articles/blocked", json=article("blocked"), headers=bearer(token)
    )
    assert retried.status == 201
    assert (await client.get("/api/articles/story-1", headers=bearer(token))).status == 200


def test_a_waiting_writer_does_not_hold_up_readers_of_the_same_store(tmp_path: Path):
    path = tmp_path / "store.db"
    fill_store(path, 3)
    caught: list[BaseException] = []
    with Store.open(path) as store:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")

        def write() -> None:
            try:
                with store.transaction(patience=1.5) as conn:
                    conn.execute("DELETE FROM articles")
            except BaseException as exc:
                caught.append(exc)

        writer = threading.Thread(target=write)
        started = time.perf_counter()
        writer.start()
        reads = []
        while writer.is_alive():
            t0 = time.perf_counter()
            assert store.article("story-1") is not None
            reads.append(time.perf_counter() - t0)
            time.sleep(0.05)
        writer.join()
        waited = time.perf_counter() - started
        holder.execute("ROLLBACK")
        holder.close()
        assert len(caught) == 1, caught
        assert isinstance(caught[0], StoreBusy), caught
        assert "held the lock" in str(caught[0])
        assert 1.4 < waited < 2.5
        assert len(reads) > 10
        assert max(reads) < 0.2, max(reads)
        assert not store.conn.in_transaction
        assert store.count("articles") == 3
        # The lock is free again: the next write goes through at once.
        with store.transaction(patience=0) as conn:
            conn.execute("DELETE FROM articles WHERE slug = 'story-2'")
        assert store.count("articles") == 2


def test_upsert_batches_lets_another_writer_in_between_batches(tmp_path: Path):
    """In process: a bulk write in one thread, single writes through another connection."""
    path = tmp_path / "store.db"
    fill_store(path, 1)
    records = [parse_record(json.loads(bulk_line(i)), ("news",)) for i in range(BULK // 2)]
    waits: list[float] = []
    batches: list[dict[str, int]] = []
    with Store.open(path) as bulk, Store.open(path) as other:

        def run_bulk() -> None:
            batches.extend(bulk.upsert_batches(records, NOW))

        thread = threading.Thread(target=run_bulk)
        thread.start()
        n = 0
        while thread.is_alive():
            record = parse_record(sample_record(100 + n), ("news", "comment"))
            started = time.perf_counter()
            other.upsert_article(record, NOW)
            waits.append(time.perf_counter() - started)
            n += 1
            time.sleep(0.05)
        thread.join()
        assert sum(sum(b.values()) for b in batches) == len(records)
        assert len(batches) > 3, "the bulk write was not split into batches"
        assert all(b["created"] for b in batches)
        assert bulk.count("articles") == 1 + len(records) + n
    print(f"\n{len(batches)} batches; {len(waits)} single writes, longest wait {max(waits):.3f}s")
    assert max(waits) < 1.0
