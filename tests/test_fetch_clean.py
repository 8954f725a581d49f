"""The clean stage: nothing from an outside feed reaches a page as markup.

Unit tables for titles, links, dates and keys, then whole hand-written
documents (tests/data/outside/) through parse and clean, asserted exactly.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.fetch.clean import (
    EARLIEST,
    FUTURE_MAX,
    KEY_MAX,
    LINK_MAX,
    TITLE_MAX,
    clean,
    clean_date,
    clean_language,
    clean_link,
    clean_title,
    entry_key,
)
from syndicate.fetch.parse import parse
from syndicate.fetch.types import CleanEntry, EntryData, FeedData
from syndicate.text import collapse_whitespace, xml_safe

DATA = Path(__file__).parent / "data" / "outside"
URL = "https://news.example.org/feeds/world.xml"
FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def cleaned(name: str, headers: dict[str, str] | None = None) -> list[CleanEntry]:
    feed = parse((DATA / name).read_bytes(), url=URL, headers=headers or {})
    return clean(feed, fetched_at=FETCHED)


def rows(entries: list[CleanEntry]) -> list[tuple[str, str, str, datetime | None]]:
    return [(e.key, e.title, e.link, e.published) for e in entries]


def entry(
    title: str | None = "Title",
    link: str | None = "https://example.com/a",
    guid: str | None = None,
    published: datetime | None = None,
    updated: datetime | None = None,
    base: str | None = URL,
    text: str | None = None,
) -> EntryData:
    return EntryData(guid, link, title, published, updated, base, text)


def feed_of(*entries: EntryData) -> FeedData:
    return FeedData(title=None, link=None, ttl=None, entries=entries)


# -- titles ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        ("Plain", "Plain"),
        ("Fish &amp; Chips", "Fish & Chips"),
        ("a &lt; b", "a < b"),  # a literal "<" after decoding is fine: templates escape
        ("a < b", "a < b"),
        ("<b>Bold</b> move", "Bold move"),
        ('<b onclick="steal()">Bold</b>', "Bold"),
        ("<script>alert(1)</script>News", "News"),
        ("<style>p{}</style><noscript>x</noscript>Shown", "Shown"),
        ("<script>never closed", ""),
        ('<img src=x onerror="alert(1)">', ""),
        ("a<br>b<p>c</p>d", "a b c d"),
        ("  spread \n\t out  ", "spread out"),
        ("nbsp&nbsp;here", "nbsp here"),
        ("&#8220;quoted&#8221; &mdash; &eacute;", "\u201cquoted\u201d \u2014 é"),
        ("<![CDATA[Wrapped twice]]>", "Wrapped twice"),
        ("<![CDATA[<b>in cdata</b>]]>", "<b>in cdata</b>"),
        ("<![if !IE]>odd<![endif]>", "<![if !IE]>odd<![endif]>"),
        ("x <b onclick=", "x"),  # a cut-off tag shows nothing, as in a browser
        ("<!-- comment -->text", "text"),
        ("Invoice \u202egnp.exe", "Invoice gnp.exe"),
        (
            "\u2066isolated\u2069 \u202aembedded\u202c \u202doverride\u202c",
            "isolated embedded override",
        ),
        ("Keep \u200fmarks\u200e", "Keep \u200fmarks\u200e"),  # marks are not overrides
        ("bell\x07 nul\x00 \ufffe", "bell nul"),
        ("&#0;&#1;zero", "\ufffdzero"),  # as html.unescape reads them
        ("", ""),
        ("<b></b>", ""),
    ],
)
def test_clean_title(fragment: str, text: str):
    assert clean_title(fragment) == text


def test_clean_title_of_none():
    assert clean_title(None) == ""


def test_long_titles_are_capped_with_an_ellipsis():
    title = clean_title("word " * 200)
    assert len(title) == TITLE_MAX
    assert title.endswith("word\u2026")
    assert clean_title("x" * TITLE_MAX) == "x" * TITLE_MAX
    assert clean_title("abc", limit=2) == "a\u2026"


# -- links ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "base", "expected"),
    [
        ("https://example.com/a", URL, "https://example.com/a"),
        ("http://example.com/a", None, "http://example.com/a"),
        ("HTTPS://Example.com/A", None, "https://Example.com/A"),
        ("story.html", URL, "https://news.example.org/feeds/story.html"),
        ("/root.html", URL, "https://news.example.org/root.html"),
        ("../up.html", "https://a.example/x/y/feed", "https://a.example/x/up.html"),
        ("//cdn.example.net/p", URL, "https://cdn.example.net/p"),
        ("?page=2", URL, "https://news.example.org/feeds/world.xml?page=2"),
        ("  https://example.com/padded  ", None, "https://example.com/padded"),
        ("https://example.com/a b", None, "https://example.com/a%20b"),
        ("https://exa\tmple.com/\nx", None, "https://example.com/x"),
        (
            "https://example.com/\u0645\u062f\u064a\u0646\u0629",
            None,
            "https://example.com/\u0645\u062f\u064a\u0646\u0629",
        ),
        ("relative-without-base", None, None),
        ("javascript:alert(1)", URL, None),
        ("JavaScript:alert(1)", URL, None),
        ("java\tscript:alert(1)", URL, None),
        ("java\nscript:alert(1)", URL, None),
        ("\x01javascript:alert(1)", URL, None),
        (" \u00a0javascript:alert(1)", URL, None),
        ("java\x00script:alert(1)", URL, None),
        ("data:text/html,<script>alert(1)</script>", URL, None),
        ("vbscript:msgbox(1)", URL, None),
        ("file:///etc/passwd", URL, None),
        ("mailto:a@example.com", URL, None),
        ("ftp://example.com/f", URL, None),
        ("feed://example.com/rss", URL, None),
        ("http://", URL, None),
        ("https:///no-host", None, None),
        ("http://[::1", URL, None),  # urlsplit raises; the entry is dropped
        ("", URL, None),
        (None, URL, None),
        ("   ", URL, None),
        ("https://example.com/" + "a" * LINK_MAX, None, None),
    ],
)
def test_clean_link(link: str | None, base: str | None, expected: str | None):
    assert clean_link(link, base=base) == expected


def test_a_non_http_base_cannot_make_a_relative_link_usable():
    assert clean_link("page.html", base="file:///var/www/feed.xml") is None


# -- dates ----------------------------------------------------------------------

NAIVE_2024 = datetime(2024, 5, 1, 10, 0)  # deliberately naive


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (utc(2024, 5, 1), utc(2024, 5, 1)),
        (datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))), utc(2024, 5, 1, 10, 0)),
        (NAIVE_2024, utc(2024, 5, 1, 10, 0)),  # naive means UTC
        (utc(1970, 1, 1), None),
        (utc(1990, 6, 1), None),
        (utc(1994, 12, 31, 23, 59, 59), None),
        (EARLIEST, EARLIEST),
        # Issue 12: a future date is kept as it is, never clamped to the fetch
        # time; only one beyond FUTURE_MAX (a placeholder year) is implausible.
        (utc(2999, 1, 1), None),
        (FETCHED + timedelta(seconds=1), FETCHED + timedelta(seconds=1)),
        (FETCHED + timedelta(days=3), FETCHED + timedelta(days=3)),
        (FETCHED + FUTURE_MAX, FETCHED + FUTURE_MAX),
        (FETCHED + FUTURE_MAX + timedelta(seconds=1), None),
        (FETCHED, FETCHED),
    ],
)
def test_clean_date(value: datetime | None, expected: datetime | None):
    result = clean_date(value, fetched_at=FETCHED)
    assert result == expected
    if result is not None:
        assert result.tzinfo is UTC


def test_clean_date_with_naive_fetch_time():
    naive_fetch = datetime(2024, 6, 1, 12, 0)  # deliberately naive
    assert clean_date(utc(2024, 6, 2), fetched_at=naive_fetch) == utc(2024, 6, 2)
    assert clean_date(utc(2030, 1, 1), fetched_at=naive_fetch) is None


# -- keys -----------------------------------------------------------------------


def test_entry_key():
    link = "https://example.com/a"
    assert entry_key("abc", link) == "guid:abc"
    assert entry_key("  abc \n", link) == "guid:abc"
    assert entry_key(None, link) == "link:https://example.com/a"
    assert entry_key("", link) == "link:https://example.com/a"
    assert entry_key("   ", link) == "link:https://example.com/a"
    assert entry_key("a\x00b", link) == "guid:ab"
    long_guid = "g" * (KEY_MAX + 1)
    assert entry_key(long_guid, link).startswith("hash:")
    assert len(entry_key(long_guid, link)) == len("hash:") + 32
    assert entry_key(long_guid, link) != entry_key(long_guid + "x", link)
    long_link = "https://example.com/" + "l" * KEY_MAX
    assert entry_key(None, long_link).startswith("hash:")
    assert entry_key(None, long_link) != entry_key(long_guid, long_link)


# -- whole documents --------------------------------------------------------------


HOSTILE_HOME = "https://hostile.example.com/"  # hostile.xml's channel <link>


def test_hostile_document():
    assert rows(cleaned("hostile.xml")) == [
        ("guid:h1", "Breaking news", "https://hostile.example.com/1", None),
        ("guid:h2", "Bold claim", "https://hostile.example.com/2", None),
        ("guid:h3", "Invoice for fdp.exe", "https://hostile.example.com/3", None),
        ("guid:h4", "Isolate trick here", "https://hostile.example.com/4", None),
        # h5-h12: javascript:, tab-split and upper-case javascript:, data:,
        # vbscript:, file:, mailto:, ftp:. Each link is dropped, not its entry,
        # which is linked to the source's home page instead (issue 12, point 12).
        ("guid:h5", "javascript: link", HOSTILE_HOME, None),
        ("guid:h6", "Tab-split javascript: link", HOSTILE_HOME, None),
        ("guid:h7", "Upper-case scheme with leading space", HOSTILE_HOME, None),
        ("guid:h8", "data: link", HOSTILE_HOME, None),
        ("guid:h9", "vbscript: link", HOSTILE_HOME, None),
        ("guid:h10", "file: link", HOSTILE_HOME, None),
        ("guid:h11", "mailto: link", HOSTILE_HOME, None),
        ("guid:h12", "ftp: link", HOSTILE_HOME, None),
        ("guid:h13", "Protocol-relative link", "https://cdn.example.net/story", None),
        ("guid:h14", "Root-relative link", "https://news.example.org/stories/relative", None),
        # h15: a title that is only an image, and no text: nothing to show, dropped.
        ("guid:h16", "No link at all", HOSTILE_HOME, None),
        ("guid:h17", "Host-less http link", HOSTILE_HOME, None),
    ]


def test_rss20_document():
    assert rows(cleaned("rss20.xml")) == [
        (
            "guid:https://daily.example.com/2024/05/budget",
            "Budget passes after all-night session",
            "https://daily.example.com/2024/05/budget",
            utc(2024, 5, 14, 4, 30),
        ),
        (
            "guid:daily-2024-0042",
            "Fish & Chips: a history",
            "https://daily.example.com/2024/05/fish",
            utc(2024, 5, 13, 18, 0),
        ),
        (
            "guid:daily-2024-0041",
            "Tom & Jerry <3 \u2014 \u201cquoted\u201d",
            "https://daily.example.com/2024/05/cartoons",
            utc(2024, 5, 12, 13, 15),  # dc:date, since there is no pubDate
        ),
        (
            "guid:daily-2024-0040",
            "Lots of whitespace here",
            "https://daily.example.com/2024/05/spaces",
            utc(2024, 5, 12, 8, 0),
        ),
    ]


def test_guids_document_first_occurrence_wins():
    assert rows(cleaned("guids.xml")) == [
        (
            "guid:123",
            "Bare numeric GUID, which feedparser would resolve",
            "https://guids.example.com/a",
            None,
        ),
        ("guid:items/5", "Relative GUID, not a permalink", "https://guids.example.com/b", None),
        (
            "guid:/archive/7",
            "Root-relative GUID and no link: the GUID is the link",
            "https://news.example.org/archive/7",
            None,
        ),
        (
            "link:https://guids.example.com/c",
            "No GUID: keyed by link",
            "https://guids.example.com/c",
            None,
        ),
        (
            "link:https://guids.example.com/d",
            "Empty GUID: keyed by link",
            "https://guids.example.com/d",
            None,
        ),
        (
            "guid:urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
            "Whitespace around the GUID",
            "https://guids.example.com/e",
            None,
        ),
    ]


def test_dates_document():
    assert [(e.title, e.published) for e in cleaned("dates.xml")] == [
        ("No date", None),
        ("The epoch", None),
        ("Nineteen ninety", None),
        ("Far future", None),  # 2999: a placeholder, not a date (it was clamped to FETCHED)
        ("Unparseable", None),
        ("Offset from UTC", utc(2024, 5, 15, 4, 0)),
        ("Epoch pubDate but a plausible dc:date", utc(2024, 5, 1, 12, 0)),
        ("Just after the cut-off", utc(1995, 1, 1)),
    ]


def test_atom_document():
    assert rows(cleaned("atom-xmlbase.xml")) == [
        (
            "guid:tag:atom.example.org,2024:1",
            "Relative link, feed-level base",
            "https://atom.example.org/news/2024/relative.html",
            utc(2024, 5, 14, 7, 0),
        ),
        (
            "guid:tag:atom.example.org,2024:2",
            "Entry-level base: bold & brave",
            "https://atom.example.org/sport/match.html",
            utc(2024, 5, 13, 20, 0),
        ),
        (
            "guid:tag:atom.example.org,2024:3",
            "XHTML title",
            "https://elsewhere.example.net/absolute",
            utc(2024, 5, 12, 20, 0),
        ),
        (
            "guid:tag:atom.example.org,2024:4",
            "A plain-text title with <angle brackets> kept",
            "https://atom.example.org/opinion/brackets.html",
            utc(2024, 5, 11, 20, 0),
        ),
    ]


def test_json_feed_documents():
    assert rows(cleaned("jsonfeed-1.0.json")) == [
        (
            "guid:https://json.example.com/a",
            "Version one item",
            "https://json.example.com/a",
            utc(2024, 5, 10, 15, 0),
        ),
        (
            "guid:42",
            "Numeric id, external URL only",
            "https://other.example.net/linked",
            utc(2024, 5, 9, 8, 0),
        ),
        ("guid:relative-url", "Don\u2019t panic", "https://news.example.org/posts/relative", None),
    ]
    assert rows(cleaned("jsonfeed-1.1.json")) == [
        ("guid:1", "Scripted title", "https://json11.example.com/1", utc(2024, 5, 10, 8, 0)),
        # A javascript: link gives way to the feed's home_page_url.
        ("guid:2", "A javascript: link", "https://json11.example.com/", None),
        # No title: its content_text is the title.
        (
            "guid:3",
            "No title at all: a microblog post.",
            "https://json11.example.com/3",
            None,
        ),
        # "not an object" skipped.
        ("guid:4", "Bad date", "https://json11.example.com/4", None),
    ]


def test_arabic_document_loses_only_its_overrides():
    assert rows(cleaned("arabic.xml")) == [
        (
            "guid:ar-1",
            "انتخابات جديدة في البلاد",
            "https://arabic.example.com/news/1",
            utc(2024, 5, 14, 7, 0),
        ),
        (
            "guid:ar-2",
            "الطقس: أمطار غزيرة \u200fاليوم\u200f وoverride هنا",  # noqa: RUF001
            "https://arabic.example.com/%D8%A7%D9%84%D8%B7%D9%82%D8%B3",
            None,
        ),
        ("guid:ar-3", "مدينة القدس", "https://arabic.example.com/مدينة/القدس", None),
    ]


def test_entities_document():
    assert [e.title for e in cleaned("html-entities.xml")] == [
        "Café crème et crêpes \u2014 voilà\u2026",
        # "&copy" and "&not" are HTML's legacy entities: decoded as a browser would.
        "R&D at AT&T \u00a9 2024 \u00acarealentity; done",
        "It\u2019s windows-1252 \u2014 in numeric references",
        "Illegal references dropped",
        "CDATA keeps é and a bare & as they are",
        "Zürich & Århus <3 fjords",
    ]


@pytest.mark.parametrize(
    ("name", "headers", "expected"),
    [
        ("rss091.xml", None, ["Café de la Gare reopens", "Weather \u2014 sunny spells"]),
        ("rss10.rdf", None, ["First story", "Second story"]),
        (
            "windows-1252.xml",
            None,
            [
                "\u201cSmart quotes\u201d cost \u20ac5 \u2014 naïve résumé",
                "It\u2019s Škoda and Žižek? No: Œuvre \u2026",
            ],
        ),
        (
            "latin1-no-declaration.xml",
            {"Content-Type": "text/xml; charset=latin1"},
            ["Grüße aus Zürich, Ça va, señor"],
        ),
        (
            "koi8r-wrong-declaration.xml",
            {"Content-Type": "text/xml; charset=koi8-r"},
            ["Привет, мир"],
        ),
        ("utf16-bom.xml", None, ["Grüße \u2014 東京 \U0001f4f0"]),
        ("utf8-bom.xml", None, ["Ünïcödé after a BOM"]),
        ("control-chars.xml", None, ["Bell and escape removed", "Formfeed and DEL and NUL gone"]),
        ("junk-before.xml", None, ["Still a feed"]),
        ("billion-laughs.xml", None, ["Laughing &lol9;"]),
        ("xxe.xml", None, ["Passwords: &xxe;"]),
        ("xxe-parameter.xml", None, ["One line, parameter entities"]),
    ],
)
def test_titles_of_other_documents(name: str, headers: dict[str, str] | None, expected: list[str]):
    assert [e.title for e in cleaned(name, headers)] == expected


# -- dedup and limit --------------------------------------------------------------


def test_first_occurrence_wins_and_dropped_entries_claim_no_key():
    feed = feed_of(
        entry(None, link="https://e.com/0", guid="same"),  # nothing to show: dropped
        entry("Kept", link="https://e.com/1", guid="same"),
        entry("Later duplicate", link="https://e.com/2", guid="same"),
        entry("By link", link="https://e.com/3"),
        entry("Same link, other title", link="https://e.com/3"),
        entry("Same link, but has a guid", link="https://e.com/3", guid="g3"),
        entry("Bad link first", link="javascript:x", guid="g4"),  # kept, without its link
        entry("Then a good one", link="https://e.com/4", guid="g4"),
    )
    assert [(e.key, e.title) for e in clean(feed, fetched_at=FETCHED)] == [
        ("guid:same", "Kept"),
        ("link:https://e.com/3", "By link"),
        ("guid:g3", "Same link, but has a guid"),
        ("guid:g4", "Bad link first"),
    ]


def test_published_falls_back_to_updated_when_missing_or_implausible():
    feed = feed_of(
        entry("a", link="https://e.com/a", updated=utc(2024, 1, 2)),
        entry("b", link="https://e.com/b", published=utc(1970, 1, 1), updated=utc(2024, 1, 3)),
        entry("c", link="https://e.com/c", published=utc(2024, 1, 1), updated=utc(2024, 1, 4)),
    )
    assert [e.published for e in clean(feed, fetched_at=FETCHED)] == [
        utc(2024, 1, 2),
        utc(2024, 1, 3),
        utc(2024, 1, 1),
    ]


def test_limit_keeps_the_newest_in_document_order():
    day = timedelta(days=1)
    oldest_first = [
        entry(f"e{i}", link=f"https://e.com/{i}", published=utc(2024, 1, 1) + i * day)
        for i in range(10)
    ]
    kept = clean(feed_of(*oldest_first), fetched_at=FETCHED, limit=3)
    assert [e.title for e in kept] == ["e7", "e8", "e9"]
    newest_first = list(reversed(oldest_first))
    kept = clean(feed_of(*newest_first), fetched_at=FETCHED, limit=3)
    assert [e.title for e in kept] == ["e9", "e8", "e7"]


def test_limit_counts_undated_entries_as_newest_and_ties_by_position():
    feed = feed_of(
        entry("old", link="https://e.com/1", published=utc(2020, 1, 1)),
        entry("undated", link="https://e.com/2"),
        entry("new", link="https://e.com/3", published=utc(2024, 1, 1)),
        entry("same as new", link="https://e.com/4", published=utc(2024, 1, 1)),
    )
    assert [e.title for e in clean(feed, fetched_at=FETCHED, limit=2)] == ["undated", "new"]
    assert [e.title for e in clean(feed, fetched_at=FETCHED, limit=3)] == [
        "undated",
        "new",
        "same as new",
    ]


def test_limit_zero_and_default():
    many = [entry(f"t{i}", link=f"https://e.com/{i}") for i in range(250)]
    assert clean(feed_of(*many), fetched_at=FETCHED, limit=0) == []
    assert len(clean(feed_of(*many), fetched_at=FETCHED)) == 200


def test_only_entries_without_title_or_text_are_dropped():
    feed = feed_of(
        entry(title=None),
        entry(title="   "),
        entry(title="<b></b>"),
        entry(title="<img src=x onerror=alert(1)>", link="https://e.com/img", text="<p> </p>"),
        entry(title="ok", link="page.html"),
    )
    assert rows(clean(feed, fetched_at=FETCHED)) == [
        (
            "link:https://news.example.org/feeds/page.html",
            "ok",
            "https://news.example.org/feeds/page.html",
            None,
        )
    ]


# -- properties -------------------------------------------------------------------

_PIECES = ["<", ">", "&", ";", "#", '"', "'", "/", "=", "<![", "<!--", "]]>", "&#x", "<b ", "</"]
_ANY_TEXT = st.lists(st.text(max_size=6) | st.sampled_from(_PIECES + list(BIDI)), max_size=25).map(
    "".join
)


@settings(max_examples=400, deadline=None)
@given(_ANY_TEXT)
def test_clean_title_output_is_safe_single_line_text(fragment: str):
    title = clean_title(fragment)
    assert xml_safe(title) == title
    assert not set(title) & set(BIDI)
    assert len(title) <= TITLE_MAX
    assert title == collapse_whitespace(title)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_escaped_text_comes_back_as_itself(text: str):
    """What parse hands over for a plain-text title survives clean exactly."""
    expected = collapse_whitespace(xml_safe(text).translate(dict.fromkeys(map(ord, BIDI))))
    if len(expected) > TITLE_MAX:
        return
    assert clean_title(html.escape(text, quote=False)) == expected


@settings(max_examples=400, deadline=None)
@given(
    link=_ANY_TEXT | st.sampled_from(["javascript:alert(1)", "data:,x", "//h/p", "http://h/p"]),
    base=st.sampled_from([None, URL, "file:///x", "javascript:x", "nonsense"]),
)
def test_clean_link_is_none_or_absolute_http(link: str, base: str | None):
    url = clean_link(link, base=base)
    if url is not None:
        assert url.startswith(("http://", "https://"))
        assert not any(c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in url)
        assert not set(url) & set(BIDI)
        assert len(url) <= LINK_MAX


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.builds(
            entry,
            title=_ANY_TEXT,
            link=_ANY_TEXT | st.just("https://e.com/x"),
            guid=st.none() | st.sampled_from(["a", "b", " a "]),
            published=st.none() | st.datetimes(timezones=st.just(UTC)),
        ),
        max_size=12,
    ),
    st.integers(min_value=0, max_value=15),
)
def test_clean_output_invariants(entries: list[EntryData], limit: int):
    out = clean(feed_of(*entries), fetched_at=FETCHED, limit=limit)
    assert len(out) <= limit
    assert len({e.key for e in out}) == len(out)
    for item in out:
        assert item.title
        assert item.link == "" or item.link.startswith(("http://", "https://"))
        assert item.published is None or EARLIEST <= item.published <= FETCHED + FUTURE_MAX


# -- languages (issue 12, point 16) -----------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ar", "ar"),
        ("en-us", "en-US"),
        ("en_GB", "en-GB"),
        (" FR-ca ", "fr-CA"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("sr-Latn", "sr-Latn"),
        ("es-419", "es-419"),
        ("de-CH-1901", "de-CH-1901"),
        ("ckb-IQ", "ckb-IQ"),
        ("en-US-x-Twain", "en-US-x-twain"),
        ("iw", "he"),  # deprecated codes old software still writes
        ("ji", "yi"),
        ("und", None),  # well formed, but naming no language
        ("mul", None),
        ("English", None),
        ("en-US, fr", None),
        ("en_US.UTF-8", None),
        ("e", None),
        ("x-klingon", None),
        ("ar-", None),
        ("<script>", None),
        ("en-" + "a" * 70, None),
        ("", None),
        (None, None),
    ],
)
def test_clean_language(value: str | None, expected: str | None):
    assert clean_language(value) == expected


def test_an_entry_keeps_a_language_only_when_it_differs_from_its_sources():
    feed = FeedData(
        title=None,
        link=None,
        ttl=None,
        language="fr_fr",
        entries=(
            EntryData("1", "https://e.com/1", "Un", None, None, URL, None, "fr-FR"),
            EntryData("2", "https://e.com/2", "Two", None, None, URL, None, "EN"),
            EntryData("3", "https://e.com/3", "Trois", None, None, URL, None, None),
            EntryData("4", "https://e.com/4", "Quatre", None, None, URL, None, "gibberish!"),
        ),
    )
    assert [e.language for e in clean(feed, fetched_at=FETCHED)] == [None, "en", None, None]


def test_arabic_and_french_documents_clean_to_their_languages():
    from tests.test_fetch_parse import FRENCH_ATOM

    assert [e.language for e in cleaned("arabic.xml")] == [None, None, None]
    french = clean(parse(FRENCH_ATOM, url=URL, headers={}), fetched_at=FETCHED)
    assert [e.language for e in french] == [None, "en", "de"]
