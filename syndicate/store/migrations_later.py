"""Migrations 9 to 12: digest editions, the admin's audit log and subscriber
counts, WebSub's subscriptions and queues, and the archive months' change log.

They follow syndicate.store.schema's rules (one transaction each, never
edited once shipped); they live here only to keep each file readable.
syndicate.store.schema lists them in MIGRATIONS, in this order.
"""

from __future__ import annotations

from syndicate.store.timeglob import TIME_GLOB

# -- migration 9: digest editions, frozen at their cut-off -------------------------
#
# One row per digest and edition date, written once by the leader worker when
# the cut-off passes (INSERT OR IGNORE: a second writer changes nothing) and
# never updated: the edition's bytes (the feed item's HTML, the email page, its
# plain text) are kept whole, so a later edit of an article cannot rewrite
# yesterday's email. An edition with no article is kept too (articles = 0,
# nothing else), so it is not considered again, and is never published. A
# published edition logs its digest's scope in the change log, so every worker
# drops the digest's feeds and the change door announces them.

MIGRATION_9 = f"""
CREATE TABLE digest_editions (
    slug TEXT NOT NULL,
    edition TEXT NOT NULL CHECK (edition GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    cutoff TEXT NOT NULL CHECK (cutoff GLOB {TIME_GLOB}),
    period_start TEXT NOT NULL CHECK (period_start GLOB {TIME_GLOB}),
    articles INTEGER NOT NULL CHECK (articles >= 0),
    title TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    content_html TEXT NOT NULL DEFAULT '',
    page_html TEXT NOT NULL DEFAULT '',
    page_text TEXT NOT NULL DEFAULT '',
    frozen_at TEXT NOT NULL CHECK (frozen_at GLOB {TIME_GLOB}),
    PRIMARY KEY (slug, edition)
) WITHOUT ROWID;
CREATE TRIGGER digest_edition_frozen AFTER INSERT ON digest_editions
WHEN NEW.articles > 0 BEGIN
    INSERT INTO feed_changes (kind, key) VALUES ('digest', NEW.slug);
END;
"""

# -- migration 10: the admin's audit log, and feed subscriber counts ---------------
#
# audit_log: who changed the config through /admin, what and when; a row is
# written in the same transaction as the edit, so none claims an edit that did
# not happen. feed_aggregators: the subscribers an aggregator reports in its
# User-Agent, the latest figure per day, feed path and aggregator (each worker
# flushes its own; the newest report wins). feed_readers: other clients, one
# row per salted hash of address and User-Agent, kept for the day only: each
# day's hashes are counted into feed_reader_days and deleted with that day's
# salt (reader_salts) once the day is over.

MIGRATION_10 = f"""
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL CHECK (at GLOB {TIME_GLOB}),
    editor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    summary TEXT NOT NULL
);

CREATE TABLE feed_aggregators (
    day TEXT NOT NULL,
    path TEXT NOT NULL,
    aggregator TEXT NOT NULL,
    subscribers INTEGER NOT NULL CHECK (subscribers >= 0),
    seen_at TEXT NOT NULL CHECK (seen_at GLOB {TIME_GLOB}),
    PRIMARY KEY (day, path, aggregator)
) WITHOUT ROWID;

CREATE TABLE feed_readers (
    day TEXT NOT NULL,
    path TEXT NOT NULL,
    reader BLOB NOT NULL,
    PRIMARY KEY (day, path, reader)
) WITHOUT ROWID;

CREATE TABLE feed_reader_days (
    day TEXT NOT NULL,
    path TEXT NOT NULL,
    readers INTEGER NOT NULL CHECK (readers >= 0),
    PRIMARY KEY (day, path)
) WITHOUT ROWID;

CREATE TABLE reader_salts (
    day TEXT PRIMARY KEY,
    salt BLOB NOT NULL
);
"""


# -- migration 11: WebSub subscriptions and what is owed to them --------------------
#
# The built-in hub's subscribers, one row per (topic, callback) as the
# Recommendation keys them (section 5.1: a new subscribe renews the lease),
# and at most one pending delivery per subscription: a delivery names the
# bytes (their ETag) owed, and a newer change replaces it, since a
# subscriber wants the topic as it is now, not every state in between. A
# row leaves the queue only once its callback took it, so a delivery cut
# short by kill -9 is sent after the restart. Announcements to an outside
# hub queue the same way, one row per topic. Times are epoch seconds (REAL):
# retries are scheduled to the tenth of a second, and only syndicate writes
# these tables.

MIGRATION_11 = """
CREATE TABLE websub_subscriptions (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    callback TEXT NOT NULL,
    secret TEXT,
    lease_seconds INTEGER NOT NULL CHECK (lease_seconds > 0),
    since REAL NOT NULL,
    expires_at REAL NOT NULL,
    last_etag TEXT,
    last_delivery_at REAL,
    last_status TEXT,
    UNIQUE (topic, callback)
);
CREATE INDEX websub_subscriptions_live ON websub_subscriptions (topic, expires_at);

CREATE TABLE websub_deliveries (
    subscription_id INTEGER PRIMARY KEY
        REFERENCES websub_subscriptions(id) ON DELETE CASCADE,
    etag TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    first_at REAL NOT NULL,
    due_at REAL NOT NULL
);
CREATE INDEX websub_deliveries_due ON websub_deliveries (due_at);

CREATE TABLE websub_announcements (
    topic TEXT PRIMARY KEY,
    hub TEXT NOT NULL,
    pending INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    first_at REAL,
    due_at REAL,
    last_at REAL,
    last_status TEXT
) WITHOUT ROWID;
"""

# -- migration 12: which archive periods a write touched ------------------------------
#
# Archive documents (RFC 5005 section 4) hold one calendar month of a feed each. feed_changes says
# which feeds a write touched; this log says which months, so the change door
# can look at exactly the archives that may have moved (an edit of a 2019
# article touches 2019-05 and no other month) instead of rebuilding a feed's
# whole history. Written by triggers, so writes by any process are seen; only
# published articles (before or after the write) touch an archive. It keeps
# its own tail short: every thousandth row prunes what is 10,000 rows old.

_PERIOD = "substr({row}.published, 1, 7)"
_ARTICLE_PERIOD = "(SELECT substr(published, 1, 7) FROM articles WHERE id = {row}.article_id)"
_ARTICLE_PUBLISHED = "(SELECT status FROM articles WHERE id = {row}.article_id) = 'published'"

MIGRATION_12 = f"""
CREATE TABLE archive_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    period TEXT NOT NULL
);
CREATE TRIGGER archive_article_insert AFTER INSERT ON articles
WHEN NEW.status = 'published' BEGIN
    INSERT INTO archive_changes (period) VALUES ({_PERIOD.format(row="NEW")});
END;
CREATE TRIGGER archive_article_update AFTER UPDATE ON articles
WHEN NEW.status = 'published' OR OLD.status = 'published' BEGIN
    INSERT INTO archive_changes (period) SELECT {_PERIOD.format(row="OLD")}
     WHERE OLD.status = 'published';
    INSERT INTO archive_changes (period) SELECT {_PERIOD.format(row="NEW")}
     WHERE NEW.status = 'published' AND (OLD.status <> 'published'
        OR {_PERIOD.format(row="NEW")} <> {_PERIOD.format(row="OLD")});
END;
CREATE TRIGGER archive_article_delete BEFORE DELETE ON articles
WHEN OLD.status = 'published' BEGIN
    INSERT INTO archive_changes (period) VALUES ({_PERIOD.format(row="OLD")});
END;
CREATE TRIGGER archive_byline_insert AFTER INSERT ON article_authors
WHEN {_ARTICLE_PUBLISHED.format(row="NEW")} BEGIN
    INSERT INTO archive_changes (period) VALUES ({_ARTICLE_PERIOD.format(row="NEW")});
END;
CREATE TRIGGER archive_byline_delete AFTER DELETE ON article_authors
WHEN {_ARTICLE_PUBLISHED.format(row="OLD")} BEGIN
    INSERT INTO archive_changes (period) VALUES ({_ARTICLE_PERIOD.format(row="OLD")});
END;
CREATE TRIGGER archive_tagging_insert AFTER INSERT ON article_tags
WHEN {_ARTICLE_PUBLISHED.format(row="NEW")} BEGIN
    INSERT INTO archive_changes (period) VALUES ({_ARTICLE_PERIOD.format(row="NEW")});
END;
CREATE TRIGGER archive_tagging_delete AFTER DELETE ON article_tags
WHEN {_ARTICLE_PUBLISHED.format(row="OLD")} BEGIN
    INSERT INTO archive_changes (period) VALUES ({_ARTICLE_PERIOD.format(row="OLD")});
END;
CREATE TRIGGER archive_changes_prune AFTER INSERT ON archive_changes
WHEN NEW.seq % 1000 = 0 BEGIN
    DELETE FROM archive_changes WHERE seq <= NEW.seq - 10000;
END;
"""
