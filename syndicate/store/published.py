"""When what the site publishes last changed: per document, and per feed scope.

Last-Modified must be the moment a document's bytes last changed (RFC 9110
section 8.8.2), not the newest article's ``updated``: that moves backwards
when the newest article is unpublished, stays put when an older one is
edited, and lies whenever a config reload renames a section. So the first
worker to build bytes with a new ETag records the moment in the store; every
other worker, and every restart, finds it there and sends the same
Last-Modified. It never runs ahead of the clock and never moves backwards.

The scope times (kept by a trigger on the change log, migration 6) date a
feed that holds nothing yet, where there is no article to take a date from.
"""

from __future__ import annotations

from datetime import datetime

from syndicate.models import Scope, from_store_time, to_store_time
from syndicate.store.core import Store, StoreError

#: Seconds a build waits to record new bytes before it answers with "now" instead.
RECORD_PATIENCE = 0.5

_RECORD = (
    "INSERT INTO documents (path, etag, changed_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (path) DO UPDATE SET etag = excluded.etag, changed_at = excluded.changed_at "
    "WHERE documents.etag IS NOT excluded.etag"
)


def changed_at(store: Store, path: str, etag: str, now: datetime) -> datetime:
    """When the bytes with ``etag`` were first served at ``path`` (recording it if now).

    If the store cannot take the write in time (a long import) or at all (a
    full disk), the answer is ``now``: a Last-Modified that is too recent
    costs a client one download it did not need, never a stale 304.
    """
    with store.lock:
        found = store.rows("SELECT etag, changed_at FROM documents WHERE path = ?", (path,))
    if found and found[0][0] == etag:
        return min(from_store_time(found[0][1]), now)
    try:
        with store.transaction(patience=RECORD_PATIENCE) as conn:
            conn.execute(_RECORD, (path, etag, to_store_time(now)))
            row = conn.execute(
                "SELECT changed_at FROM documents WHERE path = ?", (path,)
            ).fetchone()
    except StoreError:
        return now
    return min(from_store_time(row[0]), now)


def scope_changed_at(store: Store, scope: Scope) -> datetime | None:
    """When anything in ``scope`` was last written (None for a scope never touched)."""
    with store.lock:
        found = store.rows(
            "SELECT changed_at FROM scope_times WHERE kind = ? AND key = ?", (scope.kind, scope.key)
        )
    return from_store_time(found[0][0]) if found else None
