"""Editor accounts, API tokens and the session-signing secret."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from syndicate.errors import SyndicateError
from syndicate.models import from_store_time, to_store_time
from syndicate.passwords import DUMMY_HASH, hash_password, token_digest, verify_password
from syndicate.store.core import Store

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class AccountError(ValueError, SyndicateError):
    """A name that cannot be used, or is taken."""


@dataclass(frozen=True)
class Account:
    name: str
    created_at: datetime
    last_used_at: datetime | None = None


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
            conn.execute(
                "INSERT INTO editors (name, password_hash, created_at) VALUES (?, ?, ?)",
                (name, digest, to_store_time(now)),
            )

    def remove_editor(self, name: str) -> bool:
        with self.store.transaction() as conn:
            return conn.execute("DELETE FROM editors WHERE name = ?", (name,)).rowcount > 0

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
        with self.store.lock:
            row = self.store.conn.execute(
                "SELECT password_hash FROM editors WHERE name = ?", (name,)
            ).fetchone()
        ok = verify_password(password, row[0] if row else DUMMY_HASH)
        return ok and row is not None

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
        """The name of the token's holder, or None; notes when it was last used."""
        digest = token_digest(token)
        with self.store.lock:
            row = self.store.conn.execute(
                "SELECT name, token_hash FROM api_tokens WHERE token_hash = ?", (digest,)
            ).fetchone()
        if row is None or not secrets.compare_digest(row[1], digest):
            return None
        if now is not None:
            with self.store.transaction() as conn:
                conn.execute(
                    "UPDATE api_tokens SET last_used_at = ? WHERE name = ?",
                    (to_store_time(now), row[0]),
                )
        return str(row[0])

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
