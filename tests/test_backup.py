"""`syndicate backup FILE` while the server serves and the CMS writes: a whole, checked copy."""

from __future__ import annotations

import sqlite3
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from syndicate.records import parse_record
from syndicate.store import Store
from tests.support import (
    MINIMAL_CONFIG,
    fill_store,
    run_cli,
    running_server,
    sample_record,
    write_config,
)


def test_a_backup_taken_while_serving_and_writing_holds_every_article(tmp_path: Path):
    config = write_config(tmp_path, MINIMAL_CONFIG)
    fill_store(tmp_path / "store.db", 300)
    stop = threading.Event()
    written: list[str] = []

    def publish() -> None:  # the CMS keeps writing through the backup
        with Store.open(tmp_path / "store.db") as store:
            i = 1000
            while not stop.is_set() and i < 1400:
                record = parse_record(sample_record(i), ["news", "comment"])
                store.upsert_article(record, datetime.now(UTC))
                written.append(record.slug)
                i += 1

    with running_server(config, "--workers", "2", "--no-fetch") as root:
        writer = threading.Thread(target=publish)
        writer.start()
        try:
            copy = tmp_path / "backups" / "copy.db"
            copy.parent.mkdir()
            done = run_cli("--config", str(config), "backup", str(copy))
            with urllib.request.urlopen(root + "/feed.atom") as response:
                assert response.status == 200  # serving went on
        finally:
            stop.set()
            writer.join(30)
    assert done.returncode == 0, done.stderr
    assert "backed up" in done.stdout
    assert not (copy.parent / "copy.db.partial").exists()
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        slugs = {row[0] for row in conn.execute("SELECT slug FROM articles")}
    finally:
        conn.close()
    # Every article stored before the backup began, and a consistent prefix of the rest.
    assert {f"story-{i}" for i in range(300)} <= slugs
    extra = sorted(slugs - {f"story-{i}" for i in range(300)}, key=lambda s: int(s.split("-")[1]))
    assert extra == written[: len(extra)]
    with Store.open(copy) as opened:  # and it opens as a store of its own
        assert opened.count("articles") == len(slugs)


def test_backup_refuses_to_overwrite_the_store_itself(tmp_path: Path):
    config = write_config(tmp_path, MINIMAL_CONFIG)
    fill_store(tmp_path / "store.db", 3)
    done = run_cli("--config", str(config), "backup", str(tmp_path / "store.db"))
    assert done.returncode == 1
    assert "the store itself" in done.stderr
    assert "Traceback" not in done.stderr
