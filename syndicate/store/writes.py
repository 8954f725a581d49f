"""Writing one article: the upsert by slug, its bylines, tags and print issue.

Text is stored exactly as given, except lone surrogates (which UTF-8 cannot
hold), which become U+FFFD: the store never refuses a str. An identical
record changes nothing, so an import or a CMS retry can be repeated safely.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any, Literal

from syndicate.models import ArticleIn, Author, PrintIssue, Tag, to_store_time
from syndicate.text import encodable

Outcome = Literal["created", "updated", "unchanged"]


#: How many feed_changes rows to keep. A server that falls further behind than
#: this simply rebuilds every feed once, so the log never grows without bound.
CHANGES_KEPT = 20_000


def prune_changes(conn: sqlite3.Connection) -> None:
    conn.execute(
        "DELETE FROM feed_changes WHERE seq <= (SELECT MAX(seq) FROM feed_changes) - ?",
        (CHANGES_KEPT,),
    )


def _ensure_issue(conn: sqlite3.Connection, issue: PrintIssue) -> None:
    """Create or complete a print issue; a value left out never erases a stored one."""
    conn.execute(
        "INSERT INTO print_issues (number, date, pdf_url, pdf_length) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (number) DO UPDATE SET date = coalesce(?2, date), "
        "pdf_url = coalesce(?3, pdf_url), pdf_length = coalesce(?4, pdf_length) "
        "WHERE (?2 IS NOT NULL AND ?2 IS NOT date) OR (?3 IS NOT NULL AND ?3 IS NOT pdf_url) "
        "OR (?4 IS NOT NULL AND ?4 IS NOT pdf_length)",
        (
            issue.number,
            issue.date.isoformat() if issue.date else None,
            issue.pdf_url,
            issue.pdf_length,
        ),
    )


def _ensure_author(conn: sqlite3.Connection, author: Author) -> int:
    """Create an author, or update what the record says; never blank out stored details."""
    values = (
        author.slug,
        encodable(author.name),
        encodable(author.bio) or None,
        encodable(author.email) if author.email else None,
        encodable(author.url) if author.url else None,
    )
    conn.execute(
        "INSERT INTO authors (slug, name, bio, email, url) "
        "VALUES (?1, ?2, coalesce(?3, ''), ?4, ?5) "
        "ON CONFLICT (slug) DO UPDATE SET name = ?2, bio = coalesce(?3, bio), "
        "email = coalesce(?4, email), url = coalesce(?5, url) "
        "WHERE name IS NOT ?2 OR (?3 IS NOT NULL AND ?3 IS NOT bio) "
        "OR (?4 IS NOT NULL AND ?4 IS NOT email) OR (?5 IS NOT NULL AND ?5 IS NOT url)",
        values,
    )
    return int(conn.execute("SELECT id FROM authors WHERE slug = ?", (author.slug,)).fetchone()[0])


def _ensure_tag(conn: sqlite3.Connection, tag: Tag) -> int:
    tag = Tag(slug=tag.slug, name=encodable(tag.name))
    conn.execute("INSERT OR IGNORE INTO tags (slug, name) VALUES (?, ?)", (tag.slug, tag.name))
    return int(conn.execute("SELECT id FROM tags WHERE slug = ?", (tag.slug,)).fetchone()[0])


def upsert(conn: sqlite3.Connection, record: ArticleIn, now: datetime) -> Outcome:
    """Insert or update one article by slug; identical input changes nothing.

    Text is stored exactly as given, except lone surrogates (which UTF-8
    cannot hold) become U+FFFD: the store never refuses a str.
    """
    if record.issue is not None:
        _ensure_issue(conn, record.issue)
    author_ids = [_ensure_author(conn, a) for a in record.authors]
    tag_ids = sorted({_ensure_tag(conn, t) for t in record.tags})
    published = to_store_time(record.published)
    image = record.image
    values: dict[str, Any] = {
        "title": encodable(record.title),
        "standfirst": encodable(record.standfirst),
        "body": encodable(record.body),
        "section": record.section,
        "issue": record.issue.number if record.issue else None,
        "published": published,
        "image_url": encodable(image.url) if image else None,
        "image_caption": encodable(image.caption) if image else "",
        "image_alt": encodable(image.alt) if image else "",
        "status": record.status,
    }
    columns = tuple(values)
    row = conn.execute(
        f"SELECT id, updated, {', '.join(columns)} FROM articles WHERE slug = ?", (record.slug,)
    ).fetchone()
    if row is None:
        updated = max(record.updated or record.published, record.published)
        cursor = conn.execute(
            f"INSERT INTO articles (slug, updated, {', '.join(columns)}) "
            f"VALUES (?, ?, {', '.join('?' * len(columns))})",
            (record.slug, to_store_time(updated), *values.values()),
        )
        article_id = int(cursor.lastrowid or 0)
        _write_links(conn, article_id, author_ids, tag_ids)
        return "created"
    article_id, stored_updated = row[0], row[1]
    stored = dict(zip(columns, row[2:], strict=True))
    old_authors = [r[0] for r in conn.execute(_AUTHOR_IDS, (article_id,))]
    old_tags = [r[0] for r in conn.execute(_TAG_IDS, (article_id,))]
    same = stored == values and old_authors == author_ids and old_tags == tag_ids
    if record.updated is not None:
        wanted = to_store_time(max(record.updated, record.published))
    elif same:
        wanted = stored_updated
    else:
        wanted = to_store_time(max(now, record.published))
    if same and wanted == stored_updated:
        return "unchanged"
    assignments = ", ".join(f"{c} = ?" for c in columns)
    conn.execute(
        f"UPDATE articles SET updated = ?, {assignments} WHERE id = ?",
        (wanted, *values.values(), article_id),
    )
    if old_authors != author_ids or old_tags != tag_ids:
        conn.execute("DELETE FROM article_authors WHERE article_id = ?", (article_id,))
        conn.execute("DELETE FROM article_tags WHERE article_id = ?", (article_id,))
        _write_links(conn, article_id, author_ids, tag_ids)
    return "updated"


_AUTHOR_IDS = "SELECT author_id FROM article_authors WHERE article_id = ? ORDER BY position"
_TAG_IDS = "SELECT tag_id FROM article_tags WHERE article_id = ? ORDER BY tag_id"


def _write_links(
    conn: sqlite3.Connection, article_id: int, author_ids: list[int], tag_ids: list[int]
) -> None:
    conn.executemany(
        "INSERT INTO article_authors (article_id, position, author_id) VALUES (?, ?, ?)",
        [(article_id, i, a) for i, a in enumerate(author_ids)],
    )
    conn.executemany(
        "INSERT INTO article_tags (article_id, tag_id) VALUES (?, ?)",
        [(article_id, t) for t in tag_ids],
    )
