"""Issue 12, points 11-14 and the first half of 17: what the fetcher keeps, and how.

* 11: nothing from outside is stored with markup in a text field: the source's
  own title is cleaned like an entry title; names lose bidi controls.
* 12: keep entries, drop only what is unsafe: an entry without a safe link
  keeps its headline (linked to the source's safe home page, else no link);
  only an entry with neither a title nor any text to make one from is dropped.
* 13: a valid feed with no entries is a success (status OK, nothing new).
* 14: a document cut off before its end is a failure, with the parser's
  reason, and nothing from it is stored.
* 17: titles cut to the length cap end at a word boundary with an ellipsis.

Each test fails on the code before the fix. The documents are in
tests/data/outside/, served by a real loopback server (tests/outside_server.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.clock import ManualClock
from syndicate.config import Config
from syndicate.fetch.clean import TEXT_TITLE_MAX, TITLE_MAX, clean, clean_title, shorten
from syndicate.fetch.parse import parse
from syndicate.fetch.types import FetchError
from syndicate.models import CleanEntry, Validators
from syndicate.store import Store
from syndicate.store.sources import Sources
from tests.outside_server import Document, Outside
from tests.test_fetch_runner import rows, run, titles, write_config

DATA = Path(__file__).parent / "data" / "outside"
URL = "https://news.example.org/feeds/world.xml"
FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
JSON_FEED = "application/feed+json"


@pytest.fixture
async def outside(aiohttp_server: Any) -> Outside:
    return await Outside.start(aiohttp_server)


def serve(outside: Outside, path: str, name_or_body: str | bytes, **kwargs: Any) -> None:
    body = name_or_body if isinstance(name_or_body, bytes) else (DATA / name_or_body).read_bytes()
    outside.documents[path] = Document(body, **kwargs)


def stored(config: Config, name: str) -> list[tuple[str, str, str]]:
    """(key, title, link) of a source's stored entries, newest first."""
    with Store.open(config.store_path) as store:
        return [
            (r[0], r[1], r[2])
            for r in store.conn.execute(
                "SELECT e.key, e.title, e.link FROM sidebar_entries e "
                "JOIN sources s ON s.id = e.source_id WHERE s.name = ? "
                "ORDER BY e.published DESC, e.id DESC",
                (name,),
            )
        ]


def rss(title: str, *items: str) -> bytes:
    """A small RSS 2.0 document; ``title`` and items are inserted as written."""
    body = "".join(
        f"<item><title>{item}</title><link>https://x.example/{i}</link>"
        f'<guid isPermaLink="false">x{i}</guid></item>'
        for i, item in enumerate(items)
    )
    return (
        f'<rss version="2.0"><channel>{title}<link>https://x.example/</link>{body}</channel></rss>'
    ).encode()


async def sidebar_json(config: Config, aiohttp_client: Any) -> list[dict[str, Any]]:
    from syndicate.web.app import make_app

    client = await aiohttp_client(make_app(config))
    items: list[dict[str, Any]] = json.loads(await (await client.get("/latest-news.json")).text())[
        "items"
    ]
    return items


# -- 11: the source's own title, and names ------------------------------------------------


async def test_source_titles_are_stored_as_clean_text(outside: Outside, tmp_path: Path):
    serve(outside, "/ledger.xml", "no-links.xml")
    serve(outside, "/micro.json", "jsonfeed-untitled.json", content_type=JSON_FEED)
    serve(
        outside,
        "/herald.xml",
        rss("<title>&lt;script&gt;alert(1)&lt;/script&gt;Hostile Herald</title>", "One"),
    )
    serve(
        outside,
        "/atom.xml",
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">'
        b"&lt;b onclick=&quot;x()&quot;&gt;Bold&lt;/b&gt; &amp;amp; \xe2\x80\xaeAtom</title>"
        b"<entry><id>a1</id><title>A</title><link href='https://a.example/1'/></entry></feed>",
        content_type="application/atom+xml",
    )
    names = {"Ledger": "/ledger.xml", "Micro": "/micro.json", "Herald": "/herald.xml"}
    config = write_config(tmp_path, outside, {**names, "Atom": "/atom.xml"})
    await run(config)
    state = rows(config)
    assert state["Ledger"].title == "Linkless Ledger"  # was "<script>alert('feed')</script>…"
    assert state["Micro"].title == "Micro Blog"  # was "<img src=x onerror=…>Micro \u202eBlog"
    assert state["Herald"].title == "Hostile Herald"
    assert state["Atom"].title == "Bold & Atom"


async def test_a_title_of_nothing_but_markup_clears_the_stored_one(
    outside: Outside, tmp_path: Path
):
    serve(outside, "/feed.xml", rss("<title>Herald</title>", "One"))
    config = write_config(tmp_path, outside, {"Herald": "/feed.xml"})
    await run(config)
    assert rows(config)["Herald"].title == "Herald"
    # No title at all keeps the one stored ...
    serve(outside, "/feed.xml", rss("", "One", "Two"))
    await run(config, everything=True)
    assert rows(config)["Herald"].title == "Herald"
    # ... a title that is only markup is no title: stored as none, never as markup.
    serve(outside, "/feed.xml", rss("<title>&lt;img src=x onerror=alert(1)&gt;</title>", "One"))
    await run(config, everything=True)
    assert rows(config)["Herald"].title is None


def test_source_names_lose_bidi_controls_in_the_store(tmp_path: Path):
    with Store.open(tmp_path / "store.db") as store:
        sources = Sources(store)
        sources.sync([("Evil \u202eswen\u202c \u2066News\u2069", "http://evil.example/feed")])
        (row,) = sources.all()
        assert row.name == "Evil swen News"
        sources.record_entries(
            row.id,
            [CleanEntry("guid:1", "Headline", "http://evil.example/1", NOW)],
            now=NOW,
            validators=Validators(),
            status=200,
            next_fetch=NOW,
            seconds=0.1,
        )
        (item,) = sources.latest(10, {"http://evil.example/feed": 3})
        assert item.source == "Evil swen News"
        # The editor's own spelling still finds it, and so does the one shown.
        assert sources.enable("Evil \u202eswen\u202c \u2066News\u2069")
        assert sources.enable("Evil swen News")
        assert not sources.enable("Evil")


async def test_sidebar_json_names_lose_bidi_controls(
    outside: Outside, tmp_path: Path, aiohttp_client: Any
):
    config = write_config(tmp_path, outside, {"Evil \u202eswen\u202c News": "/feed.xml"})
    await run(config)
    items = await sidebar_json(config, aiohttp_client)
    assert items
    assert {item["source"] for item in items} == {"Evil swen News"}


# -- 12: keep entries, drop only what is unsafe -------------------------------------------


async def test_a_feed_whose_entries_all_lack_safe_links_is_kept_and_healthy(
    outside: Outside, tmp_path: Path, aiohttp_client: Any
):
    serve(outside, "/ledger.xml", "no-links.xml")
    config = write_config(tmp_path, outside, {"Ledger": "/ledger.xml"})
    clock = ManualClock(NOW)
    (report,) = await run(config, clock=clock)
    # Before: "empty: no usable entries", a failure, backed off for hours.
    assert (report.outcome, report.status, report.new, report.error) == ("updated", 200, 5, None)
    row = rows(config)["Ledger"]
    assert (row.failures, row.last_status, row.last_error) == (0, 200, None)
    assert row.next_fetch is not None
    assert row.next_fetch <= NOW + timedelta(seconds=config.sidebar.refresh_interval * 1.05)
    home = "https://ledger.example.com/"
    entries = stored(config, "Ledger")
    assert [(title, link) for _, title, link in entries] == [
        ("Council meets tonight", home),  # no <link>
        ("Click for prizes", home),  # javascript:
        ("Data link", home),  # data:
        ("Local file", home),  # file:
        (
            "Only a description: the ferry runs again from Monday after the strike ends, "
            "the union says, with a full timetable",
            home,
        ),
        # The image-only title with a blank description: nothing to show, dropped.
    ]
    # Keys: the GUID, else a hash (never the home page every one of them links to).
    keys = [key for key, _, _ in entries]
    assert keys[:2] == ["guid:ledger-1", "guid:ledger-2"]
    assert all(key.startswith("hash:") for key in keys[2:])
    assert len(set(keys)) == len(keys)
    items = await sidebar_json(config, aiohttp_client)
    assert {item["url"] for item in items} == {home}
    # Fetched again, nothing is duplicated: the keys are stable.
    serve(outside, "/ledger.xml", (DATA / "no-links.xml").read_bytes() + b"\n")  # new ETag
    clock.advance(timedelta(hours=1))
    (again,) = await run(config, clock=clock)
    assert (again.outcome, again.new, again.updated) == ("updated", 0, 0)


async def test_without_a_safe_home_page_an_entry_is_stored_without_a_link(
    outside: Outside, tmp_path: Path, aiohttp_client: Any
):
    serve(outside, "/micro.json", "jsonfeed-untitled.json", content_type=JSON_FEED)
    config = write_config(tmp_path, outside, {"Micro": "/micro.json"})
    (report,) = await run(config)
    assert report.outcome == "updated"
    assert ("guid:m4", "No safe link and no safe home page", "") in stored(config, "Micro")
    items = {item["title"]: item for item in await sidebar_json(config, aiohttp_client)}
    # The JSON sidebar says "no link" with an empty string, as stored.
    assert items["No safe link and no safe home page"]["url"] == ""


def test_a_json_feed_item_without_a_title_takes_its_summary_or_the_start_of_its_text():
    feed = parse((DATA / "jsonfeed-untitled.json").read_bytes(), url=URL, headers={})
    entries = {e.key: e for e in clean(feed, fetched_at=FETCHED)}
    assert entries["guid:m1"].title == "A summary stands in for the missing title."
    long_text = entries["guid:m2"].title
    # content_text is plain text: its brackets and ampersands are kept as written.
    assert long_text.startswith("Plain text with <angle brackets> & ampersands, and then")
    assert len(long_text) <= TEXT_TITLE_MAX
    assert long_text.endswith(" so\u2026")  # the start of the text, cut at a word
    assert entries["guid:m3"].title == "HTML content: only its words."
    assert entries["guid:m4"].link == ""  # javascript: link, javascript: home page
    assert "guid:m5" not in entries  # an image and nothing else: nothing to show


@pytest.mark.parametrize(
    ("item", "title"),
    [
        pytest.param(
            "<description>Only a &lt;b&gt;description&lt;/b&gt;</description>",
            "Only a description",
            id="RSS description",
        ),
        pytest.param(
            "<title><![CDATA[<img src=x>]]></title><description>Said instead</description>",
            "Said instead",
            id="markup-only title",
        ),
        pytest.param(
            '<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            "<![CDATA[<p>From the <em>content</em></p>]]></content:encoded>",
            "From the content",
            id="content:encoded",
        ),
    ],
)
def test_an_rss_item_without_a_title_takes_its_text(item: str, title: str):
    body = (
        '<rss version="2.0"><channel><title>T</title>'
        f"<item>{item}<link>https://x.example/1</link></item></channel></rss>"
    ).encode()
    (entry,) = clean(parse(body, url=URL, headers={}), fetched_at=FETCHED)
    assert (entry.key, entry.title, entry.link) == (
        "link:https://x.example/1",
        title,
        "https://x.example/1",
    )


def test_an_atom_entry_without_a_title_takes_its_summary_as_text():
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b"<link href='https://atom.example/'/>"
        b"<entry><id>tag:atom.example,2024:e1</id>"
        b"<summary>1 &lt; 2 &amp; that is &lt;b&gt;text&lt;/b&gt;</summary>"
        b"</entry></feed>"
    )
    (entry,) = clean(parse(body, url=URL, headers={}), fetched_at=FETCHED)
    # type="text" (the default): the brackets are text, shown as written.
    assert (entry.title, entry.link) == ("1 < 2 & that is <b>text</b>", "https://atom.example/")


def test_linkless_entries_without_guids_are_told_apart_by_title():
    body = (
        b'<rss version="2.0"><channel><title>T</title>'
        b"<item><title>First</title></item><item><title>Second</title></item>"
        b"<item><title>First</title></item>"  # the same again: a duplicate
        b"<item><description>First</description></item>"  # a title made from text
        b"</channel></rss>"
    )
    entries = clean(parse(body, url=URL, headers={}), fetched_at=FETCHED)
    assert [e.title for e in entries] == ["First", "Second", "First"]
    assert len({e.key for e in entries}) == 3
    assert all(e.link == "" for e in entries)  # no home page in this feed


# -- 13: a valid feed with no entries -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "title"),
    [
        ("empty-channel.xml", "application/rss+xml", "Nothing Yet"),
        ("jsonfeed-empty.json", JSON_FEED, "Quiet Corner"),
    ],
)
async def test_a_valid_feed_with_no_entries_is_a_success(
    outside: Outside, tmp_path: Path, name: str, content_type: str, title: str
):
    config = write_config(tmp_path, outside, {"Quiet": "/quiet"})
    clock = ManualClock(NOW)
    (failed,) = await run(config, clock=clock)  # not served yet: a 404, one failure
    assert failed.outcome == "failed"
    serve(outside, "/quiet", name, content_type=content_type)
    clock.advance(timedelta(days=1))
    (report,) = await run(config, clock=clock)
    assert (report.outcome, report.status, report.new, report.updated, report.error) == (
        "updated",
        200,
        0,
        0,
        None,
    )
    row = rows(config)["Quiet"]
    assert (row.failures, row.last_status, row.title, row.entries) == (0, 200, title, 0)
    assert row.next_fetch is not None  # the normal interval, no backoff
    assert row.next_fetch <= clock.now() + timedelta(seconds=config.sidebar.refresh_interval * 1.05)


@pytest.mark.parametrize(
    "body",
    [
        b'<rss version="2.0"><channel><title>Nothing</title></channel></rss>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Nothing</title></feed>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"/>',
        b'{"version": "https://jsonfeed.org/version/1", "title": "Nothing", "items": []}',
    ],
)
def test_valid_feeds_without_entries_parse_to_no_entries(body: bytes):
    feed = parse(body, url=URL, headers={})
    assert feed.entries == ()
    assert clean(feed, fetched_at=FETCHED) == []


# -- 14: a document cut off before its end --------------------------------------------------


async def test_a_truncated_document_fails_and_stores_nothing(outside: Outside, tmp_path: Path):
    complete = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        b"<title>Whole Story</title><link>https://cut.example.com/</link>"
        b"<item><title>Already here</title><link>https://cut.example.com/0</link>"
        b'<guid isPermaLink="false">t0</guid></item>'
        b"</channel></rss>\n"
    )
    serve(outside, "/cut.xml", complete)
    config = write_config(tmp_path, outside, {"Cut": "/cut.xml"})
    await run(config)
    assert titles(config, "Cut") == ["Already here"]
    serve(outside, "/cut.xml", "truncated.xml")  # "Cut Short", two whole items, a third cut
    (report,) = await run(config, everything=True)
    # Before: accepted, two new items stored, the feed title replaced, no error.
    assert report.outcome == "failed"
    assert report.error == (
        "parse: document cut off before its end: "
        "Premature end of data in tag title line 18, line 18, column 40"
    )
    row = rows(config)["Cut"]
    assert (row.failures, row.last_status, row.last_error) == (1, 200, report.error)
    assert titles(config, "Cut") == ["Already here"]
    assert row.title == "Whole Story"


def _prefixes_must_fail(body: bytes, end: int, step: int = 1) -> None:
    """Every cut of ``body`` before index ``end`` is refused with a FetchError."""
    for cut in range(0, end, step):
        with pytest.raises(FetchError) as caught:
            parse(body[:cut], url=URL, headers={})
        assert caught.value.stage in ("parse", "empty"), (cut, caught.value)


@pytest.mark.parametrize(
    ("name", "closing", "step"),
    [
        ("rss20.xml", b"</rss>", 1),
        ("atom-xmlbase.xml", b"</feed>", 3),
        ("rss10.rdf", b"</rdf:RDF>", 3),
        ("html-entities.xml", b"</rss>", 5),
        ("jsonfeed-1.0.json", b"}", 3),
    ],
)
def test_a_document_cut_anywhere_before_its_end_is_refused(name: str, closing: bytes, step: int):
    body = (DATA / name).read_bytes()
    end = body.rindex(closing) + len(closing)
    _prefixes_must_fail(body, end, step)
    assert parse(body[:end], url=URL, headers={}).entries  # complete: accepted


def test_junk_after_the_document_is_cut_as_junk_before_it_is():
    feed = parse((DATA / "junk-after.xml").read_bytes(), url=URL, headers={})
    assert [e.title for e in feed.entries] == ["Complete, then a PHP warning"]
    assert feed.warning == "repaired: 131 characters of junk after the document removed"


def test_ill_formed_but_complete_documents_are_still_read_leniently():
    body = (
        b'<rss version="2.0"><channel><title>T</title>'
        b"<item><title>Stray <br> tag</title><link>https://x.example/1</link></item>"
        b"<item><title>Fine</title><link>https://x.example/2</link></item>"
        b"</channel></RSS>"  # a case slip at the end is no truncation either
    )
    feed = parse(body, url=URL, headers={})
    assert len(feed.entries) == 2
    assert feed.warning is not None
    assert feed.warning.startswith("ill-formed XML read leniently")


def test_line_numbers_in_the_reason_are_the_documents_own():
    body = (
        b"\n\n<?xml version='1.0'?>\n<!DOCTYPE rss [\n<!ENTITY a 'b'>\n]>\n"
        b'<rss version="2.0">\n<channel>\n<title>T</title>\n<item>\n<title>cut'
    )
    with pytest.raises(FetchError) as caught:
        parse(body, url=URL, headers={})
    assert caught.value.message.startswith("document cut off before its end: ")
    assert caught.value.message.endswith("line 11, column 11")  # "<title>cut" is line 11


# -- 17: titles cut at a word boundary ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("alpha beta gamma", 14, "alpha beta\u2026"),  # was "alpha beta ga…"
        ("alpha beta gamma", 16, "alpha beta gamma"),
        ("alpha beta gamma", 11, "alpha beta\u2026"),
        ("The budget: what it means", 14, "The budget\u2026"),  # no dangling colon
        ("Strike \u2014 day three", 11, "Strike\u2026"),
        ("x" * 50, 10, "x" * 9 + "\u2026"),  # one long word: cut inside it
        ("a " + "x" * 50, 10, "a " + "x" * 7 + "\u2026"),  # a space too early to use
        ("e\u0301" * 10, 4, "e\u0301\u2026"),  # never between a letter and its accent
        ("abc", 2, "a\u2026"),
    ],
)
def test_titles_are_cut_at_a_word_boundary_with_an_ellipsis(text: str, limit: int, expected: str):
    assert clean_title(text, limit=limit) == expected
    assert shorten(text, limit) == expected


def test_the_length_cap_cuts_long_titles_at_a_word():
    words = " ".join(f"word{i}" for i in range(100))
    title = clean_title(words)
    assert len(title) <= TITLE_MAX
    assert title.endswith("\u2026")
    assert words.startswith(title[:-1])
    assert words[len(title) - 1] == " "  # the next character was a space: a whole word kept


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.text(st.characters(exclude_categories=("Z", "C")), min_size=1, max_size=12)),
    limit=st.integers(min_value=2, max_value=80),
)
def test_shortened_titles_are_whole_words_of_the_original(words: list[str], limit: int):
    text = " ".join(words)
    short = shorten(text, limit)
    assert len(short) <= limit
    if len(text) <= limit:
        assert short == text
        return
    assert short.endswith("\u2026")
    kept = short[:-1]
    assert text.startswith(kept)
    last_space = text.rfind(" ", 0, limit)
    if last_space >= (limit - 1) // 2 and text[limit - 1] != " ":
        # A usable word boundary existed: the cut is at one (separators trimmed).
        assert text[len(kept)] in " ,;:\u2013\u2014-([{\u201c\u2018\u00ab"


def test_every_sample_title_fits_and_no_entry_is_without_a_title():
    for path in sorted(DATA.iterdir()):
        try:
            feed = parse(path.read_bytes(), url=URL, headers={})
        except FetchError:
            continue
        for entry in clean(feed, fetched_at=FETCHED):
            assert entry.title
            assert len(entry.title) <= TITLE_MAX
            assert not set(entry.title) & set(BIDI)
            assert entry.link == "" or entry.link.startswith(("http://", "https://"))
