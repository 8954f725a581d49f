"""The change watcher: every commit by any connection is seen; an idle check runs no SQL."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicate.records import parse_record
from syndicate.store import Scope, Store
from syndicate.store.watch import FULL_CHECK_EVERY, ChangeWatcher
from tests.support import fill_store, sample_record

SECTIONS = ("news", "comment")


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    fill_store(path, 4)
    return path


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def watcher(store_path: Path, clock: FakeClock) -> Iterator[ChangeWatcher]:
    watching = ChangeWatcher(store_path, clock=clock)
    yield watching
    watching.close()


def publish(store: Store, i: int) -> None:
    record = parse_record(sample_record(i), SECTIONS)
    store.upsert_article(record, datetime.now(UTC))


def statements(conn: sqlite3.Connection) -> list[str]:
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    return seen


def test_the_watcher_reads_the_shared_header_of_a_wal_store(watcher: ChangeWatcher):
    assert watcher.quiet(), "a WAL store must give the watcher a -shm header to read"


def test_an_idle_check_runs_no_sql(watcher: ChangeWatcher, clock: FakeClock):
    seen = statements(watcher.conn)
    for _ in range(1000):
        assert watcher.poll() == frozenset()
        clock.now += FULL_CHECK_EVERY / 2000  # half a second in all: no safety check due
    assert seen == []


def test_every_commit_by_another_connection_is_seen(
    watcher: ChangeWatcher, store_path: Path, clock: FakeClock
):
    """Checkpoints and WAL restarts between commits included: each one moves the header."""
    checkpoints = ("PASSIVE", "FULL", "RESTART", "TRUNCATE", None)
    with Store.open(store_path) as writer:
        for i in range(100, 160):
            publish(writer, i)
            assert not watcher.quiet(), f"commit {i} left the header as it was"
            assert Scope("section", SECTIONS[i % 2]) in watcher.poll()
            assert watcher.quiet()
            mode = checkpoints[i % len(checkpoints)]
            if mode:
                writer.conn.execute(f"PRAGMA wal_checkpoint({mode})")
                # A checkpoint changes no content: nothing to rebuild.
                assert watcher.poll() == frozenset()


def test_a_commit_the_header_hid_is_found_by_the_safety_check(
    watcher: ChangeWatcher, store_path: Path, clock: FakeClock
):
    with Store.open(store_path) as writer:
        publish(writer, 200)
    # Pretend the header read missed it (as a replaced -shm file would).
    watcher._header = watcher._read_header()
    assert watcher.poll() == frozenset()
    clock.now += FULL_CHECK_EVERY
    assert Scope("section", SECTIONS[0]) in watcher.poll()


def test_a_store_without_a_shm_file_is_checked_with_the_pragma(store_path: Path):
    conn = sqlite3.connect(store_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")
    assert not store_path.with_name("store.db-shm").exists()
    watching = ChangeWatcher(store_path)
    try:
        assert not watching.quiet()
        assert watching.poll() == frozenset()
        conn.execute("INSERT INTO feed_changes (kind, key) VALUES ('section', 'news')")
        assert watching.poll() == frozenset({Scope("section", "news")})
    finally:
        watching.close()
        conn.close()


def _index_in_use_seen_from_another_process(store_path: Path) -> bool:
    """Does another process see the WAL index as in use (SQLite's DMS byte locked)?"""
    probe = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try:\n"
        "    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)\n"
        "    print('free')\n"
        "except OSError:\n"
        "    print('held')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, f"{store_path}-shm"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip() == "held"


def test_watching_never_drops_the_locks_sqlite_holds(store_path: Path):
    """Closing any descriptor of the -shm would drop them, and another process could
    then reinitialise the index under this one's readers."""
    with Store.open(store_path, create=False) as store:
        assert store.count("articles") == 4
        assert _index_in_use_seen_from_another_process(store_path)
        for _ in range(3):
            watching = ChangeWatcher(store_path)
            assert watching.quiet()
            watching.poll()
            watching.close()
        assert _index_in_use_seen_from_another_process(store_path)
