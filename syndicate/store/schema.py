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

TIME_GLOB = "'[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'"

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

#: Index i holds the SQL that takes a store from version i to version i + 1.
MIGRATIONS: tuple[str, ...] = (MIGRATION_1,)

SCHEMA_VERSION = len(MIGRATIONS)
