"""The fetcher's memory of each source, and the sidebar entries it gathered.

config.toml is the one list of sources: :meth:`Sources.sync` makes the rows
follow it. A row keeps what the fetcher learnt (validators, schedule, health),
keyed by the URL the editor configured, so a permanent redirect changes where
we fetch from but never which source an entry belongs to.

What the fetcher hands over, :class:`~syndicate.models.Validators` and
:class:`~syndicate.models.CleanEntry`, is defined with the other shared
shapes in syndicate.models, so the store never imports the fetcher (and the
fetcher's parser processes never import the store).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from syndicate.models import CleanEntry, Validators, from_store_time, to_store_time
from syndicate.store.core import Store
from syndicate.store.schema import SIDEBAR_ORDER
from syndicate.text import strip_bidi_controls

#: Entries kept per source; older ones are dropped after each successful fetch.
KEEP_PER_SOURCE = 200
#: How long entries of a source removed from the config are kept.
ORPHAN_DAYS = 30


@dataclass(frozen=True)
class SourceRow:
    id: int
    url: str
    name: str
    current_url: str | None
    validators: Validators
    last_fetch: datetime | None
    next_fetch: datetime | None
    last_status: int | None
    failures: int
    last_error: str | None
    last_error_at: datetime | None
    last_seconds: float | None
    last_new: int
    last_updated: int
    retired_at: datetime | None
    configured: bool
    title: str | None
    entries: int
    #: The language the source's feed declares, a BCP 47 tag, or None.
    language: str | None = None

    @property
    def fetch_url(self) -> str:
        """Where to fetch from: the permanent redirect's target, if any."""
        return self.current_url or self.url

    @property
    def retired(self) -> bool:
        return self.retired_at is not None


@dataclass(frozen=True)
class SidebarItem:
    #: The source's name, without bidirectional controls.
    source: str
    title: str
    #: An absolute http(s) URL, or "" for an entry with no safe link (show it as text).
    link: str
    #: The date its feed gave, possibly in the future; None when it gave none.
    published: datetime | None
    #: When the fetcher first saw it (None only for items made by hand).
    first_seen: datetime | None = None
    #: Its language, a BCP 47 tag (its own, else its source's), or None if unknown.
    lang: str | None = None

    @property
    def shown_at(self) -> datetime:
        """Where it stands in the sidebar: its date, unless that is unknown or
        after its first sight (then its first sight). Never in the future."""
        if self.first_seen is None:
            assert self.published is not None, "a SidebarItem needs a date or a first sight"
            return self.published
        if self.published is None:
            return self.first_seen
        return min(self.published, self.first_seen)


#: SIDEBAR_ORDER for sidebar_entries AS e (SQLite still matches it to the indexes).
_ENTRY_ORDER = SIDEBAR_ORDER.replace("published", "e.published").replace(
    "first_seen", "e.first_seen"
)


def _name(value: Any) -> str:
    """A source's name as shown: config.toml's (or an OPML file's), minus bidi controls."""
    return strip_bidi_controls(str(value))


def _time(value: str | None) -> datetime | None:
    return from_store_time(value) if value else None


_COLUMNS = (
    "s.id, s.url, s.name, s.current_url, s.etag, s.last_modified, s.last_fetch, s.next_fetch, "
    "s.last_status, s.failures, s.last_error, s.last_error_at, s.last_seconds, s.last_new, "
    "s.last_updated, s.retired_at, s.configured, s.title, "
    "(SELECT COUNT(*) FROM sidebar_entries AS e WHERE e.source_id = s.id), s.language"
)


def _row(r: Sequence[Any]) -> SourceRow:
    return SourceRow(
        id=int(r[0]),
        url=str(r[1]),
        name=_name(r[2]),
        current_url=r[3],
        validators=Validators(r[4], r[5]),
        last_fetch=_time(r[6]),
        next_fetch=_time(r[7]),
        last_status=r[8],
        failures=int(r[9]),
        last_error=r[10],
        last_error_at=_time(r[11]),
        last_seconds=r[12],
        last_new=int(r[13]),
        last_updated=int(r[14]),
        retired_at=_time(r[15]),
        configured=bool(r[16]),
        title=strip_bidi_controls(r[17]) if r[17] else r[17],
        entries=int(r[18]),
        language=r[19],
    )


class Sources:
    """Source rows and sidebar entries, on top of an open Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _log_sidebar_change(self) -> None:
        self.store.conn.execute("INSERT INTO feed_changes (kind, key) VALUES ('sidebar', '')")

    # -- following the config ---------------------------------------------------

    def sync(self, configured: Iterable[tuple[str, str]]) -> None:
        """Make the rows follow config.toml: (name, url) pairs, in order."""
        pairs = list(configured)
        with self.store.transaction() as conn:
            before = conn.execute("SELECT url, name, configured FROM sources").fetchall()
            conn.execute("UPDATE sources SET configured = 0")
            for name, url in pairs:
                conn.execute(
                    "INSERT INTO sources (url, name) VALUES (?1, ?2) ON CONFLICT (url) "
                    "DO UPDATE SET name = ?2, configured = 1",
                    (url, name),
                )
            after = conn.execute("SELECT url, name, configured FROM sources").fetchall()
            if sorted(before) != sorted(after):
                self._log_sidebar_change()

    def all(self) -> list[SourceRow]:
        with self.store.lock:
            rows = self.store.conn.execute(
                f"SELECT {_COLUMNS} FROM sources AS s ORDER BY s.configured DESC, s.name"
            ).fetchall()
        return [_row(r) for r in rows]

    def get(self, source_id: int) -> SourceRow | None:
        with self.store.lock:
            row = self.store.conn.execute(
                f"SELECT {_COLUMNS} FROM sources AS s WHERE s.id = ?", (source_id,)
            ).fetchone()
        return _row(row) if row else None

    def due(self, now: datetime, *, everything: bool = False) -> list[SourceRow]:
        """Configured, not retired, and due (or all of those, with ``everything``)."""
        return [
            s
            for s in self.all()
            if s.configured
            and not s.retired
            and (everything or s.next_fetch is None or s.next_fetch <= now)
        ]

    def enable(self, name_or_url: str) -> bool:
        """An editor's word that a retired or failing source should be tried again.

        A name matches as config.toml spells it or as it is shown (without
        bidi controls, see :func:`_name`).
        """
        shown = _name(name_or_url)
        with self.store.transaction() as conn:
            ids = [
                (row[0],)
                for row in conn.execute("SELECT id, url, name, current_url FROM sources")
                if name_or_url in (row[1], row[2], row[3]) or _name(row[2]) == shown
            ]
            conn.executemany(
                "UPDATE sources SET retired_at = NULL, failures = 0, next_fetch = NULL "
                "WHERE id = ?",
                ids,
            )
        return bool(ids)

    # -- recording a fetch ------------------------------------------------------

    def record_entries(
        self,
        source_id: int,
        entries: Sequence[CleanEntry],
        *,
        now: datetime,
        validators: Validators,
        status: int,
        next_fetch: datetime,
        seconds: float,
        permanent_url: str | None = None,
        title: str | None = None,
        language: str | None = None,
    ) -> tuple[int, int]:
        """Store a parsed document's entries; return (new, updated).

        An entry already stored (same key) is updated in place if its title,
        link, date or language changed, and only then: a document fetched again
        unchanged writes no entry and logs no sidebar change. An entry's date
        is the one its feed gave, even in the future, and NULL when it gave
        none; ``first_seen`` is when it was first stored (see
        :data:`~syndicate.store.schema.SIDEBAR_ORDER` for the order they make).
        An entry's link is "" when it has no safe one. Only the first
        KEEP_PER_SOURCE entries in the sidebar's order are kept. No entries at
        all is a success too (a valid feed with nothing in it).

        ``title`` is the source's own title, already cleaned to plain text:
        None keeps the stored one (the document had none), "" clears it (the
        document's title was nothing but markup). ``language`` is the
        source's BCP 47 tag as this document declares it; None (it declares
        none) clears the stored one. A change of language changes the sidebar.
        """
        stamp = to_store_time(now)
        new = updated = 0
        with self.store.transaction() as conn:
            for entry in entries:
                published = to_store_time(entry.published) if entry.published else None
                row = conn.execute(
                    "SELECT id, title, link, published, language FROM sidebar_entries "
                    "WHERE source_id = ? AND key = ?",
                    (source_id, entry.key),
                ).fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO sidebar_entries (source_id, key, title, link, published, "
                        "first_seen, changed_at, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            source_id,
                            entry.key,
                            entry.title,
                            entry.link,
                            published,
                            stamp,
                            stamp,
                            entry.language,
                        ),
                    )
                    new += 1
                    continue
                if tuple(row[1:]) != (entry.title, entry.link, published, entry.language):
                    conn.execute(
                        "UPDATE sidebar_entries SET title = ?, link = ?, published = ?, "
                        "language = ?, changed_at = ? WHERE id = ?",
                        (entry.title, entry.link, published, entry.language, stamp, row[0]),
                    )
                    updated += 1
            dropped = conn.execute(
                "DELETE FROM sidebar_entries WHERE source_id = ?1 AND id NOT IN ("
                "SELECT id FROM sidebar_entries WHERE source_id = ?1 "
                f"ORDER BY {SIDEBAR_ORDER} DESC, id DESC LIMIT ?2)",
                (source_id, KEEP_PER_SOURCE),
            ).rowcount
            before = conn.execute(
                "SELECT language FROM sources WHERE id = ?", (source_id,)
            ).fetchone()
            conn.execute(
                "UPDATE sources SET etag = :etag, last_modified = :last_modified, "
                "last_fetch = :stamp, next_fetch = :next_fetch, last_status = :status, "
                "failures = 0, last_seconds = :seconds, last_new = :new, last_updated = :updated, "
                "current_url = coalesce(:permanent_url, current_url), "
                "title = CASE WHEN :title IS NULL THEN title ELSE nullif(:title, '') END, "
                "language = :language "
                "WHERE id = :id",
                {
                    "etag": validators.etag,
                    "last_modified": validators.last_modified,
                    "stamp": stamp,
                    "next_fetch": to_store_time(next_fetch),
                    "status": status,
                    "seconds": seconds,
                    "new": new,
                    "updated": updated,
                    "permanent_url": permanent_url,
                    "title": title,
                    "language": language,
                    "id": source_id,
                },
            )
            relabelled = before is not None and before[0] != language
            if new or updated or dropped or relabelled:
                self._log_sidebar_change()
        return new, updated

    def record_not_modified(
        self,
        source_id: int,
        *,
        now: datetime,
        validators: Validators,
        next_fetch: datetime,
        seconds: float,
        permanent_url: str | None = None,
    ) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE sources SET etag = coalesce(?, etag), "
                "last_modified = coalesce(?, last_modified), last_fetch = ?, next_fetch = ?, "
                "last_status = 304, failures = 0, last_seconds = ?, last_new = 0, "
                "last_updated = 0, current_url = coalesce(?, current_url) WHERE id = ?",
                (
                    validators.etag,
                    validators.last_modified,
                    to_store_time(now),
                    to_store_time(next_fetch),
                    seconds,
                    permanent_url,
                    source_id,
                ),
            )

    def record_failure(
        self,
        source_id: int,
        *,
        now: datetime,
        error: str,
        status: int | None,
        failures: int,
        next_fetch: datetime,
        seconds: float,
        retire: bool = False,
        permanent_url: str | None = None,
    ) -> None:
        stamp = to_store_time(now)
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE sources SET last_fetch = ?, next_fetch = ?, last_status = ?, failures = ?, "
                "last_error = ?, last_error_at = ?, last_seconds = ?, last_new = 0, "
                "last_updated = 0, retired_at = CASE WHEN ? THEN ? ELSE retired_at END, "
                "current_url = coalesce(?, current_url) WHERE id = ?",
                (
                    stamp,
                    to_store_time(next_fetch),
                    status,
                    failures,
                    error,
                    stamp,
                    seconds,
                    retire,
                    stamp,
                    permanent_url,
                    source_id,
                ),
            )

    # -- the sidebar --------------------------------------------------------------

    def latest(self, limit: int, caps: dict[str, int]) -> list[SidebarItem]:
        """The newest entries across configured sources, at most caps[url] per source.

        Newest in the sidebar's order (:data:`~syndicate.store.schema.SIDEBAR_ORDER`):
        by date, but by first sight for an entry undated or dated after it.
        """
        top = max(caps.values(), default=0)
        if not top:
            return []
        order = _ENTRY_ORDER
        with self.store.lock:
            rows = self.store.rows(
                f"""SELECT url, name, title, link, published, first_seen, lang FROM (
                       SELECT s.url, s.name, e.title, e.link, e.published, e.first_seen,
                              coalesce(e.language, s.language) AS lang, e.id,
                              {order} AS shown_at,
                              ROW_NUMBER() OVER (
                                  PARTITION BY e.source_id ORDER BY {order} DESC, e.id DESC
                              ) AS rank
                         FROM sidebar_entries AS e JOIN sources AS s ON s.id = e.source_id
                        WHERE s.configured = 1)
                    WHERE rank <= ? ORDER BY shown_at DESC, id DESC""",
                (top,),
            )
        shown: dict[str, int] = {}
        out: list[SidebarItem] = []
        for url, name, title, link, published, first_seen, lang in rows:
            if shown.get(url, 0) >= caps.get(url, 0):
                continue
            shown[url] = shown.get(url, 0) + 1
            out.append(
                SidebarItem(
                    _name(name),
                    title,
                    link,
                    _time(published),
                    from_store_time(first_seen),
                    lang,
                )
            )
            if len(out) >= limit:
                break
        return out

    def prune_orphans(self, now: datetime) -> int:
        """Drop entries of sources removed from the config more than ORPHAN_DAYS ago."""
        cutoff = to_store_time(now - timedelta(days=ORPHAN_DAYS))
        with self.store.transaction() as conn:
            return conn.execute(
                "DELETE FROM sidebar_entries WHERE changed_at < ? AND source_id IN "
                "(SELECT id FROM sources WHERE configured = 0)",
                (cutoff,),
            ).rowcount
