"""Notice writes to the store by any process, for the feed cache.

The server calls :meth:`ChangeWatcher.poll` on every feed request, so it must
cost next to nothing when nothing changed: one ``PRAGMA data_version`` on a
connection of its own (SQLite bumps it whenever another connection, in this
process or any other, commits). Only when it moves does the watcher read the
feed_changes log, and only past the last sequence number it saw.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from syndicate.models import from_store_time, to_store_time
from syndicate.store.core import SITE, Scope, connect

#: poll()'s answer when every feed must be rebuilt.
EVERYTHING: frozenset[Scope] = frozenset({Scope("site", "*")})


class ChangeWatcher:
    """Owns one read connection; use it from one thread (the event loop)."""

    def __init__(self, path: Path | str) -> None:
        self.conn: sqlite3.Connection = connect(path)
        self.version = self._data_version()
        self.seq = int(self.conn.execute("SELECT MAX(seq) FROM feed_changes").fetchone()[0] or 0)

    def close(self) -> None:
        self.conn.close()

    def _data_version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def changed(self) -> bool:
        """Has anyone committed to the store since the last call? (microseconds)"""
        version = self._data_version()
        if version == self.version:
            return False
        self.version = version
        return True

    def poll(self) -> frozenset[Scope]:
        """Scopes touched since the last poll; EVERYTHING when it cannot tell."""
        if not self.changed():
            return frozenset()
        low, high = self.conn.execute("SELECT MIN(seq), MAX(seq) FROM feed_changes").fetchone()
        if high is None or high <= self.seq:
            return frozenset()
        if low > self.seq + 1:  # pruned past what we saw: we missed something
            self.seq = int(high)
            return EVERYTHING
        rows = self.conn.execute(
            "SELECT DISTINCT kind, key FROM feed_changes WHERE seq > ? AND seq <= ?",
            (self.seq, high),
        ).fetchall()
        self.seq = int(high)
        scopes: set[Scope] = set()
        for kind, key in rows:
            if kind == "all":
                return EVERYTHING
            scopes.add(SITE if kind == "site" else Scope(kind, key))
        return frozenset(scopes)

    def next_scheduled(self, now: datetime) -> datetime | None:
        """When the next future-dated article goes live (None if there is none)."""
        row = self.conn.execute(
            "SELECT MIN(published) FROM articles WHERE status = 'published' AND published > ?",
            (to_store_time(now),),
        ).fetchone()
        return from_store_time(row[0]) if row and row[0] else None

    def went_live(self, start: datetime, end: datetime) -> frozenset[Scope]:
        """Every feed that an article published in (start, end] belongs to."""
        window = {"start": to_store_time(start), "end": to_store_time(end)}
        rows = self.conn.execute(_WENT_LIVE_SQL, window).fetchall()
        return frozenset(SITE if kind == "site" else Scope(kind, key) for kind, key in rows)


_WENT_LIVE_SQL = """
WITH live AS (
    SELECT id, section, issue FROM articles
     WHERE status = 'published' AND published > :start AND published <= :end
)
SELECT 'site', '' FROM live
UNION SELECT 'section', section FROM live WHERE section IS NOT NULL
UNION SELECT 'issue', CAST(issue AS TEXT) FROM live WHERE issue IS NOT NULL
UNION SELECT 'author', au.slug FROM live
      JOIN article_authors AS aa ON aa.article_id = live.id
      JOIN authors AS au ON au.id = aa.author_id
UNION SELECT 'tag', t.slug FROM live
      JOIN article_tags AS at ON at.article_id = live.id
      JOIN tags AS t ON t.id = at.tag_id
"""
