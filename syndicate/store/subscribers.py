"""Feed subscriber counts per day, merged from every worker's flushes.

Each worker counts in memory (``syndicate.web.subscribers``) and hands its
batch here every few seconds; the store merges batches from every worker and
keeps them across restarts:

* an aggregator's figure (``feed_aggregators``): the latest reported per day,
  feed path and aggregator, whichever worker saw it (a newer flush wins);
* direct readers (``feed_readers``): one row per salted SHA-256 of the
  client's address and User-Agent, so the same reader seen by two workers is
  one row. The salt is random, one per day, shared by the workers through
  ``reader_salts``. Once a day is over its rows are counted into
  ``feed_reader_days`` and deleted together with its salt, so no hash (nor
  the salt that could test guesses against it) outlives the day.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from syndicate.models import to_store_time
from syndicate.store.core import Store

#: Days of figures kept: a year and a bit, for comparing with the same day last year.
KEEP_DAYS = 400


def day_of(moment: datetime) -> str:
    """The UTC day a count belongs to, as the store spells it (YYYY-MM-DD)."""
    return to_store_time(moment)[:10]


@dataclass(frozen=True)
class Batch:
    """One worker's counts since its last flush."""

    #: (feed path, aggregator) -> the subscribers it reported.
    aggregators: Mapping[tuple[str, str], int] = field(default_factory=dict)
    #: (feed path, who): who is the client's address and User-Agent, not yet hashed.
    readers: Collection[tuple[str, str]] = ()


@dataclass(frozen=True)
class FeedCount:
    """One feed path's figures for one day."""

    aggregated: int = 0
    readers: int = 0

    @property
    def total(self) -> int:
        return self.aggregated + self.readers


class SubscriberCounts:
    def __init__(self, store: Store) -> None:
        self.store = store

    def flush(self, batch: Batch, now: datetime) -> None:
        """Merge one batch into today's figures, and close the days that are over."""
        today = day_of(now)
        seen_at = to_store_time(now)
        with self.store.transaction() as conn:
            if batch.readers:
                conn.execute(
                    "INSERT OR IGNORE INTO reader_salts (day, salt) VALUES (?, ?)",
                    (today, secrets.token_bytes(32)),
                )
                salt = conn.execute(
                    "SELECT salt FROM reader_salts WHERE day = ?", (today,)
                ).fetchone()[0]
                conn.executemany(
                    "INSERT OR IGNORE INTO feed_readers (day, path, reader) VALUES (?, ?, ?)",
                    (
                        (today, path, hashlib.sha256(salt + who.encode()).digest()[:16])
                        for path, who in batch.readers
                    ),
                )
            conn.executemany(
                "INSERT INTO feed_aggregators (day, path, aggregator, subscribers, seen_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (day, path, aggregator) DO UPDATE"
                " SET subscribers = excluded.subscribers, seen_at = excluded.seen_at"
                " WHERE excluded.seen_at >= seen_at",
                (
                    (today, path, aggregator, count, seen_at)
                    for (path, aggregator), count in batch.aggregators.items()
                ),
            )
            self._close_days(conn, today)
            oldest = day_of(now - timedelta(days=KEEP_DAYS))
            conn.execute("DELETE FROM feed_aggregators WHERE day < ?", (oldest,))
            conn.execute("DELETE FROM feed_reader_days WHERE day < ?", (oldest,))

    @staticmethod
    def _close_days(conn: sqlite3.Connection, today: str) -> None:
        execute = conn.execute
        execute(
            "INSERT INTO feed_reader_days (day, path, readers)"
            " SELECT day, path, COUNT(*) FROM feed_readers WHERE day < ? GROUP BY day, path"
            " ON CONFLICT (day, path) DO UPDATE SET readers = readers + excluded.readers",
            (today,),
        )
        execute("DELETE FROM feed_readers WHERE day < ?", (today,))
        execute("DELETE FROM reader_salts WHERE day < ?", (today,))

    def on(self, day: str) -> dict[str, FeedCount]:
        """Every feed path's figures on ``day`` (today's are so far)."""
        with self.store.lock:
            aggregated = self.store.rows(
                "SELECT path, SUM(subscribers) FROM feed_aggregators WHERE day = ? GROUP BY path",
                (day,),
            )
            readers = self.store.rows(
                "SELECT path, COUNT(*) FROM feed_readers WHERE day = ? GROUP BY path"
                " UNION ALL SELECT path, readers FROM feed_reader_days WHERE day = ?",
                (day, day),
            )
        out: dict[str, FeedCount] = {}
        for path, count in aggregated:
            out[path] = FeedCount(aggregated=count)
        for path, count in readers:
            found = out.get(path, FeedCount())
            out[path] = FeedCount(found.aggregated, found.readers + count)
        return out


__all__ = ["Batch", "FeedCount", "SubscriberCounts", "day_of"]
