"""Notice writes to the store by any process, for the feed cache.

The server asks before answering (once per turn of its event loop), so
asking must cost next to nothing when nothing changed. SQLite's own answer
is ``PRAGMA data_version`` (it moves whenever another connection, in this
process or any other, commits), but a statement costs a few microseconds, a
tenth of a whole 304. So the watcher first looks at the WAL-index header
that every connection to the store shares through the ``-shm`` file: SQLite
rewrites it on every commit (its change counter, last frame and salts; see
"WAL-mode File Format", sqlite.org/walformat.html, section 2.1), and
processes running different SQLite versions rely on that layout, so it is
stable. Reading 48 mapped bytes costs a slice and a comparison. Only when
they differ, or once a second as a safety net, does the watcher run the
pragma, and only when that moves does it read the feed_changes log, past the
last sequence number it saw. Without a ``-shm`` file to map (a store not in
WAL mode) it runs the pragma every time.
"""

from __future__ import annotations

import mmap
import os
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

from syndicate.clock import SYSTEM, Clock
from syndicate.models import SITE, Scope, from_store_time, to_store_time
from syndicate.store.core import connect

#: poll()'s answer when every feed must be rebuilt.
EVERYTHING: frozenset[Scope] = frozenset({Scope("site", "*")})


#: Bytes of the first WAL-index header copy at the start of the -shm file.
WAL_INDEX_HEADER = 48
#: Seconds between pragma checks even when the header seems unchanged.
FULL_CHECK_EVERY = 1.0


class ChangeWatcher:
    """Owns one read connection; use it from one thread (the event loop)."""

    def __init__(self, path: Path | str, *, clock: Clock = SYSTEM) -> None:
        self.conn: sqlite3.Connection = connect(path)
        #: Only durations are measured (the safety net's second), so the monotonic clock.
        self._monotonic = clock.monotonic
        self.seq = int(self.conn.execute("SELECT MAX(seq) FROM feed_changes").fetchone()[0] or 0)
        # The read above made sure the -shm file exists (in WAL mode).
        self._shm = _map_header(Path(path))
        self._header = self._read_header()
        self._full_check_at = self._monotonic() + FULL_CHECK_EVERY
        self.version = self._data_version()

    def close(self) -> None:
        # The mapping stays open: see _map_header.
        self._shm = None
        self.conn.close()

    def _read_header(self) -> bytes:
        return self._shm[:WAL_INDEX_HEADER] if self._shm is not None else b""

    def _data_version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def quiet(self) -> bool:
        """True when nobody can have committed since the last check; runs no SQL."""
        shm = self._shm
        return (
            shm is not None
            and shm[:WAL_INDEX_HEADER] == self._header
            and self._monotonic() < self._full_check_at
        )

    def changed(self) -> bool:
        """Has anyone committed to the store since the last call?"""
        if self.quiet():
            return False
        if self._shm is not None:
            # Read before the pragma: a commit landing in between is seen by
            # the pragma now and makes the header differ next time (one
            # extra check, never a missed change).
            self._header = self._shm[:WAL_INDEX_HEADER]
            self._full_check_at = self._monotonic() + FULL_CHECK_EVERY
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


#: Mapped WAL-index headers by the -shm file's (device, inode), and every
#: descriptor opened for them, kept for the life of the process: see _map_header.
_MAPPED: dict[tuple[int, int], mmap.mmap] = {}
_KEPT_OPEN: list[int] = []
_MAPPED_LOCK = threading.Lock()


def _map_header(path: Path) -> mmap.mmap | None:
    """The store's -shm file mapped read-only, or None when there is none to map.

    Neither the descriptor nor the mapping (which holds a descriptor of its
    own) is ever closed. SQLite's connections in this process hold POSIX
    locks on the -shm file (the "DMS" byte that tells other processes the
    index is in use, and each reader's mark), and POSIX drops every lock a
    process holds on a file when it closes *any* descriptor of that file. A
    close here would let another process reinitialise the index under this
    one's readers, which is how SQLite databases get corrupted ("How To
    Corrupt An SQLite Database File", section 2.2). SQLite itself keeps such
    descriptors open for the same reason. So each -shm file is opened once per
    process, found again by its inode (os.stat opens nothing), and kept: one
    descriptor pair per store a process watches.
    """
    shm = f"{path}-shm"
    try:
        found = os.stat(shm)
    except OSError:  # no file: the store is not in WAL mode
        return None
    key = (found.st_dev, found.st_ino)
    with _MAPPED_LOCK:
        if key in _MAPPED:
            return _MAPPED[key]
        try:
            fd = os.open(shm, os.O_RDONLY)
        except OSError:
            return None
        _KEPT_OPEN.append(fd)  # never closed, mapped or not
        try:
            mapped = mmap.mmap(fd, WAL_INDEX_HEADER, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # e.g. shorter than a header
            return None
        _MAPPED[key] = mapped
        return mapped
