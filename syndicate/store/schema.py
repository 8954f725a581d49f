"""The store's schema as numbered migrations, versioned in PRAGMA user_version.

Each migration runs in one transaction together with the bump of
``user_version``, so a store is always at exactly one known version. Never
edit a migration that has shipped: add a new one.

Design notes
- ``articles.id`` is AUTOINCREMENT so an id is never reused after a delete:
  feed entry IDs are built from it and must stay unique forever.
- Timestamps are TEXT in one fixed-width UTC spelling (checked by GLOB), so
  text order is time order and another writer (the CMS) cannot slip in a
  spelling that sorts wrongly.
- Bylines and tags carry a copy of the article's ``published`` time, kept in
  step by triggers, so "latest N of an author/tag" is a walk down one index
  instead of a sort of everything that author ever wrote.
"""

from __future__ import annotations

from syndicate.store.migrations_later import (
    MIGRATION_9,
    MIGRATION_10,
    MIGRATION_11,
    MIGRATION_12,
)
from syndicate.store.timeglob import TIME_GLOB

MIGRATION_1 = f"""
CREATE TABLE authors (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    bio TEXT NOT NULL DEFAULT '',
    email TEXT,
    url TEXT
);

CREATE TABLE print_issues (
    number INTEGER PRIMARY KEY CHECK (number > 0),
    date TEXT CHECK (date IS NULL OR date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    pdf_url TEXT
);

CREATE TABLE articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    standfirst TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    section TEXT,
    issue INTEGER REFERENCES print_issues(number),
    published TEXT NOT NULL CHECK (published GLOB {TIME_GLOB}),
    updated TEXT NOT NULL CHECK (updated GLOB {TIME_GLOB}),
    image_url TEXT,
    image_caption TEXT NOT NULL DEFAULT '',
    image_alt TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'draft'))
);

CREATE INDEX articles_latest ON articles (published, id)
    WHERE status = 'published';
CREATE INDEX articles_section_latest ON articles (section, published, id)
    WHERE status = 'published';
CREATE INDEX articles_issue_latest ON articles (issue, published, id)
    WHERE status = 'published';

CREATE TABLE article_authors (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    author_id INTEGER NOT NULL REFERENCES authors(id),
    published TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (article_id, position)
) WITHOUT ROWID;
CREATE INDEX article_authors_latest ON article_authors (author_id, published, article_id);

CREATE TABLE tags (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE article_tags (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags(id),
    published TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (article_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX article_tags_latest ON article_tags (tag_id, published, article_id);

-- Keep the copied publication time right whoever writes the rows.
CREATE TRIGGER article_authors_fill AFTER INSERT ON article_authors BEGIN
    UPDATE article_authors
       SET published = (SELECT published FROM articles WHERE id = NEW.article_id)
     WHERE article_id = NEW.article_id AND position = NEW.position;
END;
CREATE TRIGGER article_tags_fill AFTER INSERT ON article_tags BEGIN
    UPDATE article_tags
       SET published = (SELECT published FROM articles WHERE id = NEW.article_id)
     WHERE article_id = NEW.article_id AND tag_id = NEW.tag_id;
END;
CREATE TRIGGER articles_published_sync AFTER UPDATE OF published ON articles
WHEN NEW.published IS NOT OLD.published BEGIN
    UPDATE article_authors SET published = NEW.published WHERE article_id = NEW.id;
    UPDATE article_tags SET published = NEW.published WHERE article_id = NEW.id;
END;
"""


# -- migration 2: what the feed cache needs to stay fresh cheaply ------------------
#
# feed_changes is an append-only log of which feeds a write touched, filled by
# triggers so that writes by ANY process (the CMS writing SQL directly
# included) are seen. A server notices that the file changed (the WAL-index
# header moved, then PRAGMA data_version; see store/watch.py), reads the log
# past the last sequence number it saw, and rebuilds only those feeds.
#
# feed_counts holds the number of published articles per feed, also kept by
# triggers, so the "last page" link of a paged feed costs one row read instead
# of a count that grows with the store.


def _article_scope_rows(row: str) -> str:
    """(kind, key) rows for the scopes an articles row belongs to."""
    return (
        f"SELECT 'site' AS kind, '' AS key UNION ALL SELECT 'section', {row}.section "
        f"WHERE {row}.section IS NOT NULL UNION ALL SELECT 'issue', CAST({row}.issue AS TEXT) "
        f"WHERE {row}.issue IS NOT NULL"
    )


def _linked_scope_rows(row: str) -> str:
    """(kind, key) rows for the author and tag feeds an article appears in."""
    return (
        f"SELECT 'author' AS kind, au.slug AS key FROM article_authors AS aa "
        f"JOIN authors AS au ON au.id = aa.author_id WHERE aa.article_id = {row}.id "
        f"UNION ALL SELECT 'tag', t.slug FROM article_tags AS at "
        f"JOIN tags AS t ON t.id = at.tag_id WHERE at.article_id = {row}.id"
    )


def _bump(rows: str, delta: int) -> str:
    return (
        f"INSERT INTO feed_counts (kind, key, n) SELECT kind, key, {delta} FROM ({rows}) "
        f"WHERE true ON CONFLICT (kind, key) DO UPDATE SET n = n + ({delta});"
    )


def _log(rows: str) -> str:
    return f"INSERT INTO feed_changes (kind, key) SELECT * FROM ({rows});"


_NEW_SCOPES = _article_scope_rows("NEW")
_OLD_SCOPES = _article_scope_rows("OLD")
_NEW_LINKED = _linked_scope_rows("NEW")
_OLD_LINKED = _linked_scope_rows("OLD")
_AUTHOR_OF = "SELECT 'author' AS kind, slug AS key FROM authors WHERE id = {row}.author_id"
_TAG_OF = "SELECT 'tag' AS kind, slug AS key FROM tags WHERE id = {row}.tag_id"
_STATUS_OF = "(SELECT status FROM articles WHERE id = {row}.article_id) = 'published'"

#: Recompute feed_counts from scratch (after a bulk load that bypassed the triggers).
RECOUNT = """
DELETE FROM feed_counts;
INSERT INTO feed_counts (kind, key, n)
    SELECT 'site', '', COUNT(*) FROM articles WHERE status = 'published';
INSERT INTO feed_counts (kind, key, n)
    SELECT 'section', section, COUNT(*) FROM articles
     WHERE status = 'published' AND section IS NOT NULL GROUP BY section;
INSERT INTO feed_counts (kind, key, n)
    SELECT 'issue', CAST(issue AS TEXT), COUNT(*) FROM articles
     WHERE status = 'published' AND issue IS NOT NULL GROUP BY issue;
INSERT INTO feed_counts (kind, key, n)
    SELECT 'author', au.slug, COUNT(*) FROM article_authors AS aa
      JOIN authors AS au ON au.id = aa.author_id
      JOIN articles AS a ON a.id = aa.article_id
     WHERE a.status = 'published' GROUP BY au.slug;
INSERT INTO feed_counts (kind, key, n)
    SELECT 'tag', t.slug, COUNT(*) FROM article_tags AS at
      JOIN tags AS t ON t.id = at.tag_id
      JOIN articles AS a ON a.id = at.article_id
     WHERE a.status = 'published' GROUP BY t.slug;
"""

MIGRATION_2 = f"""
CREATE TABLE feed_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL DEFAULT ''
);

CREATE TABLE feed_counts (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;

{RECOUNT}
CREATE TRIGGER feed_article_insert AFTER INSERT ON articles BEGIN
    {_log(_NEW_SCOPES)}
    {_bump(f"{_NEW_SCOPES}", 1).replace("WHERE true", "WHERE NEW.status = 'published'")}
END;

CREATE TRIGGER feed_article_update AFTER UPDATE ON articles BEGIN
    {_log(_OLD_SCOPES + " UNION " + _NEW_SCOPES + " UNION " + _NEW_LINKED)}
    {_bump(_OLD_SCOPES, -1).replace("WHERE true", "WHERE OLD.status = 'published'")}
    {_bump(_NEW_SCOPES, 1).replace("WHERE true", "WHERE NEW.status = 'published'")}
    {
    _bump(_NEW_LINKED, -1).replace(
        "WHERE true", "WHERE OLD.status = 'published' AND NEW.status <> 'published'"
    )
}
    {
    _bump(_NEW_LINKED, 1).replace(
        "WHERE true", "WHERE NEW.status = 'published' AND OLD.status <> 'published'"
    )
}
END;

-- BEFORE, so the bylines and tags are still there to be counted down; the
-- cascade that deletes them then finds no article and counts nothing twice.
CREATE TRIGGER feed_article_delete BEFORE DELETE ON articles BEGIN
    {_log(_OLD_SCOPES + " UNION " + _OLD_LINKED)}
    {_bump(_OLD_SCOPES, -1).replace("WHERE true", "WHERE OLD.status = 'published'")}
    {_bump(_OLD_LINKED, -1).replace("WHERE true", "WHERE OLD.status = 'published'")}
END;

CREATE TRIGGER feed_byline_insert AFTER INSERT ON article_authors BEGIN
    {_log(_AUTHOR_OF.format(row="NEW"))}
    {
    _bump(_AUTHOR_OF.format(row="NEW"), 1).replace(
        "WHERE true", "WHERE " + _STATUS_OF.format(row="NEW")
    )
}
END;

CREATE TRIGGER feed_byline_delete AFTER DELETE ON article_authors BEGIN
    {_log(_AUTHOR_OF.format(row="OLD"))}
    {
    _bump(_AUTHOR_OF.format(row="OLD"), -1).replace(
        "WHERE true", "WHERE " + _STATUS_OF.format(row="OLD")
    )
}
END;

CREATE TRIGGER feed_tagging_insert AFTER INSERT ON article_tags BEGIN
    {_log(_TAG_OF.format(row="NEW"))}
    {
    _bump(_TAG_OF.format(row="NEW"), 1).replace(
        "WHERE true", "WHERE " + _STATUS_OF.format(row="NEW")
    )
}
END;

CREATE TRIGGER feed_tagging_delete AFTER DELETE ON article_tags BEGIN
    {_log(_TAG_OF.format(row="OLD"))}
    {
    _bump(_TAG_OF.format(row="OLD"), -1).replace(
        "WHERE true", "WHERE " + _STATUS_OF.format(row="OLD")
    )
}
END;

-- Author and tag names appear in many feeds: rare edits, so they simply mark
-- every feed as changed. An issue's date and PDF appear in its own feed only.
CREATE TRIGGER feed_author_update AFTER UPDATE ON authors
WHEN NEW.slug IS NOT OLD.slug OR NEW.name IS NOT OLD.name OR NEW.url IS NOT OLD.url
  OR NEW.email IS NOT OLD.email OR NEW.bio IS NOT OLD.bio BEGIN
    UPDATE feed_counts SET key = NEW.slug WHERE kind = 'author' AND key = OLD.slug
       AND NEW.slug IS NOT OLD.slug;
    INSERT INTO feed_changes (kind, key) VALUES ('all', '');
END;
CREATE TRIGGER feed_tag_update AFTER UPDATE ON tags
WHEN NEW.slug IS NOT OLD.slug OR NEW.name IS NOT OLD.name BEGIN
    UPDATE feed_counts SET key = NEW.slug WHERE kind = 'tag' AND key = OLD.slug
       AND NEW.slug IS NOT OLD.slug;
    INSERT INTO feed_changes (kind, key) VALUES ('all', '');
END;
CREATE TRIGGER feed_issue_update AFTER UPDATE ON print_issues
WHEN NEW.date IS NOT OLD.date OR NEW.pdf_url IS NOT OLD.pdf_url
  OR NEW.number IS NOT OLD.number BEGIN
    INSERT INTO feed_changes (kind, key)
    VALUES ('issue', CAST(OLD.number AS TEXT)), ('issue', CAST(NEW.number AS TEXT));
END;
"""

# -- migration 3: the fetcher's sources and the sidebar's entries ---------------
#
# config.toml stays the one list of sources; a row here is the fetcher's memory
# of a configured URL (validators, schedule, health). Removing a source from
# the config stops its fetching; its row and entries stay until retention.

MIGRATION_3 = """
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    current_url TEXT,
    etag TEXT,
    last_modified TEXT,
    last_fetch TEXT,
    next_fetch TEXT,
    last_status INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at TEXT,
    last_seconds REAL,
    last_new INTEGER NOT NULL DEFAULT 0,
    last_updated INTEGER NOT NULL DEFAULT 0,
    retired_at TEXT,
    configured INTEGER NOT NULL DEFAULT 1,
    title TEXT,
    site_url TEXT
);

CREATE TABLE sidebar_entries (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    link TEXT NOT NULL,
    published TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    UNIQUE (source_id, key)
);
CREATE INDEX sidebar_entries_latest ON sidebar_entries (published, id);
CREATE INDEX sidebar_entries_by_source ON sidebar_entries (source_id, published, id);
"""

# -- migration 4: editors, API tokens, and the secret that signs sessions ----------
#
# Only hashes are stored. The signing secret lives in the store so that every
# worker process (and every restart) accepts the same session cookies.

MIGRATION_4 = """
CREATE TABLE editors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);

CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"""

# -- migration 5: admin sessions kept in the store, and shared login throttling ----
#
# A session is a row: the cookie carries a random 32-byte token and the store
# keeps only its SHA-256, so a copy of the store gives no way in. Logging out
# deletes the row, so a replayed cookie is refused; removing an editor deletes
# theirs (ON DELETE CASCADE), and so does changing their password.
#
# login_failures counts failed logins per key (a client address, or an address
# and a name), in the store so that every worker process shares one count.
# A window starts at a key's first failure and lasts the throttle's window;
# rows whose window is over are deleted by the next attempt.

MIGRATION_5 = f"""
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    editor_id INTEGER NOT NULL REFERENCES editors(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL CHECK (created_at GLOB {TIME_GLOB}),
    expires_at TEXT NOT NULL CHECK (expires_at GLOB {TIME_GLOB})
) WITHOUT ROWID;
CREATE INDEX sessions_by_editor ON sessions (editor_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    window_start TEXT NOT NULL CHECK (window_start GLOB {TIME_GLOB}),
    count INTEGER NOT NULL CHECK (count >= 0)
) WITHOUT ROWID;
CREATE INDEX login_failures_by_window ON login_failures (window_start);
"""

#: Index i holds the SQL that takes a store from version i to version i + 1.
# -- migration 6: when what was published last changed ------------------------------
#
# documents: each served document's ETag and the moment its bytes last changed,
# written by whichever worker first builds new bytes, so Last-Modified is the
# same in every worker and after a restart, and moves only when the bytes do
# (RFC 9110 section 8.8.2). scope_times: when each feed's scope was last
# touched, kept by a trigger on the change log, for the date of a feed that
# holds no article yet.

_NOW = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

#: Each scope's last change, from its articles (at migration, and after a bulk
#: load that bypassed the triggers), never later than the moment it runs: a
#: scheduled article's future ``updated`` would date an empty feed in the
#: future (the W3C validator's ImplausibleDate) and give its embargo away.
SEED_SCOPE_TIMES = f"""
DELETE FROM scope_times;
INSERT INTO scope_times (kind, key, changed_at)
    SELECT 'site', '', MIN(MAX(updated), {_NOW}) FROM articles HAVING COUNT(*) > 0;
INSERT INTO scope_times (kind, key, changed_at)
    SELECT 'section', section, MIN(MAX(updated), {_NOW}) FROM articles
     WHERE section IS NOT NULL GROUP BY section;
INSERT INTO scope_times (kind, key, changed_at)
    SELECT 'issue', CAST(issue AS TEXT), MIN(MAX(updated), {_NOW}) FROM articles
     WHERE issue IS NOT NULL GROUP BY issue;
INSERT INTO scope_times (kind, key, changed_at)
    SELECT 'author', au.slug, MIN(MAX(a.updated), {_NOW}) FROM article_authors AS aa
      JOIN authors AS au ON au.id = aa.author_id JOIN articles AS a ON a.id = aa.article_id
     GROUP BY au.slug;
INSERT INTO scope_times (kind, key, changed_at)
    SELECT 'tag', t.slug, MIN(MAX(a.updated), {_NOW}) FROM article_tags AS at
      JOIN tags AS t ON t.id = at.tag_id JOIN articles AS a ON a.id = at.article_id
     GROUP BY t.slug;
"""

MIGRATION_6 = f"""
CREATE TABLE documents (
    path TEXT PRIMARY KEY,
    etag TEXT NOT NULL,
    changed_at TEXT NOT NULL CHECK (changed_at GLOB {TIME_GLOB})
) WITHOUT ROWID;

CREATE TABLE scope_times (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    changed_at TEXT NOT NULL CHECK (changed_at GLOB {TIME_GLOB}),
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;

{SEED_SCOPE_TIMES}
CREATE TRIGGER scope_touched AFTER INSERT ON feed_changes WHEN NEW.kind <> 'all' BEGIN
    INSERT INTO scope_times (kind, key, changed_at) VALUES (NEW.kind, NEW.key, {_NOW})
    ON CONFLICT (kind, key) DO UPDATE SET changed_at = excluded.changed_at
     WHERE excluded.changed_at > changed_at;
END;
CREATE TRIGGER every_scope_touched AFTER INSERT ON feed_changes WHEN NEW.kind = 'all' BEGIN
    UPDATE scope_times SET changed_at = {_NOW} WHERE changed_at < {_NOW};
END;
"""

# -- migration 7: the size of a print issue's PDF -----------------------------------
#
# RSS 2.0 requires an enclosure's length in bytes; the CMS knows it (or the
# demo does), and a reader shows it before downloading.

MIGRATION_7 = """
ALTER TABLE print_issues ADD COLUMN pdf_length INTEGER CHECK (pdf_length IS NULL OR pdf_length > 0);
CREATE TRIGGER feed_issue_pdf_length AFTER UPDATE OF pdf_length ON print_issues
WHEN NEW.pdf_length IS NOT OLD.pdf_length BEGIN
    INSERT INTO feed_changes (kind, key) VALUES ('issue', CAST(NEW.number AS TEXT));
END;
"""

# -- migration 8: sidebar entries keep their real date, and sources their language --
#
# An entry's date is the one its feed gave, in the future or not, and NULL when
# it gave none (it used to be clamped to the fetch time, which moved it on every
# fetch, and an undated entry took its first-seen time). The sidebar orders
# entries by SIDEBAR_ORDER: the date when it is known and not after the entry
# was first seen, else the first sight, so a future-dated entry cannot sit on
# top and an undated one is as new as when it appeared. SQLite cannot drop NOT
# NULL from a column, so the table is rebuilt (its rows and ids kept); its
# indexes follow the new order. ``language`` is an entry's own BCP 47 tag when
# it declares one unlike its source's (NULL: as its source); ``sources.language``
# is the source's.

#: The sidebar's order key for a sidebar_entries row, as its indexes spell it
#: (a query must spell it the same way for SQLite to use them).
SIDEBAR_ORDER = "min(coalesce(published, first_seen), first_seen)"

MIGRATION_8 = f"""
CREATE TABLE sidebar_entries_new (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    link TEXT NOT NULL,
    published TEXT CHECK (published IS NULL OR published GLOB {TIME_GLOB}),
    first_seen TEXT NOT NULL CHECK (first_seen GLOB {TIME_GLOB}),
    changed_at TEXT NOT NULL,
    language TEXT,
    UNIQUE (source_id, key)
);
INSERT INTO sidebar_entries_new (id, source_id, key, title, link, published, first_seen,
                                 changed_at)
    SELECT id, source_id, key, title, link, published, first_seen, changed_at
      FROM sidebar_entries;
DROP TABLE sidebar_entries;
ALTER TABLE sidebar_entries_new RENAME TO sidebar_entries;
CREATE INDEX sidebar_entries_latest
    ON sidebar_entries (min(coalesce(published, first_seen), first_seen), id);
CREATE INDEX sidebar_entries_by_source
    ON sidebar_entries (source_id, min(coalesce(published, first_seen), first_seen), id);
ALTER TABLE sources ADD COLUMN language TEXT;
"""

MIGRATIONS: tuple[str, ...] = (
    MIGRATION_1,
    MIGRATION_2,
    MIGRATION_3,
    MIGRATION_4,
    MIGRATION_5,
    MIGRATION_6,
    MIGRATION_7,
    MIGRATION_8,
    MIGRATION_9,
    MIGRATION_10,
    MIGRATION_11,
    MIGRATION_12,
)

SCHEMA_VERSION = len(MIGRATIONS)
