"""Admin sessions, the shared login throttle and API tokens' last use, in a real store.

Sessions and failure counts live in the store so that every worker process
shares them; two ``Store`` objects on one file stand in for two workers here.
The HTTP side is in tests/test_admin.py; the API side of the token writes is
at the end of this file.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate.passwords import new_token, token_digest
from syndicate.store import Store
from syndicate.store.accounts import TOKEN_USE_EVERY, Accounts
from syndicate.web import auth
from syndicate.web.app import make_app
from tests.support import fill_store, run_cli, write_config

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
TTL = auth.SESSION_TTL
WINDOW = auth.LOGIN_WINDOW


@pytest.fixture
def path(tmp_path: Path) -> Path:
    found = tmp_path / "store.db"
    with Store.open(found) as store:
        Accounts(store).add_editor("alice", PASSWORD, NOW)
        Accounts(store).add_editor("bob", PASSWORD, NOW)
    return found


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    with Store.open(path) as opened:
        yield opened


@contextmanager
def write_lock_held(path: Path) -> Iterator[None]:
    """Another connection (another process, say a CMS import) holds the write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


# -- sessions ----------------------------------------------------------------------


def test_a_session_is_a_record_holding_only_the_tokens_hash(store: Store):
    accounts = Accounts(store)
    token = accounts.open_session("alice", PASSWORD, NOW, TTL)
    assert token is not None
    assert auth.session_token(token) == token  # the shape the gate accepts
    rows = store.conn.execute("SELECT id, created_at, expires_at FROM sessions").fetchall()
    assert rows == [(token_digest(token), "2026-03-04T12:00:00Z", "2026-03-05T00:00:00Z")]
    assert token not in str(list(store.conn.iterdump()))
    assert accounts.session_editor(token, NOW) == "alice"
    assert accounts.session_editor(token, NOW + timedelta(seconds=TTL - 1)) == "alice"
    assert accounts.session_editor(token, NOW + timedelta(seconds=TTL)) is None
    assert accounts.session_editor(token + "x", NOW) is None
    assert accounts.session_editor(None, NOW) is None
    assert accounts.open_session("alice", PASSWORD, NOW, TTL) != token  # a new one each time


def test_wrong_passwords_and_unknown_names_open_no_session(store: Store):
    accounts = Accounts(store)
    assert accounts.open_session("alice", "wrong password", NOW, TTL) is None
    assert accounts.open_session("mallory", PASSWORD, NOW, TTL) is None
    assert accounts.session_count() == 0


def test_logout_deletes_the_record_in_every_worker(path: Path, store: Store):
    token = Accounts(store).open_session("alice", PASSWORD, NOW, TTL)
    assert token is not None
    with Store.open(path) as other_worker:
        assert Accounts(other_worker).session_editor(token, NOW) == "alice"
        assert Accounts(store).end_session(token)
        assert Accounts(other_worker).session_editor(token, NOW) is None
    assert not Accounts(store).end_session(token)


def test_a_new_password_ends_all_of_that_editors_sessions(store: Store):
    accounts = Accounts(store)
    alices = [accounts.open_session("alice", PASSWORD, NOW, TTL) for _ in range(3)]
    bobs = accounts.open_session("bob", PASSWORD, NOW, TTL)
    assert accounts.set_password("alice", "a whole new password")
    assert [accounts.session_editor(t, NOW) for t in alices] == [None] * 3
    assert accounts.session_editor(bobs, NOW) == "bob"
    assert not accounts.check_login("alice", PASSWORD)
    assert accounts.check_login("alice", "a whole new password")
    assert not accounts.set_password("nobody", "a whole new password")


def test_a_password_changed_during_the_check_opens_no_session(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    accounts = Accounts(store)
    checked = accounts._verified_hash

    def then_changed(name: str, password: str) -> str | None:
        verified = checked(name, password)
        Accounts(store).set_password(name, "changed meanwhile!")  # by `syndicate user password`
        return verified

    monkeypatch.setattr(accounts, "_verified_hash", then_changed)
    assert accounts.open_session("alice", PASSWORD, NOW, TTL) is None
    assert accounts.session_count() == 0


def test_removing_an_editor_deletes_their_sessions_also_by_cascade(store: Store):
    accounts = Accounts(store)
    token = accounts.open_session("alice", PASSWORD, NOW, TTL)
    assert accounts.remove_editor("alice")
    assert accounts.session_count() == 0
    assert accounts.session_editor(token, NOW) is None
    # Deleted with plain SQL (foreign keys on, as every syndicate connection has them).
    bobs = accounts.open_session("bob", PASSWORD, NOW, TTL)
    with store.transaction() as conn:
        conn.execute("DELETE FROM editors WHERE name = 'bob'")
    assert accounts.session_count() == 0
    assert accounts.session_editor(bobs, NOW) is None


def test_a_reused_editor_id_inherits_no_session(store: Store):
    accounts = Accounts(store)
    token = accounts.open_session("bob", PASSWORD, NOW, TTL)
    # A writer without foreign keys deleted bob, leaving his session behind.
    store.conn.execute("PRAGMA foreign_keys = OFF")
    store.conn.execute("DELETE FROM editors WHERE name = 'bob'")
    store.conn.execute("PRAGMA foreign_keys = ON")
    accounts.add_editor("carol", PASSWORD, NOW)  # takes bob's id
    assert accounts.session_editor(token, NOW) is None


def test_expired_sessions_are_deleted_by_the_next_login(store: Store):
    accounts = Accounts(store)
    accounts.open_session("alice", PASSWORD, NOW, TTL)
    accounts.open_session("bob", PASSWORD, NOW + timedelta(hours=6), TTL)
    assert accounts.session_count() == 2
    accounts.open_session("alice", PASSWORD, NOW + timedelta(seconds=TTL), TTL)
    assert accounts.session_count("alice") == 1
    assert accounts.session_count("bob") == 1


# -- the login throttle -----------------------------------------------------------------


def keys(address: str = "10.0.0.1", name: str = "alice") -> list[auth.LoginKey]:
    return auth.limit_keys(address, name)


def test_an_address_and_name_gets_its_limit_then_waits_out_the_window(store: Store):
    accounts = Accounts(store)
    for i in range(auth.NAME_LIMIT):
        assert accounts.reserve_login(keys(), NOW + timedelta(seconds=i), WINDOW) is None
    wait = accounts.reserve_login(keys(), NOW + timedelta(seconds=10), WINDOW)
    assert wait == WINDOW - 10
    # Refused attempts are not counted: the window does not move.
    assert accounts.reserve_login(keys(), NOW + timedelta(seconds=20), WINDOW) == WINDOW - 20
    # The same name from another address, and another name from this one, go on.
    assert accounts.reserve_login(keys("10.0.0.2"), NOW + timedelta(seconds=20), WINDOW) is None
    assert accounts.reserve_login(keys(name="bob"), NOW + timedelta(seconds=20), WINDOW) is None
    later = NOW + timedelta(seconds=WINDOW + 20)
    assert accounts.reserve_login(keys(), later, WINDOW) is None
    # The windows that ended were deleted on the way; only the live counts remain.
    rows = dict(store.conn.execute("SELECT key, count FROM login_failures").fetchall())
    assert rows == {"addr:10.0.0.1": 1, "addr+name:10.0.0.1 alice": 1}


def test_many_names_from_one_address_meet_the_address_limit(store: Store):
    accounts = Accounts(store)
    for i in range(auth.ADDRESS_LIMIT):
        assert accounts.reserve_login(keys(name=f"guess{i}"), NOW, WINDOW) is None
    assert accounts.reserve_login(keys(name="alice"), NOW, WINDOW) == WINDOW
    assert accounts.reserve_login(keys("10.0.0.2", "alice"), NOW, WINDOW) is None


def test_a_success_takes_its_attempt_back_and_clears_its_name(store: Store):
    accounts = Accounts(store)
    for _ in range(3):
        accounts.reserve_login(keys(), NOW, WINDOW)
    accounts.reserve_login(keys(name="bob"), NOW, WINDOW)
    accounts.reserve_login(keys(), NOW, WINDOW)  # this one had the right password
    accounts.release_login(keys())
    rows = dict(store.conn.execute("SELECT key, count FROM login_failures").fetchall())
    assert rows == {"addr:10.0.0.1": 4, "addr+name:10.0.0.1 bob": 1}


def test_workers_add_up_to_one_limit_even_side_by_side(path: Path):
    """Eight workers (connections) try at once: exactly the limit get through, no more."""
    stores = [Store.open(path) for _ in range(8)]
    try:
        start = threading.Barrier(len(stores))

        def attempt(store: Store) -> int | None:
            start.wait()
            return Accounts(store).reserve_login(keys(), NOW, WINDOW)

        with ThreadPoolExecutor(len(stores)) as pool:
            answers = list(pool.map(attempt, stores))
    finally:
        for store in stores:
            store.close()
    assert answers.count(None) == auth.NAME_LIMIT
    assert all(a == WINDOW for a in answers if a is not None)


# -- API tokens: checking is a read; the last use is written once a minute at most ----------


def test_a_tokens_last_use_is_written_at_most_once_a_minute(store: Store):
    accounts = Accounts(store)
    token = new_token()
    accounts.add_token("cms", token, NOW)
    written: list[str] = []
    store.conn.set_trace_callback(
        lambda sql: written.append(sql) if sql.startswith("UPDATE api_tokens") else None
    )

    def used() -> datetime | None:
        return accounts.tokens()[0].last_used_at

    assert accounts.token_owner(token, NOW) == "cms"
    assert used() == NOW
    assert accounts.token_owner(token, NOW + timedelta(seconds=30)) == "cms"
    assert accounts.token_owner(token, NOW + timedelta(seconds=59)) == "cms"
    assert used() == NOW
    assert len(written) == 1
    assert accounts.token_owner(token, NOW + TOKEN_USE_EVERY) == "cms"
    assert used() == NOW + TOKEN_USE_EVERY
    assert len(written) == 2
    assert accounts.token_owner(token) == "cms"  # without a time: nothing noted
    assert accounts.token_owner(new_token(), NOW + timedelta(hours=1)) is None
    assert len(written) == 2


def test_a_token_is_checked_without_waiting_while_another_writer_holds_the_lock(
    path: Path, store: Store
):
    accounts = Accounts(store)
    token = new_token()
    accounts.add_token("cms", token, NOW)
    with write_lock_held(path):
        started = time.monotonic()
        assert accounts.token_owner(token, NOW) == "cms"
        assert time.monotonic() - started < 0.5  # the busy timeout is 10 s
    assert accounts.tokens()[0].last_used_at is None  # skipped, not queued
    # The connection is as it was: its own busy timeout, no transaction left open.
    assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
    assert not store.conn.in_transaction
    assert accounts.token_owner(token, NOW + timedelta(seconds=1)) == "cms"
    assert accounts.tokens()[0].last_used_at == NOW + timedelta(seconds=1)


def test_a_token_checked_inside_a_transaction_of_its_own_thread_notes_nothing(
    store: Store,
):
    accounts = Accounts(store)
    token = new_token()
    accounts.add_token("cms", token, NOW)
    # The same thread inside a transaction: the note is skipped, not nested.
    with store.transaction():
        assert accounts.token_owner(token, NOW) == "cms"
    assert accounts.tokens()[0].last_used_at is None
    assert accounts.token_owner(token, NOW) == "cms"
    assert accounts.tokens()[0].last_used_at == NOW


# -- over HTTP: the API does not wait for the write lock -------------------------------------


@pytest.fixture
def api_config(tmp_path: Path) -> Any:
    from syndicate.config import parse_config

    config_path = write_config(tmp_path)
    fill_store(tmp_path / "store.db", 3)
    return parse_config(config_path.read_text(), config_path)


async def test_an_api_get_answers_while_another_connection_holds_the_write_lock(
    aiohttp_client: Any, api_config: Any
):
    token = new_token()
    with Store.open(api_config.store_path) as store:
        Accounts(store).add_token("cms", token, datetime.now(UTC))
    client = await aiohttp_client(make_app(api_config))
    headers = {"Authorization": f"Bearer {token}"}
    released = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        with write_lock_held(api_config.store_path):
            holding.set()
            released.wait(2.0)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        response = await client.get("/api/articles/story-1", headers=headers)
        elapsed = time.monotonic() - started
        assert response.status == 200, await response.text()
        assert elapsed < 1.0, f"the GET waited {elapsed:.2f}s for the write lock"
    finally:
        released.set()
        holder.join()
    with Store.open(api_config.store_path) as store:
        assert Accounts(store).tokens()[0].last_used_at is None  # the note was skipped
    assert (await client.get("/api/articles/story-1", headers=headers)).status == 200
    with Store.open(api_config.store_path) as store:
        assert Accounts(store).tokens()[0].last_used_at is not None


# -- the command line ------------------------------------------------------------------------


def test_user_password_sets_a_new_password_and_ends_their_sessions(tmp_path: Path):
    config = write_config(tmp_path)
    add = run_cli(
        "--config", str(config), "user", "add", "alice", "--password-stdin", stdin=PASSWORD
    )
    assert add.returncode == 0, add.stderr
    with Store.open(tmp_path / "store.db") as store:
        token = Accounts(store).open_session("alice", PASSWORD, NOW, TTL)
        assert token is not None
    changed = run_cli(
        "--config",
        str(config),
        "user",
        "password",
        "alice",
        "--password-stdin",
        stdin="a brand new password\n",
    )
    assert changed.returncode == 0, changed.stderr
    assert "sessions have ended" in changed.stdout
    with Store.open(tmp_path / "store.db") as store:
        accounts = Accounts(store)
        assert accounts.session_editor(token, NOW) is None
        assert accounts.check_login("alice", "a brand new password")
        assert not accounts.check_login("alice", PASSWORD)
    short = run_cli(
        "--config", str(config), "user", "password", "alice", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 1
    assert "at least 10 characters" in short.stderr
    unknown = run_cli(
        "--config",
        str(config),
        "user",
        "password",
        "nobody",
        "--password-stdin",
        stdin="long enough password\n",
    )
    assert unknown.returncode == 1
    assert "no editor named 'nobody'" in unknown.stderr
    with Store.open(tmp_path / "store.db") as store:
        assert Accounts(store).check_login("alice", "a brand new password")
