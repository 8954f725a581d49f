"""The audit log: who changed the configuration through /admin, what, and when.

A row is written in the same write transaction as the change it records
(:meth:`AuditLog.record` runs the change inside it): if the change raises,
the transaction rolls back and no row claims it happened. The transaction's
write lock is also what serialises two editors saving at the same moment in
different worker processes, so each one's check of the file's fingerprint and
its write happen with no other admin edit in between.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from syndicate.models import from_store_time, to_store_time
from syndicate.store.core import Store

T = TypeVar("T")

#: Entries shown on /admin.
SHOWN = 20


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    editor: str
    #: What was done, as ``thing.verb`` ("section.add", "source.disable").
    action: str
    #: What it was done to (a section's slug, a source's name).
    target: str
    #: The change in a sentence, for people.
    summary: str


class AuditLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, entry: AuditEntry, change: Callable[[], T]) -> T:
        """Run ``change`` and write ``entry``, both or neither."""
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO audit_log (at, editor, action, target, summary)"
                " VALUES (?, ?, ?, ?, ?)",
                (to_store_time(entry.at), entry.editor, entry.action, entry.target, entry.summary),
            )
            return change()

    def latest(self, limit: int = SHOWN) -> list[AuditEntry]:
        with self.store.lock:
            rows = self.store.rows(
                "SELECT at, editor, action, target, summary FROM audit_log"
                " ORDER BY id DESC LIMIT ?",
                (limit,),
            )
        return [AuditEntry(from_store_time(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


def section_articles(store: Store, slug: str, *, drafts: bool = True) -> int:
    """Articles filed under a section: with drafts, what removing it concerns (a scan);
    without, the published ones (scheduled too), counted on the section's index."""
    sql = "SELECT COUNT(*) FROM articles WHERE section = ?"
    if not drafts:
        sql += " AND status = 'published'"
    with store.lock:
        return int(store.conn.execute(sql, (slug,)).fetchone()[0])
