"""The queries behind archive documents (RFC 5005 section 4): one month of a feed at a time.

A feed's archive for a month holds every article of its scope published in
that month (UTC). Its links need the nearest months before and after it
that hold anything, so a reader walking ``prev-archive`` never lands on an
empty document. Each question is one walk of the same index a feed page
uses, bounded on both sides, so it costs the same at a thousand articles
and at a million.

The queries are made from the store's own table of scopes
(``_SCOPE_SQL`` in syndicate.store.core): a new kind of feed gets archives
with no query of its own.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from syndicate.catalog import period_bounds
from syndicate.models import Article, Scope, ScopeKind, to_store_time
from syndicate.store.core import _SCOPE_SQL, Store

#: The column a scope's walk is ordered by, just before its ``{cmp} :now``.
_COLUMN: Final = re.compile(r"(\S+) \{cmp\} :now")


def _column(where: str) -> str:
    found = _COLUMN.search(where)
    if found is None:  # pragma: no cover - every row of _SCOPE_SQL ends this way
        raise ValueError(f"no '{{cmp}} :now' in {where!r}")
    return found.group(1)


def _between(where: str) -> str:
    """``where`` bounded to ``:start <= published < :end`` and ``<= :now``."""
    col = _column(where)
    return where.format(cmp=f">= :start AND {col} < :end AND {col} <=")


#: Every article of a scope in [start, end) and live at :now, newest first.
_IN_PERIOD: Final[dict[ScopeKind, str]] = {
    kind: f"{_between(where)} {order}" for kind, (where, order) in _SCOPE_SQL.items()
}
#: The newest live article before :now (bound to a period's start).
_BEFORE: Final[dict[ScopeKind, str]] = {
    kind: f"SELECT published FROM articles WHERE id = ({where.format(cmp='<')} {order} LIMIT 1)"
    for kind, (where, order) in _SCOPE_SQL.items()
}
#: The oldest article from :start (a period's end) that is live at :now.
_FROM: Final[dict[ScopeKind, str]] = {
    kind: "SELECT published FROM articles WHERE id = ("
    + where.format(cmp=f">= :start AND {_column(where)} <=")
    + f" {order.replace('DESC', 'ASC')} LIMIT 1)"
    for kind, (where, order) in _SCOPE_SQL.items()
}


def _params(scope: Scope, now: datetime, **moments: datetime) -> dict[str, str]:
    found = {"key": scope.key, "now": to_store_time(now)}
    found.update({name: to_store_time(moment) for name, moment in moments.items()})
    return found


def _month(stored: str) -> str:
    return stored[:7]


def articles_between(
    store: Store, scope: Scope, start: datetime, end: datetime, now: datetime
) -> list[Article]:
    """Every live article of ``scope`` published in [start, end), newest first."""
    params = _params(scope, now, start=start, end=end)
    with store.lock:
        ids = [row[0] for row in store.conn.execute(_IN_PERIOD[scope.kind], params)]
    return store.articles(ids)


def period_before(store: Store, scope: Scope, start: datetime, now: datetime) -> str | None:
    """The newest month before ``start`` that holds a live article of ``scope``."""
    params = _params(scope, min(start, now))  # ":now" bounds the walk: before the start
    with store.lock:
        row = store.conn.execute(_BEFORE[scope.kind], params).fetchone()
    return _month(row[0]) if row else None


def period_from(store: Store, scope: Scope, end: datetime, now: datetime) -> str | None:
    """The oldest month from ``end`` on that holds an article of ``scope`` live at ``now``."""
    if end > now:
        return None
    with store.lock:
        row = store.conn.execute(_FROM[scope.kind], _params(scope, now, start=end)).fetchone()
    return _month(row[0]) if row else None


def newest_period(store: Store, scope: Scope, now: datetime) -> str | None:
    """The month of the newest live article of ``scope`` (None when it has none)."""
    ids = store.latest_ids(scope, now, 1)
    if not ids:
        return None
    with store.lock:
        row = store.conn.execute("SELECT published FROM articles WHERE id = ?", ids).fetchone()
    return _month(row[0]) if row else None


def periods(store: Store, scope: Scope, now: datetime) -> list[str]:
    """Every month that holds a live article of ``scope``, newest first (one seek each)."""
    found: list[str] = []
    current = newest_period(store, scope, now)
    while current is not None:
        found.append(current)
        current = period_before(store, scope, period_bounds(current)[0], now)
    return found


def archive_log_end(store: Store) -> int:
    """The last sequence number of the archive change log (0 when empty)."""
    with store.lock:
        row = store.conn.execute("SELECT MAX(seq) FROM archive_changes").fetchone()
    return int(row[0] or 0)


def periods_touched(store: Store, after: int) -> tuple[int, frozenset[str] | None]:
    """The months written since sequence ``after``, and the new end of the log.

    None instead of the months when the log was pruned past ``after``: the
    caller missed some and must assume any month may have moved.
    """
    with store.lock:
        low, high = store.conn.execute("SELECT MIN(seq), MAX(seq) FROM archive_changes").fetchone()
        if high is None or high <= after:
            return after, frozenset()
        if low > after + 1:
            return int(high), None
        rows = store.conn.execute(
            "SELECT DISTINCT period FROM archive_changes WHERE seq > ? AND seq <= ?", (after, high)
        ).fetchall()
    return int(high), frozenset(str(row[0]) for row in rows)


def recorded_etags(store: Store, paths: list[str]) -> dict[str, str]:
    """The ETag last recorded for each path that has one (syndicate.store.published)."""
    found: dict[str, str] = {}
    with store.lock:
        for start in range(0, len(paths), 500):
            chunk = paths[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for path, etag in store.conn.execute(
                f"SELECT path, etag FROM documents WHERE path IN ({marks})", chunk
            ):
                found[str(path)] = str(etag)
    return found
