"""The daily digest (issue 16): cut-offs, frozen editions, its feeds and pages.

Cut-offs are checked as pure functions across both daylight-saving changes
of Europe/London and on a weekly schedule; editions are frozen into a real
SQLite store and read back through the documents layer; and a leader app
with a ManualClock shows an edition appearing at its cut-off with no request,
announced by the change door.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

from syndicate.catalog import edition_key, feed_key
from syndicate.clock import ManualClock
from syndicate.config import Config, ConfigError, parse_config
from syndicate.cutoffs import cutoffs_until, next_cutoff, previous_cutoff
from syndicate.documents.build import build_document
from syndicate.documents.changes import Change
from syndicate.documents.editions import freeze_due
from syndicate.documents.rendered import NotFound
from syndicate.models import Scope
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.store.digests import editions, kept_dates
from syndicate.store.schema import SCHEMA_VERSION
from syndicate.web.app import make_app
from syndicate.web.keys import CLERK, DOOR
from tests.support import MINIMAL_CONFIG, write_config
from tests.test_build import SCHEMAS, check_atom, check_json, check_rss

ROOT = "http://127.0.0.1:8080"
SECTIONS = ("news", "comment")
DIGEST = """
[[digests]]
slug = "breakfast"
title = "Breakfast in Red"
time = "07:00"
time_zone = "Europe/London"
sections = ["comment", "news"]
max_articles = 10
lead = "Good morning from the picket line."
"""
WEEKLY = """
[[digests]]
slug = "week"
title = "The Week"
schedule = "weekly"
day = "friday"
time = "17:00"
time_zone = "America/New_York"
"""
SCOPE = Scope("digest", "breakfast")


def config_of(text: str = DIGEST) -> Config:
    return parse_config(MINIMAL_CONFIG + text)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- cut-offs ---------------------------------------------------------------------------


def test_daily_cutoffs_keep_the_local_time_across_both_daylight_saving_changes():
    digest = config_of().digests[0]
    march = cutoffs_until(digest, utc("2026-03-30T12:00:00"), 3)
    assert [(c.edition, c.at) for c in march] == [
        (date(2026, 3, 28), utc("2026-03-28T07:00:00")),  # GMT
        (date(2026, 3, 29), utc("2026-03-29T06:00:00")),  # BST from 01:00 that morning
        (date(2026, 3, 30), utc("2026-03-30T06:00:00")),
    ]
    october = cutoffs_until(digest, utc("2026-10-26T12:00:00"), 3)
    assert [c.at for c in october] == [
        utc("2026-10-24T06:00:00"),
        utc("2026-10-25T07:00:00"),  # GMT again from 02:00 BST that morning
        utc("2026-10-26T07:00:00"),
    ]
    # The periods around the changes are 23 and 25 hours long, and tile time.
    assert march[1].at - previous_cutoff(digest, march[1]).at == timedelta(hours=23)
    assert october[1].at - previous_cutoff(digest, october[1]).at == timedelta(hours=25)
    assert previous_cutoff(digest, october[2]) == october[1]


def test_a_skipped_or_repeated_local_time_has_exactly_one_cutoff():
    skipped = config_of(DIGEST.replace('"07:00"', '"01:30"')).digests[0]
    # 01:30 does not exist in London on 29 March: read with the offset before (GMT).
    assert cutoffs_until(skipped, utc("2026-03-29T12:00:00"), 1)[0].at == utc("2026-03-29T01:30:00")
    # 01:30 happens twice on 25 October: the first one (BST) is the cut-off.
    repeated = cutoffs_until(skipped, utc("2026-10-25T12:00:00"), 2)
    assert [c.at for c in repeated] == [utc("2026-10-24T00:30:00"), utc("2026-10-25T00:30:00")]


def test_next_cutoff_is_strictly_after_now():
    digest = config_of().digests[0]
    assert next_cutoff(digest, utc("2026-03-29T05:59:59")).at == utc("2026-03-29T06:00:00")
    assert next_cutoff(digest, utc("2026-03-29T06:00:00")).at == utc("2026-03-30T06:00:00")


def test_a_weekly_schedule_cuts_on_its_day_only_across_us_daylight_saving():
    week = config_of(WEEKLY).digests[0]
    cuts = cutoffs_until(week, utc("2026-03-20T12:00:00"), 3)
    assert [c.edition for c in cuts] == [date(2026, 2, 27), date(2026, 3, 6), date(2026, 3, 13)]
    assert all(c.edition.weekday() == 4 for c in cuts)
    # 17:00 EST is 22:00 UTC; after 8 March it is EDT, 21:00 UTC.
    assert [c.at.hour for c in cuts] == [22, 22, 21]
    assert next_cutoff(week, utc("2026-03-13T21:00:00")).edition == date(2026, 3, 20)
    assert previous_cutoff(week, cuts[2]) == cuts[1]


# -- the config ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('time_zone = "Europe/London"', 'time_zone = "Europe/Lundon"'), "digests[0].time_zone:"),
        (('time = "07:00"', 'time = "7am"'), "digests[0].time:"),
        (('time = "07:00"', 'time = "24:00"'), "digests[0].time:"),
        (('sections = ["comment", "news"]', 'sections = ["sport"]'), "digests[0].sections:"),
        (('time = "07:00"', 'schedule = "weekly"'), "digests[0].day: missing"),
        (('time = "07:00"', 'day = "friday"'), "digests[0].day: only for"),
        (('time = "07:00"', 'schedule = "monthly"'), "digests[0].schedule:"),
        (("max_articles = 10", "max_articles = 0"), "digests[0].max_articles:"),
        (('slug = "breakfast"', 'slug = "Breakfast!"'), "digests[0].slug:"),
        (('title = "Breakfast in Red"', 'title = " "'), "digests[0].title:"),
    ],
)
def test_a_bad_digest_is_reported_with_its_key_path(change: tuple[str, str], problem: str):
    with pytest.raises(ConfigError) as caught:
        config_of(DIGEST.replace(*change))
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_two_digests_may_not_share_a_slug():
    with pytest.raises(ConfigError) as caught:
        config_of(DIGEST + DIGEST)
    assert caught.value.problems == [
        "digests[1].slug: duplicate slug 'breakfast' (also digests[0])"
    ]


def test_the_demo_config_has_a_breakfast_digest():
    from syndicate.config import load_config

    demo = load_config(Path(__file__).resolve().parent.parent / "config.toml")
    assert [(d.title, d.time, d.time_zone) for d in demo.digests] == [
        ("Breakfast in Red", "07:00", "Europe/London")
    ]


# -- editions in a store --------------------------------------------------------------------


def record(slug: str, published: str, section: str = "news", **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "slug": slug,
        "title": f"Headline of {slug} & <co>",
        "standfirst": f"What {slug} is about",
        "body": f"<p>{slug}</p>",
        "section": section,
        "published": published,
        "authors": ["Simon Assaf", "Salma Haddad"],
        "image": {"url": f"/images/{slug}.jpg", "alt": f"Photo for {slug}"},
    }
    return {**found, **extra}


def write(config: Config, now: datetime, *records: dict[str, Any]) -> None:
    with Store.open(config.store_path) as store:
        store.upsert_articles([parse_record(r, SECTIONS) for r in records], now)


#: Around the spring change: one article before an empty day, then a busy day.
SPRING = [
    record("early", "2026-03-25T10:00:00Z"),  # edition of 26 March
    # nothing in (26 March 07:00 GMT, 27 March 07:00 GMT]: no edition of 27 March
    record("friday", "2026-03-27T12:00:00Z", "comment"),  # edition of 28 March
    record("saturday", "2026-03-28T20:00:00Z"),  # edition of 29 March (cut at 06:00 UTC)
    record("dawn", "2026-03-29T05:30:00Z", "comment"),  # edition of 29 March
    record("later", "2026-03-29T06:30:00Z"),  # after that cut-off: edition of 30 March
]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = write_config(tmp_path, MINIMAL_CONFIG + DIGEST)
    config = parse_config(path.read_text(), path)
    Store.open(config.store_path).close()
    return config


def test_editions_hold_their_period_and_skip_empty_ones(config: Config):
    now = utc("2026-03-29T06:10:00")
    write(config, now, *SPRING[:3])
    with Store.open(config.store_path) as store:
        assert store.version == SCHEMA_VERSION
        frozen = freeze_due(config, store, now)
        assert [e.edition for e in frozen] == [date(2026, 3, d) for d in (26, 28, 29)]
        assert kept_dates(store, "breakfast", date(2026, 3, 1)) == {
            date(2026, 3, d) for d in range(23, 30)
        }, "each of the last 7 cut-offs is considered once, empty ones included"
        assert freeze_due(config, store, now) == [], "freezing again writes nothing"
        # An article back-dated into a frozen period does not reopen its edition.
        write(config, now, SPRING[3])
        assert freeze_due(config, store, now + timedelta(minutes=5)) == []
        kept = editions(store, "breakfast", 10)
    assert [e.edition for e in kept] == [date(2026, 3, d) for d in (29, 28, 26)]
    assert [e.articles for e in kept] == [1, 1, 1]
    assert "Headline of dawn" not in kept[0].page_text


def test_an_edition_groups_sections_in_the_configured_order(config: Config):
    now = utc("2026-03-29T06:10:00")
    write(config, now, SPRING[2], SPRING[3], record("also", "2026-03-29T01:00:00Z"))
    with Store.open(config.store_path) as store:
        (frozen,) = freeze_due(config, store, now)
    text = frozen.page_text
    # "comment" comes first in the digest's sections, then "news" newest first.
    assert text.index("COMMENT") < text.index("Headline of dawn") < text.index("NEWS")
    assert text.index("NEWS") < text.index("Headline of also") < text.index("Headline of saturday")
    assert frozen.title == "Breakfast in Red, Sunday 29 March 2026"
    assert frozen.articles == 3


def test_the_autumn_edition_takes_its_whole_25_hours(config: Config):
    now = utc("2026-10-25T08:00:00")
    write(
        config,
        now,
        record("before", "2026-10-24T05:59:00Z"),  # 06:59 BST: the 24 October edition
        record("first", "2026-10-24T06:30:00Z"),  # 07:30 BST: the 25 October edition
        record("last", "2026-10-25T06:59:00Z"),  # 06:59 GMT: the 25 October edition
        record("after", "2026-10-25T07:00:01Z"),  # after its cut-off
    )
    with Store.open(config.store_path) as store:
        frozen = {e.edition: e for e in freeze_due(config, store, now)}
    assert set(frozen) == {date(2026, 10, 24), date(2026, 10, 25)}
    assert "Headline of before" in frozen[date(2026, 10, 24)].page_text
    autumn = frozen[date(2026, 10, 25)].page_text
    assert "Headline of first" in autumn
    assert "Headline of last" in autumn
    assert "Headline of after" not in autumn


def test_a_weekly_digest_freezes_one_edition_per_week(tmp_path: Path):
    path = write_config(tmp_path, MINIMAL_CONFIG + WEEKLY)
    config = parse_config(path.read_text(), path)
    now = utc("2026-03-21T12:00:00")
    days = ["2026-03-02", "2026-03-05", "2026-03-10", "2026-03-19"]
    Store.open(config.store_path).close()
    write(config, now, *(record(f"s{i}", f"{d}T12:00:00Z") for i, d in enumerate(days)))
    with Store.open(config.store_path) as store:
        frozen = freeze_due(config, store, now)
    assert [(e.edition, e.articles) for e in frozen] == [
        (date(2026, 3, 6), 2),
        (date(2026, 3, 13), 1),
        (date(2026, 3, 20), 1),
    ]


def test_an_edition_keeps_its_bytes_after_later_edits(config: Config):
    now = utc("2026-03-29T06:10:00")
    write(config, now, *SPRING[:4])
    with Store.open(config.store_path) as store:
        freeze_due(config, store, now)
        keys = [edition_key("breakfast", "2026-03-28", f) for f in ("html", "txt")]
        keys += [feed_key(SCOPE, fmt) for fmt in ("atom", "rss", "json")]
        before = {k: build_document(config, store, k, now).body for k in keys}
        assert b"Headline of friday" in before[keys[0]]
        edited = record("friday", "2026-03-27T12:00:00Z", "comment", title="Corrected headline")
        edited["image"] = "/images/other.jpg"
        later = now + timedelta(hours=1)
        write(config, later, edited)
        assert store.article("friday").title == "Corrected headline"  # type: ignore[union-attr]
        assert freeze_due(config, store, later) == []
        after = {k: build_document(config, store, k, later).body for k in keys}
    assert after == before


def test_documents_of_what_does_not_exist_are_not_found(config: Config):
    now = utc("2026-03-29T06:10:00")
    write(config, now, *SPRING[:4])
    with Store.open(config.store_path) as store:
        freeze_due(config, store, now)
        for key in (
            edition_key("breakfast", "2026-03-27"),  # an empty period: never published
            edition_key("breakfast", "2026-02-30"),  # no such date
            edition_key("breakfast", "2026-03-30"),  # not cut yet
            edition_key("lunch", "2026-03-28"),  # no such digest
            feed_key(Scope("digest", "lunch"), "atom"),
            feed_key(SCOPE, "atom", 2),
        ):
            with pytest.raises(NotFound):
                build_document(config, store, key, now)


# -- the feeds and pages over HTTP, and the cut-off passing with no request ------------------


@pytest.fixture(scope="module")
def atom_rng() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))


@pytest.fixture(scope="module")
def json_validator() -> Any:
    import json

    import jsonschema

    schema = json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


class Heard:
    def __init__(self) -> None:
        self.changes: list[Change] = []

    def __call__(self, change: Change) -> None:
        self.changes.append(change)

    async def until(self, url: str, timeout: float = 10.0) -> set[str]:
        deadline = time.monotonic() + timeout
        while True:
            urls = {u for c in self.changes for u in c.urls}
            if url in urls:
                return urls
            assert time.monotonic() < deadline, f"the door never reported {url}: {urls}"
            await asyncio.sleep(0.02)


@pytest.fixture
async def leader(aiohttp_client: Any, config: Config) -> tuple[Any, ManualClock, Heard]:
    clock = ManualClock(utc("2026-03-29T05:59:00"))
    write(config, clock.now(), *SPRING[:4], SPRING[4])
    client = await aiohttp_client(make_app(config, leader=True, clock=clock))
    door = client.app[DOOR]
    heard = Heard()
    door.subscribe(heard)
    await asyncio.wait_for(door.ready.wait(), 30)
    return client, clock, heard


async def caught_up(client: Any) -> None:
    """Until the door has seen the editions the clerk froze at start (then it has told them)."""
    door = client.app[DOOR]
    deadline = time.monotonic() + 10
    while edition_key("breakfast", "2026-03-28") not in door.seen:
        assert time.monotonic() < deadline, "the catch-up at start never reached the door"
        await asyncio.sleep(0.02)


async def test_an_edition_appears_at_its_cutoff_with_no_request(leader: Any):
    client, clock, heard = leader
    clerk = client.app[CLERK]
    await caught_up(client)
    response = await client.get("/digests/breakfast/feed.json")
    before = await response.json()
    assert [i["id"] for i in before["items"]] == [
        "tag:test.example,2026:digest:breakfast:2026-03-28",
        "tag:test.example,2026:digest:breakfast:2026-03-26",
    ]
    heard.changes.clear()
    assert clerk.frozen == 2  # the catch-up at start: 26 and 28 March (27 March was empty)
    clock.advance(timedelta(seconds=61))  # 06:00:01 UTC, 07:00:01 BST: the cut-off passed
    page = f"{ROOT}/digests/breakfast/2026-03-29"
    urls = await heard.until(page)  # no request was made since the clock moved
    feeds = {f"{ROOT}/digests/breakfast/feed.{f}" for f in ("atom", "rss", "json")}
    # The feeds, the new pages, and /feeds (its count of editions); nothing else.
    assert urls == feeds | {page, page + ".txt", f"{ROOT}/feeds"}
    assert clerk.frozen == 3
    response = await client.get("/digests/breakfast/feed.json")
    items = (await response.json())["items"]
    assert [i["id"].rsplit(":", 1)[1] for i in items] == ["2026-03-29", "2026-03-28", "2026-03-26"]
    assert "Headline of dawn" in items[0]["content_html"]
    assert "Headline of later" not in items[0]["content_html"]  # published after the cut-off


async def test_the_feeds_are_valid_in_every_format(leader: Any, atom_rng: Any, json_validator: Any):
    client, clock, heard = leader
    clock.advance(timedelta(seconds=61))
    await heard.until(f"{ROOT}/digests/breakfast/2026-03-29")
    bodies = {}
    for fmt in ("atom", "rss", "json"):
        response = await client.get(f"/digests/breakfast/feed.{fmt}")
        assert response.status == 200
        assert "max-age=300" in response.headers["Cache-Control"]
        assert response.headers["ETag"]
        assert response.headers["Last-Modified"]
        bodies[fmt] = await response.read()
    atom = check_atom(bodies["atom"], atom_rng)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert atom.findtext("a:title", namespaces=ns) == "Breakfast in Red | Test Weekly"
    assert atom.findtext("a:id", namespaces=ns) == "tag:test.example,2026:feed:digest:breakfast"
    entries = atom.findall("a:entry", ns)
    assert [e.findtext("a:updated", namespaces=ns) for e in entries] == [
        "2026-03-29T06:00:00+00:00",
        "2026-03-28T07:00:00+00:00",
        "2026-03-26T07:00:00+00:00",
    ]
    assert entries[0].find("a:link", ns).get("href") == f"{ROOT}/digests/breakfast/2026-03-29"
    rss = check_rss(bodies["rss"])
    assert len(rss.findall("channel/item")) == 3
    document = check_json(bodies["json"], json_validator)
    assert len(document["items"]) == 3
    # Each item's content is the email summary: every headline linked to its article.
    contents = {"json": document["items"][0]["content_html"]}
    for fmt in ("atom", "rss"):  # as readers built on feedparser (rss2email) see it
        parsed = feedparser.parse(bodies[fmt])
        assert not parsed.bozo, (fmt, parsed.get("bozo_exception"))
        contents[fmt] = parsed.entries[0].content[0].value
    for fmt, content in contents.items():
        for slug in ("saturday", "dawn"):
            assert f'href="{ROOT}/articles/{slug}"' in content, fmt
            assert f"Headline of {slug} &amp; &lt;co&gt;" in content, fmt
        assert "Simon Assaf and Salma Haddad" in content
        assert "<script" not in content


async def test_the_email_page_and_its_plain_text(leader: Any):
    client, clock, heard = leader
    clock.advance(timedelta(seconds=61))
    await heard.until(f"{ROOT}/digests/breakfast/2026-03-29")
    response = await client.get("/digests/breakfast/2026-03-29")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "max-age=300" in response.headers["Cache-Control"]
    policy = response.headers["Content-Security-Policy"]
    assert "'unsafe-hashes'" in policy
    assert "unsafe-inline" not in policy
    assert "script-src" not in policy
    assert "default-src 'none'" in policy
    page = await response.text()
    assert "<script" not in page.lower()
    assert "<style" not in page.lower()
    assert " class=" not in page, "inline styles only"
    assert "<table" in page
    assert 'role="presentation"' in page
    links = re.findall(r'(?:href|src)="([^"]*)"', page)
    assert links
    assert all(link.startswith(ROOT + "/") for link in links), links
    images = re.findall(r"<img [^>]*>", page)
    assert len(images) == 2
    for image in images:
        assert re.search(r'width="\d+"', image)
        assert re.search(r'alt="[^"]+"', image)
    # Conditional requests work as for every document.
    again = await client.get(
        "/digests/breakfast/2026-03-29", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status == 304
    text = await client.get("/digests/breakfast/2026-03-29.txt")
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    body = await text.text()
    for slug in ("saturday", "dawn"):
        line = f"Headline of {slug} & <co>"
        assert f"{line}\n" in body
        after = body[body.index(line) :]
        assert f"\n{ROOT}/articles/{slug}\n" in after
    newest = await client.get("/digests/breakfast", allow_redirects=False)
    assert newest.status == 302
    assert newest.headers["Location"] == "/digests/breakfast/2026-03-29"
    for missing in ("/digests/breakfast/2026-03-27", "/digests/lunch/2026-03-28"):
        assert (await client.get(missing)).status == 404


async def test_the_feed_directory_lists_the_digest(leader: Any):
    client, _, _ = leader
    page = await (await client.get("/feeds")).text()
    assert "Breakfast in Red" in page
    assert "/digests/breakfast/feed.atom" in page
    assert "<th>Editions</th>" in page
    opml = etree.fromstring(await (await client.get("/feeds.opml")).read())
    found = opml.xpath("//outline[@xmlUrl]/@xmlUrl")
    assert f"{ROOT}/digests/breakfast/feed.atom" in found


def test_the_admin_shows_the_next_cutoff_and_the_last_editions(config: Config):
    from syndicate.web.admin import digests_data

    now = utc("2026-03-29T06:10:00")
    write(config, now, *SPRING[:4])
    with Store.open(config.store_path) as store:
        freeze_due(config, store, now)
        (data,) = digests_data(config, store, now)
    assert data["title"] == "Breakfast in Red"
    assert data["next"]["iso"] == "2026-03-30T06:00:00Z"
    assert [e["date"] for e in data["editions"]] == ["2026-03-29", "2026-03-28", "2026-03-26"]
    assert data["editions"][0]["url"] == f"{ROOT}/digests/breakfast/2026-03-29"


async def test_the_admin_page_shows_each_digest(leader: Any, config: Config):
    from syndicate.store.accounts import Accounts
    from tests.test_admin import PASSWORD, login

    client, _, _ = leader
    await caught_up(client)
    with Store.open(config.store_path) as store:
        Accounts(store).add_editor("alice", PASSWORD, datetime.now(UTC))
    assert (await login(client)).status == 303
    page = await (await client.get("/admin")).text()
    card = page[page.index('id="digest-breakfast"') :]
    assert "Breakfast in Red" in card
    assert 'datetime="2026-03-29T06:00:00Z"' in card, "the next cut-off, 07:00 BST"
    assert card.index("/digests/breakfast/2026-03-28") < card.index("/digests/breakfast/2026-03-26")
    assert "/digests/breakfast/feed.atom" in card


def test_a_digest_of_every_section_follows_the_config_order_then_the_rest():
    from dataclasses import replace

    from syndicate.cutoffs import Cutoff
    from syndicate.documents.editions import compose
    from tests.factories import make_article

    config = config_of(DIGEST.replace('sections = ["comment", "news"]\n', ""))
    digest = config.digests[0]
    assert digest.sections == ()
    articles = [
        make_article(3, section=None, title="No section"),
        make_article(2, section="comment", title="An opinion", image=None),
        make_article(1, section="news", title="A report"),
    ]
    cut = Cutoff(utc("2025-03-02T07:00:00"), date(2025, 3, 2))
    edition = compose(config, digest, cut, utc("2025-03-01T07:00:00"), articles)
    text = edition.page_text
    assert text.index("NEWS") < text.index("A report") < text.index("COMMENT")
    assert text.index("An opinion") < text.index("MORE") < text.index("No section")
    assert edition.content_html.count("<img ") == 2, "only articles with a lead image"
    assert 'alt="People with banners"' in edition.content_html
    assert "Salma Haddad and José Martínez" in edition.content_html
    assert replace(edition, frozen_at=None) == edition  # composing reads no clock
    assert compose(config, digest, cut, utc("2025-03-01T07:00:00"), articles) == edition


def test_two_processes_freezing_at_once_write_each_edition_once(config: Config):
    from concurrent.futures import ThreadPoolExecutor

    now = utc("2026-03-29T06:10:00")
    write(config, now, *SPRING[:4])
    stores = [Store.open(config.store_path) for _ in range(4)]  # a connection each
    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            done = list(pool.map(lambda store: freeze_due(config, store, now), stores))
        frozen = sorted(e.edition for editions_ in done for e in editions_)
        assert frozen == [date(2026, 3, d) for d in (26, 28, 29)], "each exactly once"
        kept = editions(stores[0], "breakfast", 10)
        assert sorted(e.edition for e in kept) == frozen
    finally:
        for store in stores:
            store.close()
