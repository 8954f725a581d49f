"""Apply the numbered migrations to an open SQLite connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from syndicate.errors import SyndicateError
from syndicate.store.schema import MIGRATIONS, SCHEMA_VERSION


class StoreVersionError(SyndicateError):
    """The store was written by a newer syndicate; refusing to touch it."""


def statements(script: str) -> Iterator[str]:
    """Split a script into whole statements (trigger bodies stay in one piece)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: str = "store") -> int:
    """Bring the store up to SCHEMA_VERSION; return the version it had before.

    Each step runs in its own IMMEDIATE transaction with the version bump, so
    two processes opening an old store at once cannot both apply a step, and a
    failed step leaves the store exactly at the previous version.
    """
    found = user_version(conn)
    if found > SCHEMA_VERSION:
        raise StoreVersionError(
            f"{path} has schema version {found}, but this syndicate only knows up to "
            f"{SCHEMA_VERSION}: upgrade syndicate instead of opening a newer store "
            "with an older one"
        )
    start = found
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = user_version(conn)  # another process may have migrated meanwhile
            if current >= SCHEMA_VERSION:
                conn.execute("COMMIT")
                return start
            for statement in statements(MIGRATIONS[current]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {current + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
