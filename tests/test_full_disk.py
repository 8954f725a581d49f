"""A full disk under the store: say so, lose nothing, leave the store intact.

Each test mounts a small tmpfs of its own (we run as root in CI; elsewhere
the tests skip, saying why), puts the store there, fills the rest of the disk
with a file leaving a little room, and writes more than fits: through
``syndicate import``, the publishing API and the store itself. SQLite rolls
the failed transaction back by itself, so the failure must not be followed by
a "cannot rollback" that hides it, and ``PRAGMA integrity_check`` must pass.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syndicate.config import Config, parse_config
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.store.core import BATCH_RECORDS, StoreFull
from syndicate.web.app import make_app
from tests.support import MINIMAL_CONFIG, fill_store, run_cli, write_config
from tests.test_api import add_token, article, bearer

DISK_BYTES = 16 * 1024 * 1024
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs of this test's own, unmounted afterwards."""
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (these tests run as root in CI)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], check=False)


def fill_disk(disk: Path, leave: int) -> Path:
    """Fill the disk with one file, leaving about ``leave`` bytes free."""
    found = os.statvfs(disk)
    free = found.f_bavail * found.f_frsize
    filler = disk / "filler"
    with filler.open("wb") as out:
        out.write(b"\0" * max(0, free - leave))
    return filler


def integrity(store_path: Path) -> list[Any]:
    conn = sqlite3.connect(store_path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


def rows(store_path: Path, sql: str) -> list[Any]:
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def jsonl_line(slug: str, body_bytes: int) -> str:
    return json.dumps(
        {
            "slug": slug,
            "title": f"Headline {slug}",
            "body": "<p>" + "word " * (body_bytes // 5) + "</p>",
            "section": "news",
            "published": "2026-01-01T09:00:00Z",
            "authors": ["Simon Assaf"],
            "tags": ["Strikes"],
        }
    )


def test_import_onto_a_full_disk_says_so_keeps_what_was_stored_and_a_rerun_finishes(
    disk: Path, tmp_path: Path
):
    site = write_config(tmp_path, MINIMAL_CONFIG.replace('"store.db"', '"disk/store.db"'))
    store_path = disk / "store.db"
    first = tmp_path / "first.jsonl"
    first.write_text("\n".join(jsonl_line(f"kept-{i}", 500) for i in range(20)) + "\n")
    assert run_cli("--config", str(site), "import", str(first)).returncode == 0
    kept = rows(store_path, "SELECT * FROM articles ORDER BY id")
    filler = fill_disk(disk, leave=1024 * 1024)
    # A batch of small articles first (it ends at BATCH_RECORDS, or sooner, and
    # fits in the room left), then ones far bigger: the disk fills in a later batch.
    big = tmp_path / "big.jsonl"
    lines = [jsonl_line(f"small-{i}", 50) for i in range(BATCH_RECORDS)]
    lines += [jsonl_line(f"big-{i}", 20_000) for i in range(100)]
    big.write_text("\n".join(lines) + "\n")

    result = run_cli("--config", str(site), "import", str(big))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "cannot rollback" not in result.stderr
    found = re.search(
        rf"syndicate: the disk holding {re.escape(str(store_path))} is full: (\d+) articles "
        r"stored before it filled, the rest were not; free space and run the same import "
        r"again \(it skips what is stored\)",
        result.stderr,
    )
    assert found, result.stderr
    stored = int(found.group(1))
    assert 0 < stored < len(lines), "a batch should have landed before the disk filled"
    assert integrity(store_path) == [("ok",)]
    # Nothing stored before is lost, and every batch reported is there, whole.
    assert rows(store_path, "SELECT * FROM articles WHERE slug GLOB 'kept-*' ORDER BY id") == kept
    new = rows(store_path, "SELECT slug FROM articles WHERE slug NOT GLOB 'kept-*' ORDER BY id")
    assert [slug for (slug,) in new] == [
        (f"small-{i}" if i < BATCH_RECORDS else f"big-{i - BATCH_RECORDS}") for i in range(stored)
    ]

    filler.unlink()
    rerun = run_cli("--config", str(site), "import", str(big))
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(lines) - stored} created, 0 updated, {stored} unchanged" in rerun.stdout
    assert integrity(store_path) == [("ok",)]
    assert rows(store_path, "SELECT COUNT(*) FROM articles") == [(20 + len(lines),)]


async def test_api_put_onto_a_full_disk_is_a_507_and_reads_go_on(
    disk: Path, tmp_path: Path, aiohttp_client: Any
):
    path = write_config(tmp_path, MINIMAL_CONFIG.replace('"store.db"', '"disk/store.db"'))
    config: Config = parse_config(path.read_text(), path)
    fill_store(config.store_path, 6)
    token = add_token(config.store_path)
    before = rows(config.store_path, "SELECT * FROM articles ORDER BY id")
    client = await aiohttp_client(make_app(config))
    filler = fill_disk(disk, leave=256 * 1024)

    huge = article("huge", body="<p>" + "x" * 1_000_000 + "</p>")
    response = await client.put("/api/articles/huge", json=huge, headers=bearer(token))
    assert response.status == 507, await response.text()
    assert response.content_type == "application/json"
    assert await response.json() == {"error": "the server's disk is full; nothing was stored"}

    got = await client.get("/api/articles/story-1", headers=bearer(token))
    assert got.status == 200
    missing = await client.get("/api/articles/huge", headers=bearer(token))
    assert missing.status == 404
    feed = await client.get("/feed.atom")
    assert feed.status == 200
    assert integrity(config.store_path) == [("ok",)]
    assert rows(config.store_path, "SELECT * FROM articles ORDER BY id") == before

    filler.unlink()
    again = await client.put("/api/articles/huge", json=huge, headers=bearer(token))
    assert again.status == 201, await again.text()
    assert integrity(config.store_path) == [("ok",)]


def test_a_full_disk_is_store_full_and_the_store_takes_the_next_write(disk: Path):
    store_path = disk / "store.db"
    fill_store(store_path, 3)
    filler = fill_disk(disk, leave=128 * 1024)
    records = [
        parse_record(json.loads(jsonl_line(f"big-{i}", 20_000)), ("news",)) for i in range(100)
    ]
    with Store.open(store_path) as store:
        with pytest.raises(StoreFull, match="is full") as caught:
            store.upsert_articles(records, NOW)
        assert "cannot rollback" not in str(caught.value)
        assert not any("rollback" in note for note in getattr(caught.value, "__notes__", []))
        assert not store.conn.in_transaction
        assert store.count("articles") == 3
        assert store.check() == []
        filler.unlink()
        assert store.upsert_articles(records[:5], NOW)["created"] == 5
        assert store.count("articles") == 8
    assert integrity(store_path) == [("ok",)]
