"""Issue 12, point 15: sidebar entries keep their real dates.

An entry dated in the future keeps that date and stands in the sidebar where
it was first seen; an undated one keeps an unknown date (NULL) and stands at
its first sight too; a feed fetched again unchanged writes nothing and changes
no sidebar document. Through the real runner, the store, the migration that
made ``published`` nullable, and the sidebar's HTML and JSON.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from syndicate.clock import ManualClock
from syndicate.config import Config, parse_config
from syndicate.documents.sidebar import build_sidebar, render_sidebar_html, render_sidebar_json
from syndicate.models import CleanEntry, Validators
from syndicate.store import SCHEMA_VERSION, Store
from syndicate.store.migrate import statements
from syndicate.store.schema import MIGRATIONS
from syndicate.store.sources import SidebarItem, Sources
from tests.outside_server import Document, Outside
from tests.support import MINIMAL_CONFIG
from tests.test_fetch_runner import run, write_config

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def rfc822(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def rss(*items: tuple[str, datetime | None]) -> bytes:
    """A small RSS 2.0 document: (title, date or None) per item, GUIDs from the titles."""
    body = "".join(
        f"<item><title>{title}</title><link>https://ahead.example/{i}</link>"
        f'<guid isPermaLink="false">{title}</guid>'
        + (f"<pubDate>{rfc822(when)}</pubDate>" if when else "")
        + "</item>"
        for i, (title, when) in enumerate(items)
    )
    return (
        '<rss version="2.0"><channel><title>Ahead</title><link>https://ahead.example/</link>'
        f"{body}</channel></rss>"
    ).encode()


AHEAD = rss(
    ("Embargoed until Wednesday", T0 + 2 * DAY),
    ("No date at all", None),
    ("An hour ago", T0 - HOUR),
)


@pytest.fixture
async def outside(aiohttp_server: Any) -> Outside:
    found = await Outside.start(aiohttp_server)
    # No Last-Modified: the only validator is the ETag, which a test may change.
    found.documents["/ahead.xml"] = Document(AHEAD, etag='"v1"', last_modified=None)
    return found


def sidebar_changes(config: Config) -> int:
    with Store.open(config.store_path) as store:
        return int(
            store.conn.execute(
                "SELECT COUNT(*) FROM feed_changes WHERE kind = 'sidebar'"
            ).fetchone()[0]
        )


def entry_rows(config: Config) -> list[tuple[Any, ...]]:
    with Store.open(config.store_path) as store:
        return [
            tuple(row) for row in store.conn.execute("SELECT * FROM sidebar_entries ORDER BY id")
        ]


def latest(config: Config) -> list[SidebarItem]:
    with Store.open(config.store_path) as store:
        return Sources(store).latest(50, {s.url: 20 for s in config.sidebar.sources})


# -- through the runner -------------------------------------------------------------


async def test_a_future_date_is_kept_and_the_entry_stands_where_it_was_first_seen(
    outside: Outside, tmp_path: Path
):
    config = write_config(tmp_path, outside, {"Ahead": "/ahead.xml", "Later": "/later.xml"})
    clock = ManualClock(T0)
    await run(config, clock=clock)  # "Later" is not served yet: a 404, nothing stored
    clock.advance(DAY)
    outside.documents["/later.xml"] = Document(rss(("Filed this morning", T0 + DAY - HOUR)))
    await run(config, everything=True, clock=clock)

    items = latest(config)
    # Before: the embargoed entry was clamped to each fetch time and topped the sidebar.
    assert [item.title for item in items] == [
        "Filed this morning",  # T0 + 23 h
        "No date at all",  # first seen at T0
        "Embargoed until Wednesday",  # first seen at T0 (ties go to the later row)
        "An hour ago",  # T0 - 1 h
    ]
    by_title = {item.title: item for item in items}
    embargoed = by_title["Embargoed until Wednesday"]
    assert embargoed.published == T0 + 2 * DAY, "the real date, not the fetch time"
    assert (embargoed.first_seen, embargoed.shown_at) == (T0, T0)
    undated = by_title["No date at all"]
    assert (undated.published, undated.first_seen, undated.shown_at) == (None, T0, T0)

    with Store.open(config.store_path) as store:
        document = json.loads(build_sidebar(config, store, "json", T0 + DAY).body)
    published = {item["title"]: item["published"] for item in document["items"]}
    assert published["Embargoed until Wednesday"] == "2025-03-05T09:00:00Z"
    assert published["No date at all"] is None
    assert published["An hour ago"] == "2025-03-03T08:00:00Z"


@pytest.mark.parametrize("how", ["new etag, same bytes", "validators forgotten"])
async def test_fetching_an_unchanged_feed_again_changes_nothing(
    outside: Outside, tmp_path: Path, how: str
):
    config = write_config(tmp_path, outside, {"Ahead": "/ahead.xml"})
    clock = ManualClock(T0)
    (first,) = await run(config, clock=clock)
    assert (first.outcome, first.new) == ("updated", 3)
    changes, entries = sidebar_changes(config), entry_rows(config)

    if how == "new etag, same bytes":
        outside.documents["/ahead.xml"].etag = '"v2"'
    else:
        with Store.open(config.store_path) as store:
            store.conn.execute("UPDATE sources SET etag = NULL, last_modified = NULL")
    clock.advance(HOUR)
    outside.reset()
    (again,) = await run(config, everything=True, clock=clock)

    assert outside.statuses[200] == 1, "a full answer, parsed again"
    assert (again.outcome, again.status, again.new, again.updated) == ("updated", 200, 0, 0)
    assert entry_rows(config) == entries, "no entry rewritten"
    assert sidebar_changes(config) == changes, "no sidebar change logged, no document dropped"


# -- the store ------------------------------------------------------------------------

SOURCES = """
[sidebar]
items = 10
max_per_source = 10

[[sidebar.sources]]
name = "Wire"
url = "http://wire.example/feed"
"""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL_CONFIG + SOURCES)
    return parse_config(path.read_text(), path)


def record(store: Store, entries: list[CleanEntry], now: datetime) -> tuple[int, int]:
    sources = Sources(store)
    sources.sync([("Wire", "http://wire.example/feed")])
    (row,) = sources.all()
    return sources.record_entries(
        row.id,
        entries,
        now=now,
        validators=Validators(),
        status=200,
        next_fetch=now + HOUR,
        seconds=0.1,
    )


def test_an_undated_entry_keeps_an_unknown_date_and_its_first_sight(config: Config):
    undated = CleanEntry("guid:u", "Undated", "https://wire.example/u", None)
    dated = CleanEntry("guid:d", "Dated", "https://wire.example/d", T0 - 10 * HOUR)
    with Store.open(config.store_path) as store:
        assert record(store, [undated, dated], T0) == (2, 0)
        assert record(store, [undated, dated], T0 + DAY) == (0, 0)
        stored = store.conn.execute(
            "SELECT title, published, first_seen FROM sidebar_entries ORDER BY id"
        ).fetchall()
        items = Sources(store).latest(10, {"http://wire.example/feed": 10})
    # Before: the undated entry was stored with its first sight as its date.
    assert stored == [
        ("Undated", None, "2025-03-03T09:00:00Z"),
        ("Dated", "2025-03-02T23:00:00Z", "2025-03-03T09:00:00Z"),
    ]
    assert [(i.title, i.published, i.shown_at) for i in items] == [
        ("Undated", None, T0),
        ("Dated", T0 - 10 * HOUR, T0 - 10 * HOUR),
    ]


def test_the_newest_kept_per_source_are_counted_in_the_sidebars_order(
    config: Config, monkeypatch: pytest.MonkeyPatch
):
    """Pruning keeps what the sidebar would show: an entry undated or dated ahead
    is as new as its first sight, no newer and no older."""
    import syndicate.store.sources as sources_module

    monkeypatch.setattr(sources_module, "KEEP_PER_SOURCE", 2)
    old = CleanEntry("guid:old", "Old", "https://wire.example/o", T0 - DAY)
    ahead = CleanEntry("guid:ahead", "Ahead", "https://wire.example/a", T0 + DAY)
    undated = CleanEntry("guid:u", "Undated", "https://wire.example/u", None)
    newer = CleanEntry("guid:n", "Newer", "https://wire.example/n", T0 + HOUR)
    with Store.open(config.store_path) as store:
        record(store, [old, ahead], T0)
        before = store.conn.execute("SELECT COUNT(*) FROM feed_changes").fetchone()[0]
        record(store, [undated, newer], T0 + 2 * HOUR)
        kept = [r[0] for r in store.conn.execute("SELECT title FROM sidebar_entries ORDER BY id")]
        after = store.conn.execute("SELECT COUNT(*) FROM feed_changes").fetchone()[0]
    # Before: "Ahead" (by its date, tomorrow) outranked both newer entries and
    # "Newer" went; ordered by a NULL date, "Undated" would go instead.
    assert kept == ["Undated", "Newer"]
    assert after == before + 1


def test_a_version_7_store_keeps_its_entries_and_takes_unknown_dates(tmp_path: Path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:7]:
        for statement in statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 7")
    conn.executescript(
        """
        INSERT INTO sources (id, url, name) VALUES (1, 'http://wire.example/feed', 'Wire');
        INSERT INTO sidebar_entries (id, source_id, key, title, link, published, first_seen,
                                     changed_at)
        VALUES (5, 1, 'guid:a', 'A', 'https://wire.example/a', '2025-03-01T00:00:00Z',
                '2025-03-02T00:00:00Z', '2025-03-02T00:00:00Z'),
               (9, 1, 'guid:b', 'B', '', '2025-03-02T00:00:00Z', '2025-03-02T00:00:00Z',
                '2025-03-02T00:00:00Z');
        """
    )
    conn.close()
    with Store.open(path) as store:
        assert store.version == SCHEMA_VERSION
        assert store.conn.execute(
            "SELECT id, key, title, link, published, first_seen, language FROM sidebar_entries "
            "ORDER BY id"
        ).fetchall() == [
            (5, "guid:a", "A", "https://wire.example/a", "2025-03-01T00:00:00Z",
             "2025-03-02T00:00:00Z", None),
            (9, "guid:b", "B", "", "2025-03-02T00:00:00Z", "2025-03-02T00:00:00Z", None),
        ]  # fmt: skip
        assert store.conn.execute("SELECT language FROM sources").fetchall() == [(None,)]
        # An unknown date is NULL now; a malformed one is still refused.
        record(store, [CleanEntry("guid:c", "C", "https://wire.example/c", None)], T0)
        with pytest.raises(sqlite3.IntegrityError):
            store.conn.execute("UPDATE sidebar_entries SET published = '3 March' WHERE id = 5")
        # Entries still go when their source does.
        store.conn.execute("DELETE FROM sources")
        assert store.conn.execute("SELECT COUNT(*) FROM sidebar_entries").fetchone() == (0,)
        plan = " ".join(
            str(row[3])
            for row in store.conn.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM sidebar_entries AS e "
                "ORDER BY min(coalesce(e.published, e.first_seen), e.first_seen) DESC, e.id DESC"
            )
        )
        assert "sidebar_entries_latest" in plan, plan


# -- the sidebar's documents ---------------------------------------------------------


def items_at(now: datetime) -> list[SidebarItem]:
    return [
        SidebarItem("Wire", "Ahead of time", "https://w.example/1", now + 2 * DAY, now - HOUR),
        SidebarItem("Wire", "Undated", "https://w.example/2", None, now - 5 * timedelta(minutes=1)),
        SidebarItem("Wire", "Dated", "https://w.example/3", now - 3 * HOUR, now - HOUR),
    ]


def test_html_shows_the_real_date_and_first_sight_for_an_undated_item():
    now = T0
    tree = lxml_html.fragment_fromstring(render_sidebar_html(items_at(now), now))
    times = [li.find(".//time") for li in tree.findall(".//ol/li")]
    ahead, undated, dated = times
    # A date still ahead is shown as that date, not as "just now".
    assert ahead.get("datetime") == "2025-03-05T09:00:00Z"
    assert ahead.text == "05 March 2025, 09:00 UTC"
    assert undated.get("class") == "latest-news-time latest-news-seen"
    assert undated.get("datetime") == "2025-03-03T08:55:00Z"
    assert undated.text == "first seen 5 minutes ago"
    assert undated.get("title") == "No date given; first seen 03 March 2025, 08:55 UTC"
    assert (dated.get("class"), dated.text) == ("latest-news-time", "3 hours ago")


def test_json_says_null_for_an_unknown_date_and_gives_the_first_sight():
    items = json.loads(render_sidebar_json(items_at(T0)))["items"]
    assert [(i["published"], i["first_seen"]) for i in items] == [
        ("2025-03-05T09:00:00Z", "2025-03-03T08:00:00Z"),
        (None, "2025-03-03T08:55:00Z"),
        ("2025-03-03T06:00:00Z", "2025-03-03T08:00:00Z"),
    ]


def test_last_modified_is_never_a_future_date_a_feed_gave(config: Config):
    ahead = CleanEntry("guid:a", "Ahead", "https://wire.example/a", T0 + 2 * DAY)
    with Store.open(config.store_path) as store:
        record(store, [ahead], T0)
        rendered = build_sidebar(config, store, "json", T0 + HOUR)
    assert rendered.last_modified == T0
