"""Bulk loading: a whole store written in one go, beside the target, then renamed over it.

Going through :meth:`Store.upsert_articles` costs several statements and two
trigger runs per article, which is right for a CMS sending a few articles and
far too slow for a demo of a million (it must be ready in about a minute).
So :func:`write` builds the file beside the target instead: the schema comes
from the normal migrations (so the result can never drift from what
:meth:`Store.open` expects), then the indexes and triggers are dropped, rows
are bulk-inserted with no journal, the indexes and triggers are put back from
their own saved SQL, the feed counts are recounted, and the finished file is
renamed over the target. An exception at any point leaves the old store
untouched and no temporary file behind; a killed process can leave a
``.tmp-<pid>`` file beside it, but never a half-written store.

The rows come in ready-made, ids included, in the column order of the
``*Row`` types below; this module owns every statement, pragma and file
operation, and knows nothing about what the rows say.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from syndicate.store.core import Store
from syndicate.store.migrate import statements
from syndicate.store.schema import RECOUNT, SEED_SCOPE_TIMES

#: (id, slug, name, bio)
AuthorRow = tuple[int, str, str, str]
#: (id, slug, name)
TagRow = tuple[int, str, str]
#: (number, date as YYYY-MM-DD, pdf_url, pdf_length in bytes)
IssueRow = tuple[int, str, str, int]
#: (id, slug, title, standfirst, body, section, issue, published, updated,
#: image_url, image_caption, image_alt, status); times in the store's format.
ArticleRow = tuple[int, str, str, str, str, str | None, int, str, str, str | None, str, str, str]
#: (article_id, position, author_id, published): ``published`` copies the article's,
#: which the (dropped) fill trigger would otherwise have done.
BylineRow = tuple[int, int, int, str]
#: (article_id, tag_id, published), ``published`` copied likewise.
ArticleTagRow = tuple[int, int, str]


class Batch(NamedTuple):
    """Consecutive articles with their bylines and tags: one insert of each, one progress call."""

    articles: list[ArticleRow]
    bylines: list[BylineRow]
    tags: list[ArticleTagRow]


_INSERT_AUTHOR = "INSERT INTO authors (id, slug, name, bio) VALUES (?, ?, ?, ?)"
_INSERT_TAG = "INSERT INTO tags (id, slug, name) VALUES (?, ?, ?)"
_INSERT_ISSUE = "INSERT INTO print_issues (number, date, pdf_url, pdf_length) VALUES (?, ?, ?, ?)"
_INSERT_ARTICLE = (
    "INSERT INTO articles (id, slug, title, standfirst, body, section, issue, "
    "published, updated, image_url, image_caption, image_alt, status) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_BYLINE = (
    "INSERT INTO article_authors (article_id, position, author_id, published) VALUES (?, ?, ?, ?)"
)
_INSERT_ARTICLE_TAG = "INSERT INTO article_tags (article_id, tag_id, published) VALUES (?, ?, ?)"

_LOAD_PRAGMAS = (
    # No journal and no syncs: if anything goes wrong the file is thrown away.
    "PRAGMA journal_mode = OFF",
    "PRAGMA synchronous = OFF",
    "PRAGMA locking_mode = EXCLUSIVE",
    # 256 MiB: enough to keep the randomly-filled slug index hot at a million
    # articles, small enough for a laptop; more bought nothing measurable.
    "PRAGMA cache_size = -262144",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA threads = 2",
)


def count_articles(path: Path) -> int | None:
    """Articles in an existing file: 0 for an empty or article-less file, None if not SQLite.

    Opened read-write but query-only: a read-only connection to a WAL store
    leaves ``-wal`` and ``-shm`` files behind, and a refusal must leave the
    folder exactly as it found it.
    """
    if not path.exists() or path.stat().st_size == 0:
        return 0
    try:
        conn = sqlite3.connect(_uri(path, "rw"), uri=True, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA query_only = ON")
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        if ("articles",) not in tables:
            return 0
        return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()


def write(
    path: Path,
    *,
    authors: Sequence[AuthorRow],
    tags: Sequence[TagRow],
    issues: Sequence[IssueRow],
    batches: Iterable[Batch],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Replace whatever is at ``path`` with a store holding exactly these rows.

    ``batches`` is consumed once, in order, after the authors, tags and
    issues are in; ``progress`` is called with each batch's article count
    once that batch is written. The caller decides whether replacing is
    allowed (:func:`count_articles`, :func:`~syndicate.store.inuse.open_elsewhere`):
    this function replaces unconditionally.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    _remove(tmp)
    try:
        _fill(tmp, authors, tags, issues, batches, progress)
        _retire_wal(path)
        os.replace(tmp, path)
    finally:
        _remove(tmp)


def _uri(path: Path, mode: str) -> str:
    """A SQLite URI for ``path``, percent-escaped so '?', '#' or '%' in a folder name are safe."""
    return f"{path.resolve().as_uri()}?mode={mode}"


def _fill(
    tmp: Path,
    authors: Sequence[AuthorRow],
    tags: Sequence[TagRow],
    issues: Sequence[IssueRow],
    batches: Iterable[Batch],
    progress: Callable[[int], None] | None,
) -> None:
    """Bulk-load a freshly migrated file, then give it back its indexes and triggers."""
    Store.open(tmp).close()
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        for pragma in _LOAD_PRAGMAS:
            conn.execute(pragma)
        saved = conn.execute(
            "SELECT type, name, sql FROM sqlite_master "
            "WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
        ).fetchall()
        conn.execute("BEGIN")
        for kind, name, _sql in saved:
            conn.execute(f'DROP {kind.upper()} "{name}"')
        conn.executemany(_INSERT_AUTHOR, authors)
        conn.executemany(_INSERT_TAG, tags)
        conn.executemany(_INSERT_ISSUE, issues)
        for batch in batches:
            conn.executemany(_INSERT_ARTICLE, batch.articles)
            # The fill triggers are gone, so the copied ``published`` comes with the row.
            conn.executemany(_INSERT_BYLINE, batch.bylines)
            conn.executemany(_INSERT_ARTICLE_TAG, batch.tags)
            if progress is not None:
                progress(len(batch.articles))
        # Explicit ids already moved the AUTOINCREMENT counter; say so outright anyway.
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'articles'")
        conn.execute(
            "INSERT INTO sqlite_sequence (name, seq) "
            "SELECT 'articles', coalesce(MAX(id), 0) FROM articles"
        )
        for _kind, _name, sql in saved:
            conn.execute(sql)
        # The counting triggers were gone too; the feed counts are rebuilt in one pass.
        for statement in statements(RECOUNT + SEED_SCOPE_TIMES):
            conn.execute(statement)
        conn.execute("COMMIT")
        conn.execute("PRAGMA locking_mode = NORMAL")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise sqlite3.OperationalError(f"could not switch the demo store to WAL (got {mode})")
    finally:
        conn.close()


def _retire_wal(path: Path) -> None:
    """Fold the target's WAL into it, then delete the ``-wal`` and ``-shm`` files.

    A WAL left beside the target would be replayed into the new file and
    corrupt it, so it must go before the rename; checkpointing first means
    that if the rename then fails, the old store has lost nothing.
    """
    if Path(f"{path}-wal").exists():
        try:
            conn = sqlite3.connect(_uri(path, "rw"), uri=True, isolation_level=None)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
        except sqlite3.Error:
            pass  # not a store we can read: it is being replaced all the same
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _remove(path: Path) -> None:
    """Delete a database file and every journal SQLite may have left beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


__all__ = [
    "ArticleRow",
    "ArticleTagRow",
    "AuthorRow",
    "Batch",
    "BylineRow",
    "IssueRow",
    "TagRow",
    "count_articles",
    "write",
]
