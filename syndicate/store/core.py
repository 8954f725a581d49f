"""The article store: opening it, transactions, and the queries feeds are built from.

One SQLite file in WAL mode, so the server's readers, the fetcher and an
outside CMS can all use it at once. Writes go through explicit transactions;
the connection runs in autocommit mode so nothing is held open by accident.
How one article is written lives in syndicate.store.writes.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from syndicate.errors import SyndicateError
from syndicate.models import (
    SIDEBAR,
    SITE,
    Article,
    ArticleIn,
    Author,
    Image,
    PrintIssue,
    Scope,
    ScopeKind,
    Tag,
    from_store_time,
    to_store_time,
)
from syndicate.store.migrate import StoreVersionError, migrate, user_version
from syndicate.store.schema import SCHEMA_VERSION
from syndicate.store.writes import Outcome, prune_changes, upsert


class StoreError(SyndicateError):
    """The store file cannot be used (missing, unreadable, not SQLite, too new)."""


class StoreBusy(StoreError):
    """Another writer held the write lock for longer than this write waits; nothing was stored."""


class StoreFull(StoreError):
    """The disk holding the store is full: the write was rolled back, nothing before it lost."""


#: Seconds a write waits for another writer's lock (then StoreBusy); a context variable,
#: so the API can bound its requests' writes (asyncio.to_thread copies the context).
WRITE_PATIENCE: ContextVar[float] = ContextVar("write_patience", default=10.0)
#: A bulk write commits every BATCH_SECONDS (or BATCH_RECORDS), then frees the lock for BATCH_GAP.
BATCH_SECONDS, BATCH_RECORDS, BATCH_GAP = 0.2, 1000, 0.02


def _failure(exc: BaseException, path: Path) -> StoreError | None:
    """The StoreFull (SQLITE_FULL) or StoreBusy (SQLITE_BUSY) an sqlite3 error means, else None."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
    if code == sqlite3.SQLITE_FULL:
        return StoreFull(f"the disk holding {path} is full: the write was not stored")
    busy = code == sqlite3.SQLITE_BUSY
    return StoreBusy(f"{path} is busy: another process is writing to it") if busy else None


# Every scope is one index walk, newest first. {cmp} is "<=" for what is
# live at :now and ">" for what is scheduled after it; {tail} orders and
# limits the live walk, and is empty when the few scheduled rows are counted.
_SCOPE_SQL: dict[ScopeKind, tuple[str, str]] = {
    "site": (
        "SELECT id FROM articles WHERE status = 'published' AND published {cmp} :now",
        "ORDER BY published DESC, id DESC",
    ),
    "section": (
        "SELECT id FROM articles"
        " WHERE status = 'published' AND section = :key AND published {cmp} :now",
        "ORDER BY published DESC, id DESC",
    ),
    "issue": (
        "SELECT id FROM articles WHERE status = 'published'"
        " AND issue = CAST(:key AS INTEGER) AND published {cmp} :now",
        "ORDER BY published DESC, id DESC",
    ),
    "author": (
        "SELECT aa.article_id FROM article_authors AS aa"
        " JOIN articles AS a ON a.id = aa.article_id"
        " WHERE aa.author_id = (SELECT id FROM authors WHERE slug = :key)"
        " AND aa.published {cmp} :now AND a.status = 'published'",
        "ORDER BY aa.published DESC, aa.article_id DESC",
    ),
    "tag": (
        "SELECT at.article_id FROM article_tags AS at"
        " JOIN articles AS a ON a.id = at.article_id"
        " WHERE at.tag_id = (SELECT id FROM tags WHERE slug = :key)"
        " AND at.published {cmp} :now AND a.status = 'published'",
        "ORDER BY at.published DESC, at.article_id DESC",
    ),
}
_LATEST_SQL: dict[ScopeKind, str] = {
    kind: f"{where.format(cmp='<=')} {order} LIMIT :limit OFFSET :offset"
    for kind, (where, order) in _SCOPE_SQL.items()
}
_FUTURE_SQL: dict[ScopeKind, str] = {
    kind: f"SELECT COUNT(*) FROM ({where.format(cmp='>')})"
    for kind, (where, _) in _SCOPE_SQL.items()
}


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """Open a connection with the pragmas every user of the store relies on."""
    # as_uri() percent-escapes '#', '?' and '%', which SQLite's URI parser would
    # otherwise take as the end of the file name.
    target = f"{Path(path).resolve().as_uri()}?mode={'ro' if readonly else 'rwc'}"
    conn = sqlite3.connect(target, uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _close(conn: sqlite3.Connection | None) -> None:
    if conn is not None:
        conn.close()


def _enable_wal(conn: sqlite3.Connection, path: Path, patience: float = 10.0) -> None:
    """Switch to WAL, retrying while another process holds a lock.

    SQLite does not call the busy handler for a journal-mode change, so two
    workers opening a fresh store together would otherwise see "database is
    locked" at once.
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if isinstance(_failure(exc, path), StoreBusy) and time.monotonic() < deadline:
                time.sleep(random.uniform(0.01, 0.05))
                continue
            raise
        if mode != "wal":
            raise StoreError(f"{path}: could not switch to WAL mode (got {mode})")
        return


class Store:
    """An open article store. Safe to share between threads (one lock)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.lock = threading.RLock()
        #: sqlite-utils' view of the same connection, for introspection and counts.
        self.db = sqlite_utils.Database(conn)
        self._busy_ms = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])

    # -- opening ------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, create: bool = True) -> Store:
        """Open (and if needed create and upgrade) the store at ``path``.

        A store from a newer syndicate is refused before anything is written
        to it, not even the switch to WAL mode.
        """
        path = Path(path)
        if not create and not path.exists():
            raise StoreError(f"{path}: no store here (run `syndicate demo` or `syndicate import`)")
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{path}: cannot create its folder ({exc})") from None
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(path)
            found = user_version(conn)
            if found > SCHEMA_VERSION:
                raise StoreVersionError(
                    f"{path} has schema version {found}, but this syndicate only knows up to "
                    f"{SCHEMA_VERSION}: upgrade syndicate instead of opening a newer store "
                    "with an older one"
                )
            _enable_wal(conn, path)
            migrate(conn, str(path))
        except StoreVersionError as exc:
            _close(conn)
            raise StoreError(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            _close(conn)
            usable = f"{path}: not a usable SQLite store ({exc})"
            raise _failure(exc, path) or StoreError(usable) from None
        except BaseException:
            _close(conn)
            raise
        return cls(conn, path)

    def close(self) -> None:
        """Close the connection once no thread is inside a query.

        Builds run in worker threads; closing the connection under a
        statement another thread is stepping frees memory SQLite is still
        using (CPython's sqlite3 does not guard it, and the process
        crashes). Holding :attr:`lock` waits for that query to end; a later
        query on this store then raises ``ProgrammingError`` instead.
        """
        with self.lock:
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> int:
        return user_version(self.conn)

    def probe(self) -> int:
        """The schema version, after a cheap read that shows the store answers queries.

        For health checks: raises :class:`StoreError`, with SQLite's reason as
        its message, when the store cannot be read (file gone bad, locked past
        the busy timeout, connection closed).
        """
        try:
            with self.lock:
                self.conn.execute("SELECT id FROM articles LIMIT 1").fetchall()
                return self.version
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    def backup(self, target: Path | str) -> int:
        """Copy the store to ``target`` with SQLite's online backup; the pages copied.

        Safe while the server and the CMS read and write: the copy is one read
        transaction, a consistent snapshot, and in WAL mode writers go on
        meanwhile (sqlite.org/backup.html, sqlite.org/wal.html), so no one has
        to stop. The copy is
        written beside ``target`` first and renamed over it only once whole,
        and it is a plain rollback-journal file that opens on its own.
        """
        target = Path(target)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        copy = sqlite3.connect(partial)
        try:
            with self.lock:
                self.conn.backup(copy)  # one step: one consistent read snapshot (WAL)
            copy.execute("PRAGMA journal_mode = DELETE")
            pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
            result = copy.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.Error as exc:
            copy.close()
            partial.unlink(missing_ok=True)
            failure = _failure(exc, target)
            raise failure or StoreError(f"{target}: backup failed ({exc})") from exc
        copy.close()
        if result != "ok":
            partial.unlink(missing_ok=True)
            raise StoreError(f"{target}: the copy did not pass its check ({result})")
        partial.replace(target)
        return pages

    @contextmanager
    def transaction(self, patience: float | None = None) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE write transaction: everything in it lands, or nothing. Waits ``patience``
        s (default WRITE_PATIENCE) for another writer, then StoreBusy; a full disk is StoreFull."""
        self._begin(WRITE_PATIENCE.get() if patience is None else patience)
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:  # else SQLite rolled back: "cannot rollback" would lie
                self.conn.execute("ROLLBACK")
            if (failure := _failure(exc, self.path)) is None:
                raise
            raise failure from exc
        finally:
            self.lock.release()

    def _begin(self, patience: float) -> None:
        """BEGIN IMMEDIATE, keeping :attr:`lock`. Tries fail at once, unlocked between: SQLite's
        busy handler would hold up our readers, and sleep too long to catch an import's gaps."""
        deadline = time.monotonic() + patience
        while True:
            with self.lock:
                self.conn.execute("PRAGMA busy_timeout = 0")
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    self.lock.acquire()  # held until the transaction ends
                    return
                except sqlite3.OperationalError as exc:
                    if not isinstance(_failure(exc, self.path), StoreBusy):
                        raise
                finally:
                    self.conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            if time.monotonic() >= deadline:
                raise StoreBusy(f"{self.path}: another writer held the lock over {patience:g}s")
            time.sleep(random.uniform(0.001, 0.004))

    def rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Any]:
        """Every row of a query; text that is not valid UTF-8 comes out with U+FFFD.

        Other processes may write the store (the README invites the CMS to),
        and SQLite stores whatever bytes it is given as TEXT; Python's
        sqlite3 then refuses the whole row ("Could not decode to UTF-8"), and
        every feed holding the article would fail. Such a row is read again
        with a lenient decoder instead: the text is shown as what it is, the
        feeds stay valid, and well-formed rows keep the fast C decoder.
        Call it holding :attr:`lock`.
        """
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc).lower():
                raise
        self.conn.text_factory = _lenient_text
        try:
            return self.conn.execute(sql, params).fetchall()
        finally:
            self.conn.text_factory = str

    # -- writing ------------------------------------------------------------

    def upsert_articles(self, records: Iterable[ArticleIn], now: datetime) -> dict[Outcome, int]:
        """Store many articles in one transaction; count what happened."""
        counts: dict[Outcome, int] = {"created": 0, "updated": 0, "unchanged": 0}
        with self.transaction() as conn:
            for record in records:
                counts[upsert(conn, record, now)] += 1
            prune_changes(conn)
        return counts

    def upsert_batches(
        self, records: Sequence[ArticleIn], now: datetime, patience: float = 60.0
    ) -> Iterator[dict[Outcome, int]]:
        """Store articles in short atomic batches (BATCH_SECONDS); yield each one's counts. After
        a failure those yielded stay; the same records again complete the rest (idempotent)."""
        start = 0
        while start < len(records):
            counts: dict[Outcome, int] = {"created": 0, "updated": 0, "unchanged": 0}
            with self.transaction(patience) as conn:
                deadline = time.monotonic() + BATCH_SECONDS
                for record in records[start : start + BATCH_RECORDS]:
                    counts[upsert(conn, record, now)] += 1
                    if time.monotonic() >= deadline:
                        break
                prune_changes(conn)
            start += sum(counts.values())
            yield counts
            time.sleep(BATCH_GAP)

    def upsert_article(self, record: ArticleIn, now: datetime) -> Outcome:
        return self.publish_article(record, now)[0]

    def publish_article(self, record: ArticleIn, now: datetime) -> tuple[Outcome, Article | None]:
        with self.transaction() as conn:  # read back in it: the answer is what was written
            outcome = upsert(conn, record, now)
            prune_changes(conn)
            return outcome, self.article(record.slug)

    def delete_article(self, slug: str) -> bool:
        with self.transaction() as conn:
            return conn.execute("DELETE FROM articles WHERE slug = ?", (slug,)).rowcount > 0

    # -- reading ------------------------------------------------------------

    def latest_ids(self, scope: Scope, now: datetime, limit: int, offset: int = 0) -> list[int]:
        params = {"key": scope.key, "now": to_store_time(now), "limit": limit, "offset": offset}
        with self.lock:
            rows = self.conn.execute(_LATEST_SQL[scope.kind], params).fetchall()
        return [row[0] for row in rows]

    def latest(self, scope: Scope, now: datetime, limit: int, offset: int = 0) -> list[Article]:
        """The newest published articles of a scope, as of ``now``."""
        return self.articles(self.latest_ids(scope, now, limit, offset))

    def latest_sql(self, kind: ScopeKind) -> str:
        """The query behind :meth:`latest_ids`, for EXPLAIN QUERY PLAN tests."""
        return _LATEST_SQL[kind]

    def articles(self, ids: Sequence[int]) -> list[Article]:
        """Load whole articles (bylines, tags, issue) in the order of ``ids``."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with self.lock:
            rows = self.rows(
                f"""SELECT a.id, a.slug, a.title, a.standfirst, a.body, a.section, a.issue,
                           a.published, a.updated, a.image_url, a.image_caption, a.image_alt,
                           a.status, p.date, p.pdf_url, p.pdf_length
                      FROM articles AS a LEFT JOIN print_issues AS p ON p.number = a.issue
                     WHERE a.id IN ({marks})""",
                ids,
            )
            bylines: dict[int, list[Author]] = {}
            for article_id, *author in self.rows(
                f"""SELECT aa.article_id, au.slug, au.name, au.bio, au.email, au.url
                      FROM article_authors AS aa JOIN authors AS au ON au.id = aa.author_id
                     WHERE aa.article_id IN ({marks}) ORDER BY aa.article_id, aa.position""",
                ids,
            ):
                bylines.setdefault(article_id, []).append(Author(*author))
            tags: dict[int, list[Tag]] = {}
            for article_id, slug, name in self.rows(
                f"""SELECT at.article_id, t.slug, t.name
                      FROM article_tags AS at JOIN tags AS t ON t.id = at.tag_id
                     WHERE at.article_id IN ({marks}) ORDER BY at.article_id, t.slug""",
                ids,
            ):
                tags.setdefault(article_id, []).append(Tag(slug, name))
        by_id = {
            row[0]: _article(row, tuple(bylines.get(row[0], ())), tuple(tags.get(row[0], ())))
            for row in rows
        }
        return [by_id[i] for i in ids if i in by_id]

    def article(self, slug: str) -> Article | None:
        with self.lock:
            row = self.conn.execute("SELECT id FROM articles WHERE slug = ?", (slug,)).fetchone()
        return self.articles([row[0]])[0] if row else None

    def author(self, slug: str) -> Author | None:
        with self.lock:
            found = self.rows(
                "SELECT slug, name, bio, email, url FROM authors WHERE slug = ?", (slug,)
            )
        return Author(*found[0]) if found else None

    def tag(self, slug: str) -> Tag | None:
        with self.lock:
            found = self.rows("SELECT slug, name FROM tags WHERE slug = ?", (slug,))
        return Tag(*found[0]) if found else None

    def print_issue(self, number: int) -> PrintIssue | None:
        with self.lock:
            found = self.rows(
                "SELECT number, date, pdf_url, pdf_length FROM print_issues WHERE number = ?",
                (number,),
            )
        return _issue(*found[0]) if found else None

    # -- what the feed cache asks -------------------------------------------

    def count_visible(self, scope: Scope, now: datetime) -> int:
        """Published articles of a scope as of ``now``, without counting them all.

        feed_counts holds every published article (triggers keep it); only the
        few scheduled ones still in the future are counted and taken off.
        """
        key = scope.key
        params = {"key": key, "now": to_store_time(now), "limit": -1, "offset": 0}
        future_sql = _FUTURE_SQL[scope.kind]
        with self.lock:
            row = self.conn.execute(
                "SELECT n FROM feed_counts WHERE kind = ? AND key = ?", (scope.kind, key)
            ).fetchone()
            future = self.conn.execute(future_sql, params).fetchone()[0]
        return max(0, int(row[0] if row else 0) - int(future))

    def directory(self, kind: ScopeKind) -> list[tuple[str, str, int]]:
        """(key, display name, published articles) of every author, tag or issue with articles
        (for a digest: its published editions)."""
        sql = {
            "author": "SELECT c.key, a.name, c.n FROM feed_counts AS c JOIN authors AS a"
            " ON a.slug = c.key WHERE c.kind = 'author' AND c.n > 0 ORDER BY a.name, a.slug",
            "tag": "SELECT c.key, t.name, c.n FROM feed_counts AS c JOIN tags AS t"
            " ON t.slug = c.key WHERE c.kind = 'tag' AND c.n > 0 ORDER BY t.name, t.slug",
            "issue": "SELECT c.key, 'Issue ' || c.key, c.n FROM feed_counts AS c"
            " WHERE c.kind = 'issue' AND c.n > 0 ORDER BY CAST(c.key AS INTEGER) DESC",
            "section": "SELECT key, key, n FROM feed_counts WHERE kind = 'section' ORDER BY key",
            "digest": "SELECT slug, slug, COUNT(*) FROM digest_editions WHERE articles > 0"
            " GROUP BY slug ORDER BY slug",
            "site": "SELECT '', '', n FROM feed_counts WHERE kind = 'site'",
        }[kind]
        with self.lock:
            return [(str(k), str(name), int(n)) for k, name, n in self.rows(sql)]

    def count(self, table: str) -> int:
        with self.lock:
            return self.db[table].count

    def check(self, sections: Iterable[str] | None = None) -> list[str]:
        """Problems with the store's contents, as sentences (empty when healthy)."""
        problems: list[str] = []
        with self.lock:
            result = self.conn.execute("PRAGMA quick_check").fetchall()
            if result != [("ok",)]:
                problems += [f"integrity: {r[0]}" for r in result[:20]]
            for table, rowid, parent, _ in self.conn.execute("PRAGMA foreign_key_check"):
                problems.append(f"{table} row {rowid}: refers to a missing {parent} row")
            if sections is not None:
                known = set(sections)
                for section, n in self.conn.execute(
                    "SELECT section, COUNT(*) FROM articles WHERE section IS NOT NULL "
                    "GROUP BY section"
                ):
                    if section not in known:
                        problems.append(
                            f"articles: {n} article(s) in section {section!r}, "
                            "which config.toml does not define"
                        )
        return problems


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def open_store(path: Path | str, *, create: bool = True) -> Store:
    return Store.open(path, create=create)


# -- row mapping -----------------------------------------------------------------


def _issue(
    number: int, when: str | None, pdf_url: str | None, pdf_length: int | None = None
) -> PrintIssue:
    return PrintIssue(number, date.fromisoformat(when) if when else None, pdf_url, pdf_length)


def _article(row: Sequence[Any], authors: tuple[Author, ...], tags: tuple[Tag, ...]) -> Article:
    (aid, slug, title, standfirst, body, section, issue, published, updated) = row[:9]
    (image_url, caption, alt, status, issue_date, pdf_url, pdf_length) = row[9:]
    return Article(
        id=aid,
        slug=slug,
        title=title,
        standfirst=standfirst,
        body=body,
        section=section,
        issue=_issue(issue, issue_date, pdf_url, pdf_length) if issue is not None else None,
        published=from_store_time(published),
        updated=from_store_time(updated),
        authors=authors,
        tags=tags,
        image=Image(image_url, caption, alt) if image_url else None,
        status=status,
    )


__all__ = [
    "SCHEMA_VERSION",
    "SIDEBAR",
    "SITE",
    "Outcome",
    "Scope",
    "ScopeKind",
    "Store",
    "StoreError",
    "connect",
    "open_store",
]
