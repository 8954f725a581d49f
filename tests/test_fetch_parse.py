"""The parse stage: outside bytes -> FeedData, repaired where the wild breaks them.

Every document lives in tests/data/outside/, written by hand to show one
kind of breakage or hostility each; the tests assert exactly what comes out.
"""

from __future__ import annotations

import io
import pickle
import pyexpat
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.fetch.clean import FUTURE_MAX, clean
from syndicate.fetch.parse import parse
from syndicate.fetch.types import EntryData, FeedData, FetchError
from syndicate.text import xml_safe

DATA = Path(__file__).parent / "data" / "outside"
URL = "https://news.example.org/feeds/world.xml"
OTHER_URL = "http://mirror.example.net/a/b/c/other.rss"
FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def doc(name: str) -> bytes:
    return (DATA / name).read_bytes()


def parsed(name: str, headers: dict[str, str] | None = None, url: str = URL) -> FeedData:
    return parse(doc(name), url=url, headers=headers or {})


def titles(feed: FeedData) -> list[str]:
    return [entry.title or "" for entry in feed.entries]


def clean_titles(feed: FeedData) -> list[str]:
    return [entry.title for entry in clean(feed, fetched_at=FETCHED)]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- the five formats -------------------------------------------------------------


def test_rss_091_with_netscape_doctype_and_html_entities():
    feed = parsed("rss091.xml")
    assert (feed.title, feed.link, feed.ttl) == ("Old Gazette", "http://old.example.com/", None)
    assert feed.entries == (
        EntryData(
            guid=None,
            link="http://old.example.com/news/cafe.html",
            title="Café de la Gare reopens",
            published=None,
            updated=None,
            base=URL,
            text="It\u2019s back.",  # the description: what a title is made from if need be
        ),
        EntryData(
            guid=None,
            link="http://old.example.com/news/weather.html",
            title="Weather \u2014 sunny\u00a0spells",
            published=None,
            updated=None,
            base=URL,
        ),
    )
    # The DTD that defines those entities is never loaded: it is removed, and
    # the entities become numeric references. Said so in the warning.
    assert (
        feed.warning
        == "repaired: 1 DOCTYPE or markup declarations removed, 4 HTML entities made numeric"
    )


def test_rss_10_rdf_items_take_rdf_about_as_guid_and_dc_date():
    feed = parsed("rss10.rdf")
    assert (feed.title, feed.link) == ("RDF Times", "http://rdf.example.net/")
    assert [(e.guid, e.link, e.title, e.published, e.updated) for e in feed.entries] == [
        (
            "http://rdf.example.net/story/1",
            "http://rdf.example.net/story/1",
            "First story",
            None,
            utc(2024, 3, 4, 4, 6, 7),
        ),
        (
            "http://rdf.example.net/story/2",
            "http://rdf.example.net/story/2",
            "Second story",
            None,
            utc(2024, 3, 3, 12, 0),
        ),
    ]
    assert feed.warning is None


def test_rss_20_fields_ttl_and_dates_in_utc():
    feed = parsed("rss20.xml")
    assert (feed.title, feed.link, feed.ttl) == (
        "The Daily Example",
        "https://daily.example.com/",
        90,
    )
    first, fish, cartoons, spaces = feed.entries
    assert first == EntryData(
        guid="https://daily.example.com/2024/05/budget",
        link="https://daily.example.com/2024/05/budget",
        title="Budget passes after all-night session",
        published=utc(2024, 5, 14, 4, 30),
        updated=None,
        base=URL,
    )
    # Titles come out as HTML fragments: CDATA markup stays markup ...
    assert fish.title == "Fish &amp; Chips: a <em>history</em>"
    # ... and so is entity-escaped markup, once the XML is decoded: an RSS
    # title is HTML (clean will read "Tom & Jerry <3").
    assert cartoons.title == "Tom &amp; Jerry <3 \u2014 \u201cquoted\u201d"
    assert (cartoons.published, cartoons.updated) == (None, utc(2024, 5, 12, 13, 15))
    assert spaces.link == "https://daily.example.com/2024/05/spaces"
    assert feed.warning is None


def test_atom_with_xml_base_resolves_links_and_reports_the_base_in_force():
    feed = parsed("atom-xmlbase.xml")
    assert feed.title == "Atom &amp; Eve"  # type="text", escaped: it is HTML from here on
    assert feed.link == "https://atom.example.org/news/"
    assert [(e.guid, e.link, e.base) for e in feed.entries] == [
        (
            "tag:atom.example.org,2024:1",
            "https://atom.example.org/news/2024/relative.html",
            "https://atom.example.org/news/",
        ),
        (
            "tag:atom.example.org,2024:2",
            "https://atom.example.org/sport/match.html",  # the alternate, not the enclosure
            "https://atom.example.org/sport/",
        ),
        (
            "tag:atom.example.org,2024:3",
            "https://elsewhere.example.net/absolute",
            "https://atom.example.org/news/",
        ),
        (
            "tag:atom.example.org,2024:4",
            "https://atom.example.org/opinion/brackets.html",
            "https://atom.example.org/news/",
        ),
    ]
    assert titles(feed) == [
        "Relative link, feed-level base",
        "Entry-level base: <b>bold</b> &amp; brave",
        "XHTML <i>title</i>",
        # A type="text" title is text: escaped, so clean shows its brackets.
        "A plain-text title with &lt;angle brackets&gt; kept",
    ]
    assert feed.entries[0].published == utc(2024, 5, 14, 7, 0)
    assert feed.entries[0].updated == utc(2024, 5, 14, 10, 0)


def test_json_feed_10():
    feed = parsed("jsonfeed-1.0.json")
    assert (feed.title, feed.link, feed.ttl, feed.warning) == (
        "JSON One",
        "https://json.example.com/",
        None,
        None,
    )
    assert feed.entries == (
        EntryData(
            guid="https://json.example.com/a",
            link="https://json.example.com/a",
            title="Version one item",
            published=utc(2024, 5, 10, 15, 0),
            updated=None,
            base=URL,
            text="Hello.",  # content_text
        ),
        EntryData(
            guid="42",  # a number, coerced to a string as the spec asks
            link="https://other.example.net/linked",  # external_url when there is no url
            title="Numeric id, external URL only",
            published=None,
            updated=utc(2024, 5, 9, 8, 0),
            base=URL,
            text="<p>Hi</p>",  # content_html
        ),
        EntryData(
            guid="relative-url",
            link="/posts/relative",
            title="Don&#8217;t panic",
            published=None,
            updated=None,
            base=URL,
            text="WordPress-style entity in a JSON title.",
        ),
    )


def test_json_feed_11_skips_non_objects_and_keeps_the_rest_raw():
    feed = parsed("jsonfeed-1.1.json")
    assert feed.title == "JSON One-One"
    assert [(e.guid, e.link, e.title, e.published, e.updated) for e in feed.entries] == [
        (
            "1",
            "https://json11.example.com/1",
            "<script>alert('x')</script>Scripted <b onclick=\"steal()\">title</b>",
            utc(2024, 5, 10, 8, 0),
            utc(2024, 5, 11, 8, 0),
        ),
        ("2", "javascript:alert(document.cookie)", "A javascript: link", None, None),
        ("3", "https://json11.example.com/3", None, None, None),
        ("4", "https://json11.example.com/4", "Bad date", None, None),
    ]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        pytest.param(b"\xef\xbb\xbf" + doc("jsonfeed-1.0.json"), {}, id="utf-8 BOM"),
        pytest.param(b"\n\n   " + doc("jsonfeed-1.0.json"), {}, id="leading whitespace"),
        pytest.param(
            doc("jsonfeed-1.0.json"),
            {"Content-Type": "text/html; charset=utf-8"},
            id="served as HTML",
        ),
        pytest.param(doc("jsonfeed-1.0.json").decode().encode("utf-16"), {}, id="utf-16 with BOM"),
    ],
)
def test_json_feed_is_sniffed_whatever_the_wrapping(body: bytes, headers: dict[str, str]):
    assert parse(body, url=URL, headers=headers) == parsed("jsonfeed-1.0.json")


def test_xml_served_as_json_is_still_read_as_xml():
    headers = {"Content-Type": "application/feed+json"}
    assert parsed("rss20.xml", headers) == parsed("rss20.xml")


# -- encodings ------------------------------------------------------------------


def test_windows_1252_by_declaration():
    feed = parsed("windows-1252.xml")
    assert feed.title == "Café \u201cSociété\u201d"
    assert titles(feed) == [
        "\u201cSmart quotes\u201d cost \u20ac5 \u2014 naïve résumé",
        "It\u2019s Škoda and Žižek? No: Œuvre \u2026",
    ]


def test_a_charset_that_does_not_fit_the_bytes_is_skipped():
    # The server says UTF-8; the bytes are not; the declaration is right.
    assert parsed("windows-1252.xml", {"Content-Type": "text/xml; charset=utf-8"}) == parsed(
        "windows-1252.xml"
    )


def test_latin1_without_declaration_by_http_charset():
    feed = parsed(
        "latin1-no-declaration.xml", {"content-type": "application/rss+xml; charset=ISO-8859-1"}
    )
    assert titles(feed) == ["Grüße aus Zürich, Ça va, señor"]
    assert feed.title == "Zürich Zeitung"


def test_http_charset_beats_the_xml_declaration():
    koi8 = {"Content-Type": "text/xml; charset=koi8-r"}
    assert titles(parsed("koi8r-wrong-declaration.xml", koi8)) == ["Привет, мир"]
    # Without the header the (wrong) declaration is all there is to go on.
    mojibake = "Привет, мир".encode("koi8-r").decode("cp1251")
    assert titles(parsed("koi8r-wrong-declaration.xml")) == [mojibake]


def test_utf16_with_bom_and_a_bom_beats_a_lying_header():
    expected = ["Grüße \u2014 東京 \U0001f4f0"]
    assert titles(parsed("utf16-bom.xml")) == expected
    assert (
        titles(parsed("utf16-bom.xml", {"Content-Type": "text/xml; charset=iso-8859-1"}))
        == expected
    )


def test_utf16_without_bom_is_recognised():
    text = doc("rss20.xml").decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    for codec in ("utf-16-le", "utf-16-be"):
        assert parse(text.encode(codec), url=URL, headers={}) == parsed("rss20.xml")


def test_utf8_with_bom():
    feed = parsed("utf8-bom.xml")
    assert titles(feed) == ["Ünïcödé after a BOM"]
    assert feed.warning is None


def test_arabic_text_survives_even_when_mislabelled_latin1():
    expected = [
        "انتخابات جديدة في البلاد",
        "الطقس: أمطار غزيرة \u200fاليوم\u200f و\u202eoverride\u202c هنا",  # noqa: RUF001
        "مدينة القدس",
    ]
    assert titles(parsed("arabic.xml")) == expected
    # Servers stamp ISO-8859-1 on UTF-8 all the time; valid UTF-8 wins.
    assert (
        titles(parsed("arabic.xml", {"Content-Type": "text/xml; charset=ISO-8859-1"})) == expected
    )
    assert parsed("arabic.xml").title == "الأخبار العربية"


def test_a_utf16_label_on_ascii_compatible_bytes_is_ignored():
    assert parsed("rss20.xml", {"Content-Type": "text/xml; charset=utf-16"}) == parsed("rss20.xml")


@pytest.mark.parametrize("charset", ["utf-7", "unicode_escape", "base64", "no-such-charset", '"'])
def test_odd_or_refused_charsets_fall_back(charset: str):
    headers = {"Content-Type": f"text/xml; charset={charset}"}
    assert parsed("rss20.xml", headers) == parsed("rss20.xml")


# -- repairs --------------------------------------------------------------------


def test_html_named_entities_keep_their_letters():
    feed = parsed("html-entities.xml")
    assert feed.title == "Entités & Co"
    assert titles(feed) == [
        "Café crème\u00a0et crêpes \u2014 voilà\u2026",
        # Bare ampersands and unknown entities are escaped: kept as written.
        "R&D at AT&T &copy 2024 &notarealentity; done",
        # &#146; and &#151; mean what they mean in HTML (windows-1252).
        "It\u2019s windows-1252 \u2014 in numeric references",
        "Illegal references   dropped",
        "CDATA keeps &eacute; and a bare & as they are",
        "Zürich & Århus <3 fjords",  # &fjlig; is HTML5's, unknown to feedparser
    ]
    assert feed.entries[1].link == "https://entities.example.com/search?q=r&d&page=2"
    # CDATA is left exactly as written.
    assert feed.entries[4].guid == "e5?x=1&y=&eacute;"
    assert feed.warning == (
        "repaired: 11 HTML entities made numeric, "
        "6 stray ampersands or undefined entities escaped, "
        "3 references to characters XML forbids dropped"
    )


def test_feedparser_alone_mangles_what_the_repair_keeps():
    """Why the repair exists: on ill-formed XML feedparser falls back to a
    lenient parser that invents semicolons, escapes CDATA a second time,
    knows no HTML5 entities and keeps control characters."""
    result = feedparser.parse(io.BytesIO(doc("html-entities.xml")))
    assert result.bozo
    assert result.entries[1].title == "R&D; at AT&T; \u00a9 2024 &notarealentity; done"
    assert result.entries[3].title == "Illegal references\x00 \x01 \ufffe dropped"
    assert result.entries[4].id == "e5?x=1&amp;y=&amp;eacute;"
    assert result.entries[5].title == "Zürich & Århus <3 &fjlig;ords"


def test_raw_control_characters_are_removed():
    feed = parsed("control-chars.xml")
    assert feed.title == "Control Room"
    assert titles(feed) == ["Bell and escape removed", "Formfeed and DEL and NUL gone"]
    assert feed.warning == "repaired: 7 control characters removed"


def test_junk_before_the_document_is_cut():
    feed = parsed("junk-before.xml")
    assert titles(feed) == ["Still a feed"]
    assert feed.warning == "repaired: 62 characters of junk before the document removed"


def test_truncated_document_is_refused_whole_with_the_parsers_reason():
    """Issue 12, point 14: feedparser's lenient mode used to keep the two whole
    items (and the feed title); a document cut off before its end is refused."""
    with pytest.raises(FetchError) as caught:
        parsed("truncated.xml")
    assert (caught.value.stage, caught.value.message) == (
        "parse",
        # lxml's words; line 18 is the file's own (the repair keeps line numbers).
        "document cut off before its end: "
        "Premature end of data in tag title line 18, line 18, column 40",
    )


# -- not a feed -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "stage", "message"),
    [
        (doc("not-a-feed.html"), "parse", "not a feed: looks like an HTML page"),
        (b"<html><body><p>hi</p></body></html>", "parse", "not a feed: looks like an HTML page"),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
            b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html/>',
            "parse",
            "not a feed: looks like an HTML page",
        ),
        (b"", "empty", "empty response body"),
        (b" \r\n\t ", "empty", "empty response body"),
        (b"Just some text.", "parse", "not a feed: neither XML nor JSON"),
        (b"<note><to>you</to></note>", "parse", "not a feed: no RSS, Atom or RDF entries found"),
        (b"[1, 2, 3]", "parse", "not a feed: neither XML nor JSON"),
        (b'{"title": "no items"}', "parse", "not a feed: JSON without an items list"),
        (
            b'{"items": ["a", 1, null]}',
            "parse",
            "not a feed: no JSON Feed version and no item objects",
        ),
    ],
)
def test_documents_that_are_not_feeds_are_errors(body: bytes, stage: str, message: str):
    with pytest.raises(FetchError) as caught:
        parse(body, url=URL, headers={})
    assert (caught.value.stage, caught.value.message) == (stage, message)


def test_invalid_and_absurdly_nested_json_are_parse_errors():
    for body in (b'{"items": [', b"{" + b'"a":[' * 100_000 + b"]" * 100_000 + b"}"):
        with pytest.raises(FetchError) as caught:
            parse(body, url=URL, headers={"Content-Type": "application/feed+json"})
        assert caught.value.stage == "parse"
        assert caught.value.message.startswith("not a feed: invalid JSON")


def test_json_content_type_with_non_json_body():
    with pytest.raises(FetchError) as caught:
        parse(b"nope", url=URL, headers={"Content-Type": "application/json"})
    assert caught.value.message.startswith("not a feed: invalid JSON")


# -- safety -----------------------------------------------------------------------

PASSWD = Path("/etc/passwd")


def _secrets() -> list[str]:
    """Lines of /etc/passwd that must never show up in anything we parse."""
    if not PASSWD.exists():
        return ["root:x:0:0"]
    return [line for line in PASSWD.read_text().splitlines() if line.strip()][:3]


def _everything(feed: FeedData) -> str:
    return repr(feed) + repr(clean(feed, fetched_at=FETCHED))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(doc("billion-laughs.xml"), id="file"),
        pytest.param(doc("billion-laughs.xml").replace(b"\n", b""), id="one line"),
        pytest.param(
            doc("billion-laughs.xml").replace(b"<!DOCTYPE rss [", b"<!doctype rss [\n"),
            id="lower-case doctype",
        ),
    ],
)
def test_billion_laughs_finishes_fast_in_little_memory(body: bytes):
    tracemalloc.start()
    started = time.perf_counter()
    try:
        feed = parse(body, url=URL, headers={})
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seconds < 2
    assert peak < 10_000_000
    assert clean_titles(feed) == ["Laughing &lol9;"]
    assert "lollol" not in _everything(feed)


@pytest.mark.skipif(
    pyexpat.version_info < (2, 4, 0), reason="an expat without amplification limits would blow up"
)
def test_raw_feedparser_is_slow_on_the_one_line_bomb_we_defuse():
    """Finding: feedparser's own DOCTYPE stripping is a line-anchored regex;
    on one line the bomb reaches expat, which stops it only by its
    amplification limit, after seconds and tens of megabytes."""
    body = doc("billion-laughs.xml").replace(b"\n", b"")
    result = feedparser.parse(io.BytesIO(body))
    assert result.bozo
    assert "amplification" in str(result.bozo_exception)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(doc("xxe.xml"), id="general entity"),
        pytest.param(doc("xxe-parameter.xml"), id="parameter entity"),
        pytest.param(
            b'<rss version="2.0"><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b"<channel><title>t</title><item><title>In body &xxe;</title>"
            b'<guid isPermaLink="false">b1</guid><link>https://x.example/1</link></item>'
            b"</channel></rss>",
            id="doctype after the root",
        ),
        pytest.param(
            b'<!DOCTYPE rss [<!ENTITY a "]>"><!-- "]> --><!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<rss version="2.0"><channel><title>t</title><item><title>Tricky &xxe;</title>'
            b'<guid isPermaLink="false">q1</guid><link>https://x.example/1</link></item>'
            b"</channel></rss>",
            id="quoted ]> inside the internal subset",
        ),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "file:///etc/passwd">'
            b'<rss version="2.0"><channel><title>t</title><item><title>External DTD</title>'
            b'<guid isPermaLink="false">d1</guid><link>https://x.example/1</link></item>'
            b"</channel></rss>",
            id="external dtd",
        ),
    ],
)
def test_external_entities_never_leak_local_files(body: bytes):
    feed = parse(body, url=URL, headers={})
    assert feed.entries
    everything = _everything(feed)
    for secret in _secrets():
        assert secret not in everything


def test_xxe_titles_keep_the_reference_as_inert_text():
    feed = parsed("xxe.xml")
    assert clean_titles(feed) == ["Passwords: &xxe;"]
    assert feed.warning == (
        "repaired: 1 DOCTYPE or markup declarations removed, "
        "5 stray ampersands or undefined entities escaped"
    )


def test_body_naming_a_local_file_is_not_opened(tmp_path: Path):
    """Finding: feedparser.parse(bytes) opens the bytes as a path if such a
    file exists; parse() hands it a BytesIO instead."""
    local = tmp_path / "local.xml"
    local.write_bytes(doc("rss20.xml"))
    assert feedparser.parse(str(local).encode()).entries  # the trap, shown
    with pytest.raises(FetchError) as caught:
        parse(str(local).encode(), url=URL, headers={})
    assert caught.value.message == "not a feed: neither XML nor JSON"


def test_a_str_body_is_encoded_not_fetched_or_opened():
    text = doc("rss20.xml").decode("utf-8")
    assert parse(text, url=URL, headers={}) == parsed("rss20.xml")  # type: ignore[arg-type]
    with pytest.raises(FetchError):
        parse("https://daily.example.com/feed.xml", url=URL, headers={})  # type: ignore[arg-type]


# -- identity ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["guids.xml", "rss20.xml", "atom-xmlbase.xml", "rss10.rdf", "jsonfeed-1.0.json"]
)
def test_guids_do_not_depend_on_the_fetch_url(name: str):
    here = [e.guid for e in parsed(name).entries]
    there = [e.guid for e in parsed(name, url=OTHER_URL).entries]
    assert here == there
    keys_here = [e.key for e in clean(parsed(name), fetched_at=FETCHED)]
    keys_there = [e.key for e in clean(parsed(name, url=OTHER_URL), fetched_at=FETCHED)]
    assert keys_here == keys_there


def test_guids_are_the_raw_text_and_parse_keeps_duplicates_for_clean():
    feed = parsed("guids.xml")
    assert [(e.guid, e.link) for e in feed.entries] == [
        ("123", "https://guids.example.com/a"),
        ("items/5", "https://guids.example.com/b"),
        ("/archive/7", "/archive/7"),  # a permalink GUID is the link; clean resolves it
        ("123", "https://guids.example.com/a-again"),
        (None, "https://guids.example.com/c"),
        (None, "https://guids.example.com/c"),
        (None, "https://guids.example.com/d"),
        ("urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", "https://guids.example.com/e"),
    ]


def test_feedparser_alone_would_make_guids_depend_on_the_url():
    """Finding: given the feed's URL, feedparser resolves bare permalink GUIDs."""
    result = feedparser.parse(
        io.BytesIO(doc("guids.xml")), response_headers={"content-location": URL}
    )
    assert result.entries[0].id == "https://news.example.org/feeds/123"


ATOM_RELATIVE_IDS = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="/base/">
  <title>Relative ids</title>
  <entry><title>One</title><id>entry-1</id><link href="one"/></entry>
  <entry xml:base="nested/"><title>Two</title><id>../entry-2</id><link href="two"/></entry>
  <entry xml:base="/root/"><title>Three</title><id>entry-3</id><link href="../three"/></entry>
</feed>"""


def test_relative_atom_ids_under_xml_base_stay_raw_and_links_resolve():
    here = parse(ATOM_RELATIVE_IDS, url=URL, headers={})
    there = parse(ATOM_RELATIVE_IDS, url=OTHER_URL, headers={})
    assert [e.guid for e in here.entries] == ["entry-1", "../entry-2", "entry-3"]
    assert [e.guid for e in there.entries] == ["entry-1", "../entry-2", "entry-3"]
    assert [(e.link, e.base) for e in here.entries] == [
        ("https://news.example.org/base/one", "https://news.example.org/base/"),
        ("https://news.example.org/base/nested/two", "https://news.example.org/base/nested/"),
        ("https://news.example.org/three", "https://news.example.org/root/"),
    ]
    assert [e.link for e in clean(there, fetched_at=FETCHED)] == [
        "http://mirror.example.net/base/one",
        "http://mirror.example.net/base/nested/two",
        "http://mirror.example.net/three",
    ]


def test_when_the_parsers_disagree_ids_come_from_a_run_without_base():
    # Two documents glued together: expat stops after the first, lxml's
    # recovery sees one entry, feedparser's lenient mode sees both.
    body = (
        b'<rss version="2.0" xml:base="/x/"><channel><title>A</title>'
        b"<item><title>a</title><guid>g1</guid></item></channel></rss>"
        b"<rss><channel><item><title>b</title><guid>g2</guid><link>b.html</link></item>"
        b"</channel></rss>"
    )
    here = parse(body, url=URL, headers={})
    there = parse(body, url=OTHER_URL, headers={})
    # Resolved against the document's own (relative) xml:base only: not raw,
    # but the same from any URL, which is what matters.
    assert [e.guid for e in here.entries] == ["/x/g1", "/x/g2"] == [e.guid for e in there.entries]
    assert here.warning is not None
    assert "entry IDs read without a base URL (parsers disagreed)" in here.warning
    assert [e.link for e in here.entries] == [
        "https://news.example.org/x/g1",
        "https://news.example.org/x/b.html",
    ]


# -- dates ----------------------------------------------------------------------


def test_dates_are_aware_utc_and_left_unjudged_for_clean():
    feed = parsed("dates.xml")
    assert [(e.published, e.updated) for e in feed.entries] == [
        (None, None),
        (utc(1970, 1, 1), None),
        (utc(1990, 1, 1, 12), None),
        (utc(2999, 12, 31, 23, 59, 59), None),
        (None, None),
        (utc(2024, 5, 15, 4, 0), None),
        (utc(1970, 1, 1), utc(2024, 5, 1, 12)),  # pubDate, and dc:date as updated
        (utc(1995, 1, 1), None),
    ]


# -- the contract with the runner -------------------------------------------------


def test_feed_data_is_picklable_for_a_process_pool():
    feed = parsed("atom-xmlbase.xml")
    assert pickle.loads(pickle.dumps(feed)) == feed


def test_headers_are_matched_case_insensitively():
    lower = parsed("koi8r-wrong-declaration.xml", {"content-type": "text/xml; charset=koi8-r"})
    upper = parsed("koi8r-wrong-declaration.xml", {"CONTENT-TYPE": "text/xml; charset=KOI8-R"})
    assert lower == upper


def test_a_served_content_location_is_not_a_base():
    headers = {"Content-Location": "https://evil.example/elsewhere/"}
    feed = parsed("guids.xml", headers)
    assert [e.link for e in clean(feed, fetched_at=FETCHED)][
        2
    ] == "https://news.example.org/archive/7"


# -- properties -------------------------------------------------------------------

ALL_DOCUMENTS = sorted(DATA.iterdir())


def _check(feed_or_error: FeedData | None) -> None:
    if feed_or_error is None:
        return
    for entry in clean(feed_or_error, fetched_at=FETCHED):
        assert entry.title
        assert entry.link == "" or entry.link.startswith(("http://", "https://"))
        assert xml_safe(entry.title) == entry.title
        assert not set(entry.title) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
        assert entry.published is None or entry.published <= FETCHED + FUTURE_MAX


def _parse_or_none(body: bytes, headers: dict[str, str]) -> FeedData | None:
    try:
        return parse(body, url=URL, headers=headers)
    except FetchError:
        return None


HEADERS = st.sampled_from(
    [
        {},
        {"Content-Type": "application/json"},
        {"Content-Type": "text/xml; charset=utf-16"},
        {"Content-Type": "text/html; charset=iso-8859-1"},
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=2000), headers=HEADERS)
def test_arbitrary_bytes_raise_nothing_but_fetch_error(body: bytes, headers: dict[str, str]):
    _check(_parse_or_none(body, headers))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    index=st.integers(min_value=0, max_value=len(ALL_DOCUMENTS) - 1),
    headers=HEADERS,
)
def test_mangled_documents_raise_nothing_but_fetch_error(
    data: st.DataObject, index: int, headers: dict[str, str]
):
    body = bytearray(ALL_DOCUMENTS[index].read_bytes())
    snippets = st.sampled_from(
        [b"&", b"<", b"]]>", b"<![CDATA[", b"<!--", b"<?", b"&eacute;", b"&#0;", b"\x00",
         b"<!DOCTYPE x [", b"<item>", b"</item>", b' xml:base="/a/" ', b"\xff\xfe", b"\xef\xbb\xbf"]
    )  # fmt: skip
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(body)))
        action = data.draw(st.sampled_from(["cut", "insert", "truncate", "bytes"]))
        if action == "cut":
            del body[at : at + data.draw(st.integers(1, 40))]
        elif action == "insert":
            body[at:at] = data.draw(snippets)
        elif action == "bytes":
            body[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del body[at:]
    _check(_parse_or_none(bytes(body), headers))


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from("<>&;\"'#\u202e"),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(
    titles=st.lists(_TEXT, min_size=1, max_size=4), links=st.lists(_TEXT, min_size=1, max_size=4)
)
def test_feeds_built_from_arbitrary_text_parse_and_clean_safely(
    titles: list[str], links: list[str]
):
    from xml.sax.saxutils import escape

    items = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        f"<guid isPermaLink='false'>{escape(t + link)}</guid></item>"
        for t, link in zip(titles, links, strict=False)
    )
    body = f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()
    _check(_parse_or_none(body, {}))


def test_doctype_removal_respects_quotes_and_comments_in_the_internal_subset():
    body = (
        b'<!DOCTYPE rss [<!ENTITY a "]>"><!-- "]> --><!ENTITY b \'>\'>]>'
        b'<rss version="2.0"><channel><title>t</title><item><title>Tricky &a;</title>'
        b'<guid isPermaLink="false">q1</guid><link>https://x.example/1</link></item>'
        b"</channel></rss>"
    )
    feed = parse(body, url=URL, headers={})
    assert clean_titles(feed) == ["Tricky &a;"]
    assert feed.warning == (
        "repaired: 1 DOCTYPE or markup declarations removed, "
        "1 stray ampersands or undefined entities escaped"
    )


# -- languages (issue 12, point 16) -----------------------------------------------

FRENCH_ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr-FR">
  <title>Le Quotidien</title>
  <id>tag:quotidien.example,2024:feed</id>
  <link href="https://quotidien.example/"/>
  <updated>2024-05-14T08:00:00Z</updated>
  <entry>
    <title>Grève des cheminots : le trafic perturbé</title>
    <id>tag:quotidien.example,2024:1</id>
    <link href="https://quotidien.example/1"/>
    <updated>2024-05-14T08:00:00Z</updated>
  </entry>
  <entry xml:lang="en">
    <title>An English dispatch in a French feed</title>
    <id>tag:quotidien.example,2024:2</id>
    <link href="https://quotidien.example/2"/>
    <updated>2024-05-14T07:00:00Z</updated>
  </entry>
  <entry>
    <title xml:lang="de">Ein Titel auf Deutsch</title>
    <id>tag:quotidien.example,2024:3</id>
    <link href="https://quotidien.example/3"/>
    <updated>2024-05-14T06:00:00Z</updated>
  </entry>
</feed>
""".encode()


def test_rss_language_element_is_the_feeds_language():
    assert parsed("arabic.xml").language == "ar"
    assert parsed("rss091.xml").language == "fr"
    assert all(entry.language is None for entry in parsed("arabic.xml").entries)


def test_atom_xml_lang_is_the_feeds_and_an_entrys_own_is_kept():
    feed = parse(FRENCH_ATOM, url=URL, headers={})
    assert feed.language == "fr-FR"
    # Each entry's xml:lang in force on its title: the feed's, or its own.
    assert [entry.language for entry in feed.entries] == ["fr-FR", "en", "de"]


def test_rss_dc_language_on_an_item_is_its_own():
    body = b"""<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
    <title>T</title><language>en-gb</language>
    <item><title>One</title><guid>1</guid></item>
    <item><title>Deux</title><guid>2</guid><dc:language>fr</dc:language></item>
    </channel></rss>"""
    feed = parse(body, url=URL, headers={})
    assert feed.language == "en-gb"
    assert [entry.language for entry in feed.entries] == [None, "fr"]


def test_json_feed_language_and_an_items_own():
    feed = parsed("jsonfeed-1.1.json")
    assert feed.language == "en"
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "language": "he", "items": ['
        b'{"id": "1", "title": "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"},'
        b'{"id": "2", "title": "Hello", "language": "en-US"}]}'
    )
    feed = parse(body, url=URL, headers={"content-type": "application/feed+json"})
    assert feed.language == "he"
    assert [entry.language for entry in feed.entries] == [None, "en-US"]


def test_a_servers_content_language_is_not_the_feeds():
    """A site-wide Content-Language says nothing about an outside feed's text."""
    feed = parse(doc("atom-xmlbase.xml"), url=URL, headers={"Content-Language": "de"})
    assert feed.language is None
    assert {entry.language for entry in feed.entries} == {None}
    assert parsed("arabic.xml", headers={"Content-Language": "en"}).language == "ar"
