"""The demo publication: realistic enough to show off, and a normal store underneath.

The demo bypasses the store's writer for speed (indexes and triggers dropped,
rows bulk-loaded, both put back), so these tests check the result the way the
server will use it: through Store.open and Store.latest, plus the raw
invariants the triggers would otherwise have kept.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import sqlite3
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate.clock import ManualClock
from syndicate.config import Config, SectionConfig, load_config
from syndicate.demo import DemoRefused, DemoReport, generate_demo
from syndicate.errors import SyndicateError
from syndicate.models import ArticleIn, Author, Tag, from_store_time
from syndicate.store import SCHEMA_VERSION, Scope, Store
from syndicate.store.inuse import open_elsewhere
from syndicate.store.migrate import statements
from syndicate.store.schema import RECOUNT
from syndicate.text import slugify
from tests.support import fill_store, run_cli, running_server, write_config

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 5, 20, 14, 30, tzinfo=UTC)
ARABIC = re.compile("[\u0600-\u06ff]")


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(ROOT / "config.toml")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, config: Config) -> tuple[Path, DemoReport]:
    """One default-size demo shared by the read-only tests (it takes about a second)."""
    path = tmp_path_factory.mktemp("demo") / "store.db"
    written: list[int] = []
    report = generate_demo(path, config, now=NOW, progress=written.append)
    assert sum(written) == report.articles
    return path, report


@pytest.fixture
def db(demo: tuple[Path, DemoReport]) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{demo[0]}?mode=ro", uri=True)
    yield conn
    conn.close()


def rows(conn: sqlite3.Connection, sql: str, *params: Any) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def one(conn: sqlite3.Connection, sql: str, *params: Any) -> Any:
    return conn.execute(sql, params).fetchone()[0]


def digest(folder: Path) -> dict[str, str]:
    """Every file in a folder with a hash of its bytes: "left untouched" made checkable."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# -- what the publication looks like ---------------------------------------------


def test_report_matches_the_file(demo: tuple[Path, DemoReport], db: sqlite3.Connection):
    _, report = demo
    assert report.articles == one(db, "SELECT COUNT(*) FROM articles") == 2400
    assert report.authors == one(db, "SELECT COUNT(*) FROM authors")
    assert report.issues == one(db, "SELECT COUNT(*) FROM print_issues")
    assert report.tags == one(db, "SELECT COUNT(*) FROM tags")
    assert report.seconds > 0


def test_authors_are_many_varied_and_uniquely_slugged(db: sqlite3.Connection):
    authors = rows(db, "SELECT slug, name, bio FROM authors")
    names = [name for _, name, _ in authors]
    assert len(authors) >= 60
    assert sum(bool(ARABIC.search(n)) for n in names) >= 5
    assert {"سلمى حداد", "José Martínez", "Zoë Øberg"} <= set(names)
    assert (
        sum(n != n.encode("ascii", "ignore").decode() and not ARABIC.search(n) for n in names) >= 5
    )
    slugs = [slug for slug, _, _ in authors]
    assert len(set(slugs)) == len(slugs)
    assert all(slug == slugify(name) for slug, name, _ in authors)
    assert all(0 < len(bio) < 120 for _, _, bio in authors)


def test_articles_span_years_in_weekly_issues(db: sqlite3.Connection, config: Config):
    first, last = rows(db, "SELECT MIN(published), MAX(published) FROM articles")[0]
    assert from_store_time(last) - from_store_time(first) >= timedelta(days=3 * 365)
    issues = rows(db, "SELECT number, date, pdf_url FROM print_issues ORDER BY number")
    numbers = [n for n, _, _ in issues]
    assert numbers == list(range(numbers[0], numbers[-1] + 1))
    assert 2094 in numbers
    dates = [date.fromisoformat(d) for _, d, _ in issues]
    assert all(b - a == timedelta(days=7) for a, b in itertools.pairwise(dates))
    assert all(url == f"{config.site.root}/pdf/issue-{n}.pdf" for n, _, url in issues)
    # Every article is in the issue of its week (Monday to Sunday around the Thursday date).
    for published, issue_date in rows(
        db,
        "SELECT a.published, p.date FROM articles AS a JOIN print_issues AS p "
        "ON p.number = a.issue",
    ):
        offset = (from_store_time(published).date() - date.fromisoformat(issue_date)).days
        assert -3 <= offset <= 3
    assert one(db, "SELECT COUNT(*) FROM articles WHERE issue IS NULL") == 0


def test_ids_are_chronological_and_slugs_unique(db: sqlite3.Connection):
    by_id = [r[0] for r in rows(db, "SELECT published FROM articles ORDER BY id")]
    assert by_id == sorted(by_id)
    ids = [r[0] for r in rows(db, "SELECT id FROM articles ORDER BY id")]
    assert ids == list(range(1, len(ids) + 1))
    assert one(db, "SELECT seq FROM sqlite_sequence WHERE name = 'articles'") == len(ids)
    slugs = [r[0] for r in rows(db, "SELECT slug FROM articles")]
    assert len(set(slugs)) == len(slugs)
    assert all(slugify(s) == s for s in slugs)


def test_headlines_read_like_news_and_rarely_repeat(db: sqlite3.Connection):
    titles = [r[0] for r in rows(db, "SELECT title FROM articles")]
    assert len(set(titles)) > 0.98 * len(titles)
    assert all(t.lstrip("'")[0].isupper() and 10 < len(t) < 100 for t in titles)
    assert any(re.fullmatch(r"\w[\w ]* march in \w+ against .+", t) for t in titles)


def test_bylines_tags_and_statuses(db: sqlite3.Connection):
    total = one(db, "SELECT COUNT(*) FROM articles")
    per_article = dict(rows(db, "SELECT article_id, COUNT(*) FROM article_authors GROUP BY 1"))
    assert len(per_article) == total  # everyone has a byline
    shared = sum(n > 1 for n in per_article.values())
    assert 0.08 * total < shared < 0.25 * total
    assert max(per_article.values()) == 3
    tags = dict(rows(db, "SELECT article_id, COUNT(*) FROM article_tags GROUP BY 1"))
    assert len(tags) == total
    assert set(tags.values()) == {1, 2, 3, 4}
    assert 35 <= one(db, "SELECT COUNT(*) FROM tags") <= 50
    drafts = one(db, "SELECT COUNT(*) FROM articles WHERE status = 'draft'")
    assert 1 <= drafts <= 20
    scheduled = rows(
        db,
        "SELECT published FROM articles WHERE status = 'published' AND published > ?",
        NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert 1 <= len(scheduled) <= 3
    assert all(from_store_time(p) - NOW < timedelta(days=5) for (p,) in scheduled)
    assert one(db, "SELECT COUNT(*) FROM articles WHERE updated < published") == 0


def test_sections_are_the_configured_ones(db: sqlite3.Connection, config: Config):
    used = {r[0] for r in rows(db, "SELECT DISTINCT section FROM articles")}
    assert used == {s.slug for s in config.sections}


def test_bodies_have_paragraphs_relative_links_and_images(db: sqlite3.Connection):
    articles = rows(db, "SELECT slug, body, standfirst, image_url, image_alt FROM articles")
    slugs = {slug for slug, *_ in articles}
    with_images = 0
    for slug, body, standfirst, image_url, image_alt in articles:
        assert body.count("<p>") >= 3, slug
        assert 300 < len(body.encode()) < 1500, slug
        assert standfirst
        for target in re.findall(r'<a href="/articles/([^"]+)">', body):
            assert target in slugs
            assert target != slug
        if image_url:
            with_images += 1
            assert image_url.startswith(("/images/", "http://127.0.0.1:8080/images/"))
            assert image_alt
    assert with_images > 0.7 * len(articles)
    bodies = [body for _, body, *_ in articles]
    linked = sum('<a href="/articles/' in b for b in bodies)
    assert linked >= len(bodies) - 1  # all but the very first article link back
    figures = [b for b in bodies if '<img src="/images/' in b]
    assert len(figures) > 0.4 * len(bodies)
    assert all(
        re.search(r'srcset="/images/\S+-640\.svg 640w, /images/\S+-1280\.svg 1280w"', b)
        for b in figures
    )
    assert any(image and image.startswith("http") for _, _, _, image, _ in articles)
    assert any(image and image.startswith("/") for _, _, _, image, _ in articles)


# -- a normal store underneath ----------------------------------------------------


def test_schema_matches_a_freshly_migrated_store(demo: tuple[Path, DemoReport], tmp_path: Path):
    fresh = tmp_path / "fresh.db"
    Store.open(fresh).close()
    sql = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    with sqlite3.connect(fresh) as a, sqlite3.connect(demo[0]) as b:
        assert rows(a, sql) == rows(b, sql)
        assert one(b, "PRAGMA user_version") == SCHEMA_VERSION
        assert one(b, "PRAGMA journal_mode") == "wal"


def test_integrity_and_copied_publication_times(db: sqlite3.Connection):
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(db, "PRAGMA foreign_key_check") == []
    for table in ("article_authors", "article_tags"):
        assert (
            one(
                db,
                f"SELECT COUNT(*) FROM {table} AS x JOIN articles AS a ON a.id = x.article_id "
                "WHERE x.published IS NOT a.published",
            )
            == 0
        )


def test_feed_counts_match_a_recount(demo: tuple[Path, DemoReport]):
    conn = sqlite3.connect(demo[0], isolation_level=None)
    try:
        query = "SELECT kind, key, n FROM feed_counts ORDER BY kind, key"
        before = rows(conn, query)
        conn.execute("BEGIN")
        for statement in statements(RECOUNT):
            conn.execute(statement)
        assert rows(conn, query) == before
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    assert before


def test_feeds_read_every_scope(demo: tuple[Path, DemoReport]):
    with Store.open(demo[0], create=False) as store:
        assert store.check() == []
        site = store.latest(Scope("site"), NOW, 20)
        assert len(site) == 20
        assert all(a.published <= NOW and a.status == "published" for a in site)
        newest = site[0]
        arabic = next(
            slug
            for slug, name in store.conn.execute("SELECT slug, name FROM authors")
            if ARABIC.search(name)
        )
        scopes = [
            Scope("section", newest.section or ""),
            Scope("author", newest.authors[0].slug),
            Scope("author", arabic),
            Scope("tag", newest.tags[0].slug),
            Scope("issue", str(newest.issue.number if newest.issue else 0)),
        ]
        for scope in scopes:
            found = store.latest(scope, NOW, 10)
            assert found, scope
            assert [a.published for a in found] == sorted(
                (a.published for a in found), reverse=True
            )
        later = store.latest(Scope("site"), NOW + timedelta(days=5), 5)
        assert later[0].published > NOW  # the scheduled pieces appear once their time comes


def test_triggers_work_again_after_the_bulk_load(tmp_path: Path, config: Config):
    path = tmp_path / "store.db"
    generate_demo(path, config, articles=50, now=NOW)
    record = ArticleIn(
        slug="a-late-report",
        title="A late report",
        standfirst="",
        body="<p>Text</p>",
        section="news",
        issue=None,
        published=NOW,
        updated=None,
        authors=(Author(slug="jose-martinez", name="José Martínez"),),
        tags=(Tag(slug="strikes", name="Strikes"),),
        image=None,
        status="published",
    )
    with Store.open(path) as store:
        store.upsert_article(record, NOW)
        stored = store.article("a-late-report")
        assert stored is not None
        assert stored.id == 51
        copies = store.conn.execute(
            "SELECT published FROM article_authors WHERE article_id = 51 UNION ALL "
            "SELECT published FROM article_tags WHERE article_id = 51"
        ).fetchall()
        assert copies == [("2026-05-20T14:30:00Z",)] * 2
        assert store.latest(Scope("author", "jose-martinez"), NOW, 1)[0].slug == "a-late-report"


# -- refusing, replacing, failing -------------------------------------------------


def test_refuses_a_store_with_articles_and_leaves_it_byte_identical(tmp_path: Path, config: Config):
    path = tmp_path / "store.db"
    generate_demo(path, config, articles=50, now=NOW)
    before = digest(tmp_path)
    with pytest.raises(DemoRefused, match=r"already holds 50 articles; pass --replace"):
        generate_demo(path, config, articles=80, now=NOW)
    assert digest(tmp_path) == before


def test_refuses_a_file_that_is_not_a_store(tmp_path: Path, config: Config):
    path = tmp_path / "store.db"
    path.write_bytes(b"not a database, but someone's file\n" * 100)
    before = digest(tmp_path)
    with pytest.raises(DemoRefused, match="not a syndicate store"):
        generate_demo(path, config, articles=10, now=NOW)
    assert digest(tmp_path) == before


def test_replace_overwrites(tmp_path: Path, config: Config):
    path = tmp_path / "store.db"
    generate_demo(path, config, articles=50, now=NOW)
    with Store.open(path) as store:  # a reader holding the old file open leaves a WAL behind
        assert store.count("articles") == 50
        report = generate_demo(path, config, articles=120, now=NOW, replace=True)
    assert report.articles == 120
    with Store.open(path) as store:
        assert store.count("articles") == 120
        assert store.check() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.db"]


def test_an_empty_store_needs_no_replace(tmp_path: Path, config: Config):
    path = tmp_path / "store.db"
    Store.open(path).close()
    assert generate_demo(path, config, articles=30, now=NOW).articles == 30


@pytest.mark.parametrize("where", ["midway", "at the rename"])
def test_a_failure_leaves_no_temp_file_and_the_old_store_intact(
    tmp_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch, where: str
):
    path = tmp_path / "store.db"
    generate_demo(path, config, articles=40, now=NOW)
    before = digest(tmp_path)

    def boom(*args: object) -> None:
        raise RuntimeError("disk on fire")

    progress = None
    if where == "midway":
        progress = boom
    else:
        monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        generate_demo(path, config, articles=300, now=NOW, replace=True, progress=progress)
    monkeypatch.undo()
    assert digest(tmp_path) == before
    with Store.open(path) as store:
        assert store.count("articles") == 40


def test_refusals_are_syndicate_errors():
    """The CLI prints a SyndicateError as one line; a refusal is one."""
    assert issubclass(DemoRefused, SyndicateError)


# -- determinism and odd sizes ----------------------------------------------------


def dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def test_same_seed_same_publication(tmp_path: Path, config: Config):
    a, b, c = (tmp_path / f"{name}.db" for name in "abc")
    first = generate_demo(a, config, articles=300, now=NOW, seed=7)
    second = generate_demo(b, config, articles=300, now=NOW, seed=7)
    generate_demo(c, config, articles=300, now=NOW, seed=8)
    assert (first.articles, first.authors, first.issues, first.tags) == (
        second.articles,
        second.authors,
        second.issues,
        second.tags,
    )
    assert dump(a) == dump(b)
    slugs = "SELECT slug FROM articles ORDER BY id LIMIT 20"
    with sqlite3.connect(a) as x, sqlite3.connect(c) as y:
        assert rows(x, slugs) != rows(y, slugs)


def test_the_clock_gives_now_and_times_the_run(tmp_path: Path, config: Config):
    """Without ``now`` the clock's now anchors the calendar; the clock also times the run."""
    clock = ManualClock(NOW)
    report = generate_demo(tmp_path / "a.db", config, articles=300, seed=7, clock=clock)
    generate_demo(tmp_path / "b.db", config, articles=300, seed=7, now=NOW)
    assert report.seconds == 0  # a manual clock that nobody moved
    assert dump(tmp_path / "a.db") == dump(tmp_path / "b.db")


def test_the_demo_package_writes_no_sql_and_reads_no_clock():
    """SQL lives in syndicate/store (the bulk writer); time comes from the Clock passed in."""
    package = ROOT / "syndicate" / "demo"
    forbidden = re.compile(
        r"sqlite3|\.execute\(|executemany|datetime\.now|time\.time\(\)|time\.monotonic\(\)"
        r"|utcnow|date\.today"
    )
    modules = sorted(package.glob("*.py"))
    assert modules
    for module in modules:
        text = module.read_text(encoding="utf-8")
        assert not forbidden.search(text), module.name
        assert len(text.splitlines()) <= 600, module.name


@pytest.mark.parametrize("articles", [1, 2, 5])
def test_tiny_demos_work(tmp_path: Path, config: Config, articles: int):
    path = tmp_path / "store.db"
    assert generate_demo(path, config, articles=articles, now=NOW).articles == articles
    with Store.open(path) as store:
        assert store.check() == []
        assert store.latest(Scope("site"), NOW, 10)


def test_sections_follow_the_config(tmp_path: Path, config: Config):
    sport = replace(config, sections=(SectionConfig(slug="sport", title="Sport"),))
    generate_demo(tmp_path / "sport.db", sport, articles=60, now=NOW)
    none = replace(config, sections=())
    generate_demo(tmp_path / "none.db", none, articles=60, now=NOW)
    with sqlite3.connect(tmp_path / "sport.db") as conn:
        assert rows(conn, "SELECT DISTINCT section FROM articles") == [("sport",)]
    with sqlite3.connect(tmp_path / "none.db") as conn:
        assert rows(conn, "SELECT DISTINCT section FROM articles") == [(None,)]


def test_links_follow_the_configured_article_path(tmp_path: Path, config: Config):
    site = replace(config.site, article_path="/{id}/{slug}")
    generate_demo(tmp_path / "s.db", replace(config, site=site), articles=40, now=NOW)
    with sqlite3.connect(tmp_path / "s.db") as conn:
        known = dict(rows(conn, "SELECT slug, id FROM articles"))
        links = re.findall(
            r'href="/(\d+)/([^"]+)"',
            " ".join(r[0] for r in rows(conn, "SELECT body FROM articles")),
        )
    assert links
    assert all(known[slug] == int(aid) for aid, slug in links)


def test_naive_now_and_empty_demo_are_rejected(tmp_path: Path, config: Config):
    with pytest.raises(ValueError, match="naive"):
        generate_demo(tmp_path / "s.db", config, now=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="at least one"):
        generate_demo(tmp_path / "s.db", config, articles=0, now=NOW)
    assert list(tmp_path.iterdir()) == []


def test_a_store_open_in_another_process_is_never_replaced(tmp_path: Path):
    """`demo --replace` under a running server would pull its -wal and -shm away."""
    config_path = write_config(tmp_path)
    store = tmp_path / "store.db"
    fill_store(store, 30)
    with running_server(config_path, "--workers", "1", "--no-fetch") as root:
        assert open_elsewhere(store)
        refused = run_cli("--config", str(config_path), "demo", "--replace", "--articles", "5")
        assert refused.returncode == 1
        assert "is open in another process" in refused.stderr
        assert "stop it before replacing the store" in refused.stderr
        with Store.open(store, create=False) as opened:
            assert opened.count("articles") == 30
        with urllib.request.urlopen(f"{root}/feed.json", timeout=10) as reply:
            assert len(json.load(reply)["items"]) == 30
    assert not open_elsewhere(store)
    replaced = run_cli("--config", str(config_path), "demo", "--replace", "--articles", "5")
    assert replaced.returncode == 0, replaced.stderr
    with Store.open(store, create=False) as opened:
        assert opened.count("articles") == 5


def test_open_elsewhere_is_false_for_a_closed_or_missing_store(tmp_path: Path):
    assert not open_elsewhere(tmp_path / "missing.db")
    store = tmp_path / "store.db"
    fill_store(store, 3)
    with Store.open(store, create=False) as opened:
        opened.count("articles")
    assert not open_elsewhere(store)


def test_no_scope_is_dated_after_the_demo_was_made(tmp_path: Path, config: Config):
    """A scheduled article's future ``updated`` must not date its (empty) feed in the future."""
    path = tmp_path / "demo.db"
    generate_demo(path, config, articles=200)  # now: the wall clock, as `syndicate demo`
    made = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn = sqlite3.connect(path)
    try:
        future = one(conn, "SELECT COUNT(*) FROM articles WHERE updated > ?", made)
        assert future >= 1, "the demo schedules articles: the case this test is about"
        assert one(conn, "SELECT MAX(changed_at) FROM scope_times") <= made
    finally:
        conn.close()
