"""Editor accounts, their admin sessions and login throttle, API tokens, the signing secret.

Sessions and the login throttle live here, in the store, so that every
worker process of ``syndicate serve`` sees the same ones: a cookie issued by
one worker is accepted (and, after logout, refused) by all of them, and
failed logins add up across workers instead of being counted once per
worker. Only hashes are stored: of passwords (scrypt), of API tokens and of
session tokens (SHA-256; both are 256 random bits).
"""

from __future__ import annotations

import contextlib
import math
import re
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from syndicate.errors import SyndicateError
from syndicate.models import from_store_time, to_store_time
from syndicate.passwords import DUMMY_HASH, hash_password, token_digest, verify_password
from syndicate.store.core import Store

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
#: A token's last use is written at most this often: checking a token is a read,
#: and the write, when it is due, is skipped if the store is busy.
TOKEN_USE_EVERY = timedelta(minutes=1)


class AccountError(ValueError, SyndicateError):
    """A name that cannot be used, or is taken."""


@dataclass(frozen=True)
class Account:
    name: str
    created_at: datetime
    last_used_at: datetime | None = None


class LoginKey(Protocol):
    """One count of the login throttle (``syndicate.web.auth.LoginKey`` makes them)."""

    @property
    def key(self) -> str: ...

    @property
    def limit(self) -> int:
        """Failures allowed per window."""
        ...

    @property
    def cleared_by_success(self) -> bool:
        """Whether a successful login clears the count (else it takes back its own attempt)."""
        ...


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise AccountError(
            f"{name!r}: a name is 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return name


class Accounts:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- editors ---------------------------------------------------------------

    def add_editor(self, name: str, password: str, now: datetime) -> None:
        check_name(name)
        digest = hash_password(password)  # slow: outside the write lock
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM editors WHERE name = ?", (name,)).fetchone():
                raise AccountError(f"{name!r} already exists")
            cursor = conn.execute(
                "INSERT INTO editors (name, password_hash, created_at) VALUES (?, ?, ?)",
                (name, digest, to_store_time(now)),
            )
            # editors.id may be reused after a delete: no session left behind by a
            # writer without foreign keys may pass to the new account.
            conn.execute("DELETE FROM sessions WHERE editor_id = ?", (cursor.lastrowid,))

    def remove_editor(self, name: str) -> bool:
        """Delete editor ``name`` and end their sessions (also by cascade)."""
        with self.store.transaction() as conn:
            conn.execute(
                "DELETE FROM sessions WHERE editor_id = (SELECT id FROM editors WHERE name = ?)",
                (name,),
            )
            return conn.execute("DELETE FROM editors WHERE name = ?", (name,)).rowcount > 0

    def set_password(self, name: str, password: str) -> bool:
        """Give editor ``name`` a new password and end all their sessions; False if unknown."""
        digest = hash_password(password)  # slow: outside the write lock
        with self.store.transaction() as conn:
            row = conn.execute("SELECT id FROM editors WHERE name = ?", (name,)).fetchone()
            if row is None:
                return False
            conn.execute("UPDATE editors SET password_hash = ? WHERE id = ?", (digest, row[0]))
            conn.execute("DELETE FROM sessions WHERE editor_id = ?", (row[0],))
            return True

    def editors(self) -> list[Account]:
        with self.store.lock:
            rows = self.store.conn.execute(
                "SELECT name, created_at FROM editors ORDER BY name"
            ).fetchall()
        return [Account(name, from_store_time(created)) for name, created in rows]

    def has_editors(self) -> bool:
        with self.store.lock:
            return self.store.conn.execute("SELECT 1 FROM editors LIMIT 1").fetchone() is not None

    def check_login(self, name: str, password: str) -> bool:
        """True for a right name and password; as slow for an unknown name as a known one."""
        return self._verified_hash(name, password) is not None

    def _verified_hash(self, name: str, password: str) -> str | None:
        """The stored hash ``password`` matches, or None (same cost for an unknown name)."""
        with self.store.lock:
            row = self.store.conn.execute(
                "SELECT password_hash FROM editors WHERE name = ?", (name,)
            ).fetchone()
        ok = verify_password(password, row[0] if row else DUMMY_HASH)
        return str(row[0]) if ok and row is not None else None

    # -- admin sessions ------------------------------------------------------------

    def open_session(self, name: str, password: str, now: datetime, ttl: int) -> str | None:
        """Log ``name`` in: a new session token valid ``ttl`` seconds, or None if refused.

        The password is checked first (slowly, outside the write lock); the
        session is then written only if the password is still the one that
        was checked, so a password changed in between is never outrun. The
        token is returned once; the store keeps its SHA-256. Expired sessions
        of every editor are deleted on the way.
        """
        verified = self._verified_hash(name, password)
        if verified is None:
            return None
        token = secrets.token_urlsafe(32)
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (to_store_time(now),))
            made = conn.execute(
                "INSERT INTO sessions (id, editor_id, created_at, expires_at) "
                "SELECT ?, id, ?, ? FROM editors WHERE name = ? AND password_hash = ?",
                (
                    token_digest(token),
                    to_store_time(now),
                    to_store_time(now + timedelta(seconds=ttl)),
                    name,
                    verified,
                ),
            ).rowcount
        return token if made else None

    def session_editor(self, token: str | None, now: datetime) -> str | None:
        """The name of the editor a live session token belongs to, else None. A read only."""
        if not token:
            return None
        digest = token_digest(token)
        with self.store.lock:
            row = self.store.conn.execute(
                "SELECT s.id, e.name FROM sessions AS s JOIN editors AS e ON e.id = s.editor_id "
                "WHERE s.id = ? AND s.expires_at > ?",
                (digest, to_store_time(now)),
            ).fetchone()
        if row is None or not secrets.compare_digest(row[0], digest):
            return None
        return str(row[1])

    def end_session(self, token: str) -> bool:
        """Log out: the session is deleted, so its cookie is refused from now on."""
        with self.store.transaction() as conn:
            return (
                conn.execute("DELETE FROM sessions WHERE id = ?", (token_digest(token),)).rowcount
                > 0
            )

    def session_count(self, name: str | None = None) -> int:
        """Sessions in the store (expired ones not yet deleted included), of one editor or all."""
        sql = "SELECT COUNT(*) FROM sessions"
        if name is not None:
            sql += " WHERE editor_id = (SELECT id FROM editors WHERE name = ?)"
        with self.store.lock:
            return int(self.store.conn.execute(sql, () if name is None else (name,)).fetchone()[0])

    # -- the login throttle --------------------------------------------------------------

    def reserve_login(self, keys: Sequence[LoginKey], now: datetime, window: int) -> int | None:
        """Count one login attempt against every key, or refuse it: seconds to wait, or None.

        The attempt is counted as a failure before its password is checked,
        in one write transaction with the check of the counts, so attempts
        running side by side, in any worker, cannot together pass a limit;
        :meth:`release_login` takes it back when the password was right. A
        key's window starts at its first failure and lasts ``window`` seconds.
        """
        started = to_store_time(now)
        with self.store.transaction() as conn:
            conn.execute(
                "DELETE FROM login_failures WHERE window_start <= ?",
                (to_store_time(now - timedelta(seconds=window)),),
            )
            waits = []
            for item in keys:
                row = conn.execute(
                    "SELECT window_start, count FROM login_failures WHERE key = ?", (item.key,)
                ).fetchone()
                if row is not None and row[1] >= item.limit:
                    ends = from_store_time(row[0]) + timedelta(seconds=window)
                    waits.append((ends - now).total_seconds())
            if waits:
                return max(1, math.ceil(max(waits)))
            conn.executemany(
                "INSERT INTO login_failures (key, window_start, count) VALUES (?, ?, 1) "
                "ON CONFLICT (key) DO UPDATE SET count = count + 1",
                [(item.key, started) for item in keys],
            )
        return None

    def release_login(self, keys: Sequence[LoginKey]) -> None:
        """A reserved attempt succeeded: take it back, and clear the keys that say so."""
        with self.store.transaction() as conn:
            for item in keys:
                if item.cleared_by_success:
                    conn.execute("DELETE FROM login_failures WHERE key = ?", (item.key,))
                else:
                    conn.execute(
                        "UPDATE login_failures SET count = max(count - 1, 0) WHERE key = ?",
                        (item.key,),
                    )

    # -- API tokens --------------------------------------------------------------

    def add_token(self, name: str, token: str, now: datetime) -> None:
        check_name(name)
        with self.store.transaction() as conn:
            if conn.execute("SELECT 1 FROM api_tokens WHERE name = ?", (name,)).fetchone():
                raise AccountError(f"a token named {name!r} already exists; revoke it first")
            conn.execute(
                "INSERT INTO api_tokens (name, token_hash, created_at) VALUES (?, ?, ?)",
                (name, token_digest(token), to_store_time(now)),
            )

    def revoke_token(self, name: str) -> bool:
        with self.store.transaction() as conn:
            return conn.execute("DELETE FROM api_tokens WHERE name = ?", (name,)).rowcount > 0

    def tokens(self) -> list[Account]:
        with self.store.lock:
            rows = self.store.conn.execute(
                "SELECT name, created_at, last_used_at FROM api_tokens ORDER BY name"
            ).fetchall()
        return [
            Account(name, from_store_time(created), from_store_time(used) if used else None)
            for name, created, used in rows
        ]

    def token_owner(self, token: str, now: datetime | None = None) -> str | None:
        """The name of the token's holder, or None; notes when it was last used.

        Checking a token is a read: it never waits for the store's write lock.
        Its last use (given ``now``) is written at most once per
        :data:`TOKEN_USE_EVERY`, and only as a best effort that is skipped at
        once when the store is busy, so it can neither slow nor fail a request.
        """
        digest = token_digest(token)
        with self.store.lock:
            row = self.store.conn.execute(
                "SELECT id, name, token_hash, last_used_at FROM api_tokens WHERE token_hash = ?",
                (digest,),
            ).fetchone()
        if row is None or not secrets.compare_digest(row[2], digest):
            return None
        token_id, name, _, used = row
        if now is not None and (used is None or from_store_time(used) <= now - TOKEN_USE_EVERY):
            stamp, due = to_store_time(now), to_store_time(now - TOKEN_USE_EVERY)
            with self._write_if_free() as conn:
                if conn is not None:
                    conn.execute(
                        "UPDATE api_tokens SET last_used_at = ? "
                        "WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
                        (stamp, token_id, due),
                    )
        return str(name)

    @contextlib.contextmanager
    def _write_if_free(self) -> Iterator[sqlite3.Connection | None]:
        """A write transaction if one can start at once, else None; it never raises.

        For bookkeeping that may be lost: if this store's connection is in use
        by another thread, or another connection holds the write lock, or the
        write fails, nothing is written and the caller goes on.
        """
        store = self.store
        if not store.lock.acquire(blocking=False):
            yield None
            return
        conn = store.conn
        try:
            if conn.in_transaction:  # this thread is inside a transaction already
                yield None
                return
            began = False
            try:
                (patience,) = conn.execute("PRAGMA busy_timeout").fetchone()
                conn.execute("PRAGMA busy_timeout = 0")
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    began = True
                finally:
                    conn.execute(f"PRAGMA busy_timeout = {int(patience)}")
            except sqlite3.Error:
                began = False
            if not began:
                yield None
                return
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if not isinstance(exc, sqlite3.Error):
                    raise
        finally:
            store.lock.release()

    # -- the signing secret ---------------------------------------------------------

    def secret(self, name: str = "session") -> bytes:
        """A random key shared by every worker, made on first use."""
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)",
                (name, secrets.token_bytes(32)),
            )
            return bytes(
                conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0]
            )
