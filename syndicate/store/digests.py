"""Digest editions in the store: the period's articles, and each edition frozen once.

An edition is written once, when its cut-off passes (migration 9 says why),
and read back as it was written: the feed, the email page and the plain text
of an edition are its stored bytes, whatever happened to the articles since.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from syndicate.models import Article, from_store_time, to_store_time
from syndicate.store.core import Store

_FIELDS = (
    "slug, edition, cutoff, period_start, articles, title, summary, content_html, page_html,"
    " page_text, frozen_at"
)


@dataclass(frozen=True)
class Edition:
    """One frozen edition of a digest; ``articles == 0`` marks a period with nothing."""

    slug: str
    edition: date
    cutoff: datetime
    period_start: datetime
    articles: int
    title: str = ""
    #: Plain text: the feed item's summary.
    summary: str = ""
    #: The email-safe HTML summary: the feed item's content.
    content_html: str = ""
    #: The whole email page, and its plain-text part.
    page_html: str = ""
    page_text: str = ""
    frozen_at: datetime | None = None


def _edition(row: Sequence[object]) -> Edition:
    slug, day, cutoff, start, count, title, summary, content, page, text, frozen = row
    return Edition(
        slug=str(slug),
        edition=date.fromisoformat(str(day)),
        cutoff=from_store_time(str(cutoff)),
        period_start=from_store_time(str(start)),
        articles=int(count),  # type: ignore[call-overload]
        title=str(title),
        summary=str(summary),
        content_html=str(content),
        page_html=str(page),
        page_text=str(text),
        frozen_at=from_store_time(str(frozen)),
    )


def period_articles(
    store: Store, start: datetime, end: datetime, sections: Sequence[str], limit: int
) -> list[Article]:
    """The newest ``limit`` published articles of ``(start, end]``, of ``sections`` (all: empty).

    One walk down the ``articles_latest`` index, newest first, as the site feed.
    """
    where = "status = 'published' AND published > ? AND published <= ?"
    params: list[object] = [to_store_time(start), to_store_time(end)]
    if sections:
        where += f" AND section IN ({','.join('?' * len(sections))})"
        params += list(sections)
    sql = f"SELECT id FROM articles WHERE {where} ORDER BY published DESC, id DESC LIMIT ?"
    with store.lock:
        ids = [row[0] for row in store.rows(sql, [*params, limit])]
    return store.articles(ids)


def freeze(store: Store, edition: Edition, now: datetime) -> bool:
    """Keep ``edition`` unless one with its digest and date is kept already; True if written.

    ``INSERT OR IGNORE`` on the (slug, edition) key: whoever freezes first
    wins, and a second freeze (another process, a retry) writes nothing.
    """
    row = (
        edition.slug,
        edition.edition.isoformat(),
        to_store_time(edition.cutoff),
        to_store_time(edition.period_start),
        edition.articles,
        edition.title,
        edition.summary,
        edition.content_html,
        edition.page_html,
        edition.page_text,
        to_store_time(now),
    )
    with store.transaction() as conn:
        marks = ",".join("?" * len(row))
        done = conn.execute(
            f"INSERT OR IGNORE INTO digest_editions ({_FIELDS}) VALUES ({marks})", row
        )
        return done.rowcount > 0


def kept_dates(store: Store, slug: str, since: date) -> set[date]:
    """The dates of every edition considered from ``since`` on, empty ones included."""
    with store.lock:
        rows = store.rows(
            "SELECT edition FROM digest_editions WHERE slug = ? AND edition >= ?",
            (slug, since.isoformat()),
        )
    return {date.fromisoformat(str(r[0])) for r in rows}


def editions(store: Store, slug: str, limit: int, offset: int = 0) -> list[Edition]:
    """Published editions of a digest (not the empty ones), newest first."""
    with store.lock:
        rows = store.rows(
            f"SELECT {_FIELDS} FROM digest_editions WHERE slug = ? AND articles > 0"
            " ORDER BY edition DESC LIMIT ? OFFSET ?",
            (slug, limit, offset),
        )
    return [_edition(r) for r in rows]


def edition_count(store: Store, slug: str) -> int:
    with store.lock:
        rows = store.rows(
            "SELECT COUNT(*) FROM digest_editions WHERE slug = ? AND articles > 0", (slug,)
        )
    return int(rows[0][0])


def edition(store: Store, slug: str, day: date) -> Edition | None:
    """One published edition, or None (never frozen, or empty)."""
    with store.lock:
        rows = store.rows(
            f"SELECT {_FIELDS} FROM digest_editions WHERE slug = ? AND edition = ?"
            " AND articles > 0",
            (slug, day.isoformat()),
        )
    return _edition(rows[0]) if rows else None
