"""The feed builders, checked on real documents: parsed strictly, validated, read back.

No mocks: each test renders a document with ``render`` and reads it the way
a consumer would — lxml without recovery, the RFC 4287 RELAX NG schema, a
JSON Schema written from JSON Feed 1.1, and feedparser for what readers see.
"""

from __future__ import annotations

import calendar
import html
import json
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest
from lxml import etree

from syndicate.formats import atom, jsonfeed, rss
from syndicate.formats.render import render
from syndicate.formats.spec import FORMATS, FeedFormat, FeedSpec, PageLinks, entry_id, permalink
from syndicate.formats.urls import to_uri
from syndicate.formats.view import EPOCH, absolute_url, absolutize_html
from syndicate.models import Article, Author, Image, PrintIssue, Tag
from tests.factories import BODY, ROOT, T0, make_article, make_articles, make_spec

SCHEMAS = Path(__file__).parent / "schemas"
NS = {
    "a": "http://www.w3.org/2005/Atom",
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "media": "http://search.yahoo.com/mrss/",
}
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, huge_tree=False)


# --- readers ------------------------------------------------------------------


@pytest.fixture(scope="session")
def atom_schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))


@pytest.fixture(scope="session")
def json_schema() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, STRICT)


def check_atom(data: bytes, schema: etree.RelaxNG) -> etree._Element:
    """Parse strictly, validate against RFC 4287's schema and its two Schematron rules."""
    root = xml(data)
    assert schema.validate(root), schema.error_log
    has_feed_author = bool(root.findall("a:author", NS))
    for entry in root.findall("a:entry", NS):
        alternate = entry.xpath("a:link[@rel='alternate' or not(@rel)] | a:content", namespaces=NS)
        assert alternate, "an entry needs an alternate link or content"
        assert has_feed_author or entry.findall("a:author", NS), "entry without any author"
    return root


def check_json(data: bytes, validator: jsonschema.protocols.Validator) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(data.decode("utf-8"))
    errors = sorted(validator.iter_errors(document), key=str)
    assert not errors, [e.message for e in errors]
    return document


def check_rss(data: bytes) -> etree._Element:
    """RSS 2.0 has no official schema; check what the spec and the profile require."""
    root = xml(data)
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for name in ("title", "link", "description"):
        assert (channel.findtext(name) or "").strip(), f"channel needs <{name}>"
    for item in channel.findall("item"):
        assert (item.findtext("title") or item.findtext("description") or "").strip()
        assert item.find("author") is None, "RSS <author> must be an email; use dc:creator"
        pub = item.findtext("pubDate")
        assert pub is not None
        assert parsedate_to_datetime(pub).tzinfo is not None
        guid = item.find("guid")
        assert guid is not None
        assert guid.get("isPermaLink") == "false"
        enclosure = item.find("enclosure")
        if enclosure is not None:
            assert enclosure.get("url")
            assert enclosure.get("type")
            assert (enclosure.get("length") or "").isdigit()
    return root


def texts(root: etree._Element, path: str) -> list[str]:
    """The string results of an XPath query, as plain strings."""
    found = root.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [str(x) for x in found]


def struct_utc(moment: time.struct_time) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(moment), UTC)


def parse_date(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- every format -------------------------------------------------------------

VARIANTS: dict[str, tuple[FeedSpec, list[Article]]] = {
    "full": (make_spec(), make_articles(5)),
    "summary": (make_spec(content="summary"), make_articles(3)),
    "empty": (make_spec(), []),
    "first-page-no-hub": (
        make_spec(
            pages=PageLinks(first=f"{ROOT}/feed.atom", last=f"{ROOT}/feed.atom?page=2"),
            hub_url=None,
        ),
        make_articles(2),
    ),
    "bare-spec": (
        make_spec(
            subtitle="",
            language="",
            copyright="",
            icon="",
            logo="",
            generator="",
            generator_version="",
            generator_uri="",
            pages=None,
            hub_url=None,
            alternates=(),
        ),
        make_articles(2),
    ),
    "bare-articles": (
        make_spec(),
        [
            make_article(
                7,
                authors=(),
                tags=(),
                section=None,
                image=None,
                issue=None,
                standfirst="",
                body="",
            ),
            make_article(6, issue=PrintIssue(number=9)),
        ],
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_atom_parses_strictly_and_validates(variant: str, atom_schema: etree.RelaxNG):
    spec, articles = VARIANTS[variant]
    check_atom(render("atom", spec, articles), atom_schema)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_json_parses_and_validates(variant: str, json_schema: jsonschema.protocols.Validator):
    spec, articles = VARIANTS[variant]
    check_json(render("json", spec, articles), json_schema)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_rss_parses_strictly_and_has_what_rss_requires(variant: str):
    spec, articles = VARIANTS[variant]
    check_rss(render("rss", spec, articles))


def test_the_schemas_are_not_vacuous(
    atom_schema: etree.RelaxNG, json_schema: jsonschema.protocols.Validator
):
    """A schema that accepts everything would make the tests above pass for nothing."""
    good = render("atom", make_spec(), make_articles(1))
    assert atom_schema.validate(xml(good))
    no_id = good.replace(b"<id>tag:paper.example,2025:feed:site</id>", b"")
    assert not atom_schema.validate(xml(no_id))
    bad_date = good.replace(b"2025-03-01T13:30:00+00:00", b"1 March 2025", 1)
    assert not atom_schema.validate(xml(bad_date))
    bad_lang = good.replace(b'xml:lang="en-GB"', b'xml:lang="en_GB"')
    assert not atom_schema.validate(xml(bad_lang))

    document = json.loads(render("json", make_spec(), make_articles(1)))
    assert json_schema.is_valid(document)
    for broken in (
        {**document, "version": "https://jsonfeed.org/version/1"},
        {k: v for k, v in document.items() if k != "title"},
        {**document, "items": [{"id": "x"}]},
        {**document, "items": [{"id": 1, "content_text": "x"}]},
        {**document, "items": [{**document["items"][0], "date_published": "yesterday"}]},
        {**document, "items": [{**document["items"][0], "attachments": [{"url": "x"}]}]},
        {**document, "items": [{**document["items"][0], "authors": [{}]}]},
        {**document, "hubs": [{"url": "x"}]},
        {**document, "nmae": "typo"},
    ):
        assert not json_schema.is_valid(broken), broken


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_input_gives_identical_bytes(fmt: FeedFormat):
    first = render(fmt, make_spec(), make_articles(10))
    again = render(fmt, make_spec(), make_articles(10))  # equal values, new objects
    assert first == again
    assert render(fmt, make_spec(), []) == render(fmt, make_spec(), [])


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_utf8(fmt: FeedFormat):
    article = make_article(1, title="Zoë, José and سلمى on the €")
    data = render(fmt, make_spec(), [article])
    assert "Zoë, José and سلمى on the €" in data.decode("utf-8")
    if fmt != "json":
        assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


@pytest.mark.parametrize("fmt", FORMATS)
def test_entries_keep_the_order_given(fmt: FeedFormat):
    # Deliberately not by date: the store decides the order, the builder keeps it.
    articles = [make_article(3), make_article(9), make_article(1)]
    data = render(fmt, make_spec(), articles)
    expected = [entry_id(make_spec(), a.id) for a in articles]
    if fmt == "json":
        assert [item["id"] for item in json.loads(data)["items"]] == expected
    elif fmt == "atom":
        assert texts(xml(data), "a:entry/a:id/text()") == expected
    else:
        assert texts(xml(data), "channel/item/guid/text()") == expected


def test_render_dispatches_and_refuses_unknown_formats():
    spec, articles = make_spec(), make_articles(2)
    assert render("atom", spec, articles) == atom.build(spec, articles)
    assert render("rss", spec, articles) == rss.build(spec, articles)
    assert render("json", spec, articles) == jsonfeed.build(spec, articles)
    with pytest.raises(ValueError, match="unknown feed format 'html'"):
        render("html", spec, articles)  # type: ignore[arg-type]


# --- feedparser reads back what we meant ------------------------------------------


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feedparser_reads_back_every_item(fmt: FeedFormat):
    spec = make_spec()
    articles = make_articles(4)
    parsed = feedparser.parse(render(fmt, spec, articles))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == {"atom": "atom10", "rss": "rss20"}[fmt]
    assert parsed.feed.title == spec.title
    assert parsed.feed.link == spec.html_url
    assert len(parsed.entries) == len(articles)
    for entry, article in zip(parsed.entries, articles, strict=True):
        assert entry.id == entry_id(spec, article.id)
        assert entry.title == article.title
        assert entry.link == permalink(spec, article.slug, article.id)
        # A shared byline is one author holding every name (see rss.py and atom.py).
        assert [a["name"] for a in entry.authors] == ["Salma Haddad and José Martínez"]
        assert entry.author_detail["name"] == "Salma Haddad and José Martínez"
        published = struct_utc(entry.published_parsed)
        assert published == article.published
        if fmt == "atom":
            updated = struct_utc(entry.updated_parsed)
            assert updated == article.updated
            assert [(c["name"], c["href"]) for c in entry.contributors] == [
                (a.name, f"{ROOT}/authors/{a.slug}") for a in article.authors
            ]
        assert [e["href"] for e in entry.enclosures] == [f"{ROOT}/pdf/{article.issue.number}.pdf"]  # type: ignore[union-attr]
        assert entry.media_content[0]["url"] == f"{ROOT}/media/lead.jpg"


def test_json_items_read_back():
    """feedparser 6.0 cannot read JSON Feed, so read it back by hand, the same way."""
    spec = make_spec()
    articles = make_articles(4)
    document = json.loads(render("json", spec, articles))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == spec.title
    assert document["home_page_url"] == spec.html_url
    assert document["feed_url"] == spec.self_url
    assert document["description"] == spec.subtitle
    assert document["language"] == "en-GB"
    assert document["icon"] == spec.logo
    assert document["favicon"] == spec.icon
    for item, article in zip(document["items"], articles, strict=True):
        assert item["id"] == entry_id(spec, article.id)
        assert item["title"] == article.title
        assert item["url"] == permalink(spec, article.slug, article.id)
        assert parse_date(item["date_published"]) == article.published
        assert parse_date(item["date_modified"]) == article.updated
        assert item["date_published"].endswith("Z")
        assert item["authors"] == [
            {"name": a.name, "url": f"{ROOT}/authors/{a.slug}"} for a in article.authors
        ]
        assert item["tags"] == ["news", "Strikes", "NHS"]
        assert item["summary"] == article.standfirst
        assert item["image"] == f"{ROOT}/media/lead.jpg"
        assert item["attachments"] == [
            {
                "url": f"{ROOT}/pdf/{article.issue.number}.pdf",  # type: ignore[union-attr]
                "mime_type": "application/pdf",
                "title": f"Print issue {article.issue.number}",  # type: ignore[union-attr]
            }
        ]


# --- format details -----------------------------------------------------------


def test_atom_feed_metadata_and_links(atom_schema: etree.RelaxNG):
    spec = make_spec()
    root = check_atom(render("atom", spec, make_articles(2)), atom_schema)
    assert root.findtext("a:id", namespaces=NS) == spec.id
    assert root.findtext("a:title", namespaces=NS) == spec.title
    assert root.findtext("a:subtitle", namespaces=NS) == spec.subtitle
    assert root.findtext("a:rights", namespaces=NS) == spec.copyright
    assert root.findtext("a:icon", namespaces=NS) == spec.icon
    assert root.findtext("a:logo", namespaces=NS) == spec.logo
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
    generator = root.find("a:generator", NS)
    assert generator is not None
    assert (generator.text, generator.get("version"), generator.get("uri")) == (
        "syndicate",
        "0.1.0",
        "https://pypi.org/project/syndicate/",
    )
    links = [(x.get("rel"), x.get("type"), x.get("href")) for x in root.findall("a:link", NS)]
    assert links == [
        ("self", "application/atom+xml", spec.self_url),
        ("alternate", "text/html", spec.html_url),
        ("alternate", "application/rss+xml", f"{ROOT}/feed.rss?page=2"),
        ("alternate", "application/feed+json", f"{ROOT}/feed.json?page=2"),
        ("first", None, f"{ROOT}/feed.atom"),
        ("previous", None, f"{ROOT}/feed.atom"),
        ("next", None, f"{ROOT}/feed.atom?page=3"),
        ("last", None, f"{ROOT}/feed.atom?page=3"),
        ("hub", None, f"{ROOT}/websub"),
    ]
    # Every entry has bylines, so no feed-level author is invented.
    assert root.find("a:author", NS) is None


def test_atom_entry_fields(atom_schema: etree.RelaxNG):
    spec = make_spec()
    article = make_article(4)
    root = check_atom(render("atom", spec, [article]), atom_schema)
    entry = root.find("a:entry", NS)
    assert entry is not None
    assert entry.findtext("a:id", namespaces=NS) == "tag:paper.example,2025:article:4"
    assert entry.findtext("a:published", namespaces=NS) == "2025-03-01T16:00:00+00:00"
    assert entry.findtext("a:updated", namespaces=NS) == "2025-03-01T16:30:00+00:00"

    def people(tag: str) -> list[tuple[str | None, str | None]]:
        return [
            (a.findtext("a:name", namespaces=NS), a.findtext("a:uri", namespaces=NS))
            for a in entry.findall(tag, NS)
        ]

    # The shared byline is one author; each person is a contributor with their page.
    assert people("a:author") == [("Salma Haddad and José Martínez", None)]
    assert people("a:contributor") == [
        ("Salma Haddad", f"{ROOT}/authors/salma-haddad"),
        ("José Martínez", f"{ROOT}/authors/jose-martinez"),
    ]
    assert entry.find("a:author/a:email", NS) is None, "no email addresses in public feeds"
    assert entry.find("a:contributor/a:email", NS) is None, "no email addresses in public feeds"
    summary = entry.find("a:summary", NS)
    assert summary is not None
    assert (summary.get("type"), summary.text) == ("text", article.standfirst)
    content = entry.find("a:content", NS)
    assert content is not None
    assert content.get("type") == "html"
    links = [(x.get("rel"), x.get("type"), x.get("href")) for x in entry.findall("a:link", NS)]
    assert links == [
        ("alternate", "text/html", f"{ROOT}/articles/story-4"),
        ("enclosure", "application/pdf", f"{ROOT}/pdf/2004.pdf"),
    ]
    categories = [
        (c.get("term"), c.get("label"), c.get("scheme")) for c in entry.findall("a:category", NS)
    ]
    assert categories == [
        ("news", "news", f"{ROOT}/sections/"),
        ("strikes", "Strikes", f"{ROOT}/tags/"),
        ("nhs", "NHS", f"{ROOT}/tags/"),
    ]
    media = entry.find("media:content", NS)
    assert media is not None
    assert (media.get("url"), media.get("medium")) == (f"{ROOT}/media/lead.jpg", "image")
    assert media.findtext("media:description", namespaces=NS) == "Pickets at dawn"


def test_atom_names_the_publication_when_an_article_has_no_byline(atom_schema: etree.RelaxNG):
    spec = make_spec()
    root = check_atom(
        render("atom", spec, [make_article(2), make_article(1, authors=())]), atom_schema
    )
    authors = root.findall("a:author", NS)
    assert len(authors) == 1
    assert authors[0].findtext("a:name", namespaces=NS) == spec.title
    assert authors[0].findtext("a:uri", namespaces=NS) == spec.html_url


def test_json_names_the_publication_when_an_article_has_no_byline():
    spec = make_spec()
    document = json.loads(render("json", spec, [make_article(2), make_article(1, authors=())]))
    assert document["authors"] == [{"name": spec.title, "url": spec.html_url}]
    assert "authors" not in document["items"][1]
    assert "authors" not in json.loads(render("json", spec, make_articles(2)))


def test_rss_channel_and_items():
    spec = make_spec(self_url=f"{ROOT}/feed.rss?page=2")
    articles = make_articles(3)
    channel = check_rss(render("rss", spec, articles)).find("channel")
    assert channel is not None
    assert channel.findtext("link") == spec.html_url, "channel <link> is the site, not the feed"
    assert channel.findtext("title") == spec.title
    assert channel.findtext("description") == spec.subtitle
    assert channel.findtext("language") == "en-GB"
    assert channel.findtext("copyright") == spec.copyright
    assert channel.findtext("generator") == "syndicate 0.1.0"
    assert channel.findtext("image/url") == spec.logo
    assert channel.findtext("image/link") == spec.html_url
    atom_links = [(x.get("rel"), x.get("href")) for x in channel.findall("a:link", NS)]
    assert atom_links == [
        ("self", spec.self_url),
        ("alternate", f"{ROOT}/feed.json?page=2"),
        ("first", f"{ROOT}/feed.atom"),
        ("previous", f"{ROOT}/feed.atom"),
        ("next", f"{ROOT}/feed.atom?page=3"),
        ("last", f"{ROOT}/feed.atom?page=3"),
        ("hub", f"{ROOT}/websub"),
    ]
    for item, article in zip(channel.findall("item"), articles, strict=True):
        assert item.findtext("title") == article.title
        assert item.findtext("link") == permalink(spec, article.slug, article.id)
        assert item.findtext("guid") == entry_id(spec, article.id)
        assert parsedate_to_datetime(item.findtext("pubDate") or "") == article.published
        assert texts(item, "dc:creator/text()") == ["Salma Haddad and José Martínez"]
        assert texts(item, "category/text()") == ["news", "Strikes", "NHS"]
        assert item.findtext("description") == html.escape(article.standfirst, quote=False)
        assert item.find("content:encoded", NS) is not None
        enclosure = item.find("enclosure")
        assert enclosure is not None
        assert {k: enclosure.get(k) for k in ("url", "length", "type")} == {
            "url": f"{ROOT}/pdf/{article.issue.number}.pdf",  # type: ignore[union-attr]
            "length": "0",
            "type": "application/pdf",
        }
        media = item.find("media:content", NS)
        assert media is not None
        assert media.get("url") == f"{ROOT}/media/lead.jpg"


def test_rss_description_is_escaped_text():
    """Readers render RSS descriptions as HTML; a plain-text standfirst must survive that."""
    article = make_article(1, standfirst="Profits < costs & <b>not</b> bold")
    item = check_rss(render("rss", make_spec(), [article])).find("channel/item")
    assert item is not None
    description = item.findtext("description") or ""
    assert html.unescape(description) == article.standfirst
    assert "<b>" not in description


def test_json_feed_fields():
    spec = make_spec()
    document = json.loads(render("json", spec, make_articles(1)))
    assert document["next_url"] == f"{ROOT}/feed.atom?page=3"
    assert document["hubs"] == [{"type": "WebSub", "url": f"{ROOT}/websub"}]
    first_page = make_spec(pages=PageLinks(first="a", last="a"), hub_url=None)
    document = json.loads(render("json", first_page, make_articles(1)))
    assert "next_url" not in document
    assert "hubs" not in document


# --- dates from the data --------------------------------------------------------


def test_feed_date_is_the_newest_update_not_the_first_item():
    # The second article is older but was corrected last.
    newest = T0 + timedelta(days=3)
    articles = [make_article(5), make_article(2, updated=newest)]
    atom_root = xml(render("atom", make_spec(), articles))
    assert parse_date(atom_root.findtext("a:updated", namespaces=NS) or "") == newest
    rss_root = xml(render("rss", make_spec(), articles))
    assert parsedate_to_datetime(rss_root.findtext("channel/lastBuildDate") or "") == newest


def test_an_empty_feed_is_dated_from_the_epoch_not_the_clock(atom_schema: etree.RelaxNG):
    atom_root = check_atom(render("atom", make_spec(), []), atom_schema)
    assert parse_date(atom_root.findtext("a:updated", namespaces=NS) or "") == EPOCH
    rss_root = check_rss(render("rss", make_spec(), []))
    assert parsedate_to_datetime(rss_root.findtext("channel/lastBuildDate") or "") == EPOCH
    assert json.loads(render("json", make_spec(), []))["items"] == []


def test_dates_are_written_in_utc(atom_schema: etree.RelaxNG):
    from datetime import timezone

    paris = timezone(timedelta(hours=1))
    article = make_article(
        1,
        published=datetime(2025, 3, 1, 13, 0, tzinfo=paris),
        updated=datetime(2025, 3, 1, 14, 0, tzinfo=paris),
    )
    root = check_atom(render("atom", make_spec(), [article]), atom_schema)
    assert root.findtext("a:entry/a:published", namespaces=NS) == "2025-03-01T12:00:00+00:00"
    item = json.loads(render("json", make_spec(), [article]))["items"][0]
    assert item["date_modified"] == "2025-03-01T13:00:00Z"


# --- content --------------------------------------------------------------------


def bodies(fmt: FeedFormat, data: bytes) -> list[str]:
    if fmt == "json":
        return [item.get("content_html", "") for item in json.loads(data)["items"]]
    if fmt == "atom":
        return texts(xml(data), "a:entry/a:content/text()")
    return texts(xml(data), "channel/item/content:encoded/text()")


@pytest.mark.parametrize("fmt", FORMATS)
def test_relative_urls_in_the_body_become_absolute(fmt: FeedFormat):
    [body] = bodies(fmt, render(fmt, make_spec(), [make_article(3)]))
    assert 'href="https://paper.example/articles/older-story"' in body
    assert 'src="https://paper.example/media/photo.jpg"' in body
    assert (
        'srcset="https://paper.example/media/photo-2x.jpg 2x, '
        'https://paper.example/articles/photo-3x.jpg 3x"' in body
    )
    assert 'href="https://paper.example/articles/story-3#footnote-1"' in body
    assert 'href="https://paper.example/articles/notes/1"' in body
    assert 'href="https://elsewhere.example/x"' in body
    assert 'href="mailto:desk@paper.example"' in body
    assert 'href="/' not in body
    assert 'src="/' not in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_summary_feeds_carry_no_body(fmt: FeedFormat):
    spec = make_spec(content="summary")
    article = make_article(1)
    data = render(fmt, spec, [article])
    assert b"Lorem ipsum" not in data
    if fmt == "json":
        item = json.loads(data)["items"][0]
        assert "content_html" not in item
        assert item["content_text"] == article.standfirst
    elif fmt == "atom":
        root = xml(data)
        assert root.find("a:entry/a:content", NS) is None
        assert root.findtext("a:entry/a:summary", namespaces=NS) == article.standfirst
    else:
        item = xml(data).find("channel/item")
        assert item is not None
        assert item.find("content:encoded", NS) is None
        assert item.findtext("description") == article.standfirst


@pytest.mark.parametrize("fmt", FORMATS)
def test_enclosures_can_be_switched_off(fmt: FeedFormat):
    articles = make_articles(2)
    with_pdf = render(fmt, make_spec(), articles)
    without = render(fmt, make_spec(), articles, enclosures=False)
    assert b"/pdf/" in with_pdf
    assert b"/pdf/" not in without
    no_pdf = [make_article(1, issue=PrintIssue(number=3)), make_article(2, issue=None)]
    assert b"enclosure" not in render(fmt, make_spec(), no_pdf)
    assert b"attachments" not in render(fmt, make_spec(), no_pdf)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_enclosure_carries_the_pdfs_length_when_known(fmt: FeedFormat):
    issue = PrintIssue(number=2094, pdf_url="/pdf/2094.pdf", pdf_length=2_345_678)
    data = render(fmt, make_spec(), [make_article(1, issue=issue)])
    if fmt == "json":
        [attachment] = json.loads(data)["items"][0]["attachments"]
        assert attachment["size_in_bytes"] == 2_345_678
        return
    [enclosure] = feedparser.parse(data).entries[0].enclosures
    assert enclosure["length"] == "2345678"
    unknown = render(fmt, make_spec(), [make_article(1, issue=replace(issue, pdf_length=None))])
    if fmt == "rss":  # required in RSS: 0 says "unknown" (Best Practices Profile)
        assert b'length="0"' in unknown
    else:
        assert b"length=" not in unknown


# --- hostile and odd input --------------------------------------------------------

ILLEGAL = "\x00\x01\x08\x0b\x0c\x1f\x7f\x85\ud800\udfff\ufffe\uffff"


def hostile_article() -> Article:
    def dirty(text: str) -> str:
        return f"{ILLEGAL[:4]}{text}{ILLEGAL[4:]}"

    return make_article(
        1,
        slug=dirty("story"),
        title=dirty("Title"),
        standfirst=dirty("Standfirst"),
        body=dirty('<p><a href="/x">x</a>') + ILLEGAL + "</p>",
        section=dirty("news"),
        authors=(Author(slug=dirty("ann"), name=dirty("Ann")),),
        tags=(Tag(slug=dirty("t"), name=dirty("Tag")),),
        image=Image(url=dirty("/i.jpg"), caption=dirty("Caption"), alt=dirty("alt")),
        issue=PrintIssue(number=1, pdf_url=dirty("/p.pdf")),
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_illegal_characters_never_reach_the_output(
    fmt: FeedFormat, atom_schema: etree.RelaxNG, json_schema: jsonschema.protocols.Validator
):
    spec = make_spec(title="The\x00 Paper\ud800", subtitle="Sub\x0btitle", copyright="\x1f(c)")
    data = render(fmt, spec, [hostile_article()])
    text = data.decode("utf-8")  # lone surrogates would fail to encode at all
    assert not any(c in text for c in ILLEGAL)
    assert not any(f"&#{ord(c)};" in text or f"&#x{ord(c):x};" in text for c in ILLEGAL)
    if fmt == "atom":
        root = check_atom(data, atom_schema)
        assert root.findtext("a:title", namespaces=NS) == "The Paper"
        assert root.findtext("a:entry/a:title", namespaces=NS) == "Title"
    elif fmt == "rss":
        check_rss(data)
    else:
        document = check_json(data, json_schema)
        assert document["items"][0]["authors"][0]["name"] == "Ann"


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_headline_falls_back(fmt: FeedFormat):
    long_standfirst = "word " * 60
    articles = [
        make_article(3, title="  \n "),
        make_article(2, title="", standfirst=long_standfirst),
        make_article(1, title="", standfirst=""),
    ]
    data = render(fmt, make_spec(), articles)
    if fmt == "json":
        titles = [item["title"] for item in json.loads(data)["items"]]
    elif fmt == "atom":
        titles = texts(xml(data), "a:entry/a:title/text()")
    else:
        titles = texts(xml(data), "channel/item/title/text()")
    assert titles[0] == articles[0].standfirst
    assert titles[1].endswith("\u2026")
    assert len(titles[1]) <= 101
    assert titles[2] == "Untitled"


@pytest.mark.parametrize("fmt", FORMATS)
def test_markup_in_a_headline_stays_text(fmt: FeedFormat):
    title = '<script>alert("x")</script><b>Bold</b> & ' + "long " * 400
    data = render(fmt, make_spec(), [make_article(1, title=title)])
    expected = " ".join(title.split())
    if fmt == "json":
        assert json.loads(data)["items"][0]["title"] == expected
    elif fmt == "atom":
        entry_title = xml(data).find("a:entry/a:title", NS)
        assert entry_title is not None
        assert entry_title.text == expected
        assert len(entry_title) == 0, "no child elements: the title is text"
    else:
        assert xml(data).findtext("channel/item/title") == expected


def test_a_bad_language_tag_is_left_out_not_fatal(atom_schema: etree.RelaxNG):
    spec = make_spec(language="en_GB")
    root = check_atom(render("atom", spec, make_articles(1)), atom_schema)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") is None
    assert "language" not in json.loads(render("json", spec, []))


def test_naive_datetimes_are_taken_as_utc():
    article = make_article(
        1, published=datetime(2025, 1, 1, 9, 0), updated=datetime(2025, 1, 1, 10, 0)
    )
    item = json.loads(render("json", make_spec(), [article]))["items"][0]
    assert item["date_published"] == "2025-01-01T09:00:00Z"


# --- the body absolutizer ----------------------------------------------------------

BASE = "https://paper.example/articles/story"


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ('<a href="/a">', '<a href="https://paper.example/a">'),
        ("<a href='b/c'>", "<a href='https://paper.example/articles/b/c'>"),
        ("<a href=../d>", "<a href=https://paper.example/d>"),
        ('<A HREF="/e">', '<A HREF="https://paper.example/e">'),
        ('<a  href = "/f"  >', '<a  href = "https://paper.example/f"  >'),
        ('<a href="#n">', '<a href="https://paper.example/articles/story#n">'),
        ('<a href="?page=2">', '<a href="https://paper.example/articles/story?page=2">'),
        ('<a href="/q?a=1&amp;b=2">', '<a href="https://paper.example/q?a=1&amp;b=2">'),
        ('<a href="/q?a=1&b=2">', '<a href="https://paper.example/q?a=1&amp;b=2">'),
        # A reference to a character XML forbids stays a reference.
        ('<a href="/f&#12;g">', '<a href="https://paper.example/f&#12;g">'),
        ('<a href="/c&#x81;">', '<a href="https://paper.example/c&#129;">'),
        ('<img src="//cdn.example/x.png">', '<img src="https://cdn.example/x.png">'),
        ('<video poster="p.jpg">', '<video poster="https://paper.example/articles/p.jpg">'),
        ('<blockquote cite="/src">', '<blockquote cite="https://paper.example/src">'),
        (
            '<img srcset="a.jpg, /b.jpg 2x,c.jpg 300w">',
            '<img srcset="https://paper.example/articles/a.jpg, https://paper.example/b.jpg 2x,'
            'https://paper.example/articles/c.jpg 300w">',
        ),
        # "<" and ">" are never part of a URI: encoded, resolved or not (a sanitised
        # "<a href='<script>...'>" found by test_build_properties.py).
        (
            '<a href="<script><a href="></a>',
            '<a href="https://paper.example/articles/%3Cscript%3E%3Ca href="></a>',
        ),
        ('<a href="https://x.example/<b>">', '<a href="https://x.example/%3Cb%3E">'),
        # Left alone: absolute, other schemes, empty, not URL attributes, not markup.
        ('<a href="https://x.example/">', '<a href="https://x.example/">'),
        ('<a href="HTTP://X.EXAMPLE/">', '<a href="HTTP://X.EXAMPLE/">'),
        ('<a href="mailto:a@b.example">', '<a href="mailto:a@b.example">'),
        ('<a href="tel:+441234">', '<a href="tel:+441234">'),
        ('<a href="javascript:alert(1)">', '<a href="javascript:alert(1)">'),
        ('<img src="data:image/png;base64,AAAA">', '<img src="data:image/png;base64,AAAA">'),
        ('<a href="">', '<a href="">'),
        ('<a title="/not-a-url" data-href="/x">', '<a title="/not-a-url" data-href="/x">'),
        ('<!-- <a href="/c"> -->', '<!-- <a href="/c"> -->'),
        ('<script>s="<img src=/s>"</script>', '<script>s="<img src=/s>"</script>'),
        ('<textarea><a href="/t"></textarea>', '<textarea><a href="/t"></textarea>'),
        ("</a href=/end>", "</a href=/end>"),
        ("a < b and href=/x", "a < b and href=/x"),
        ('<p title="x>y"><a href="/z">', '<p title="x>y"><a href="https://paper.example/z">'),
        (
            '<script src="/s.js"></script><img src="/i">',
            '<script src="https://paper.example/s.js"></script><img src="https://paper.example/i">',
        ),
    ],
)
def test_absolutize_html_cases(fragment: str, expected: str):
    assert absolutize_html(fragment, BASE) == expected


def test_absolutize_html_changes_nothing_but_url_values():
    written = (
        "<P CLASS=intro>Odd   spacing,\n<BR>unclosed <b><i>tags</b>, "
        "<img src = '/x.png' alt=\"it's\" / > &nbsp;&copy; <!-- note -->\n"
        '<a target=_blank href=/y rel="noopener">y</a></P>'
    )
    done = absolutize_html(written, BASE)
    assert done == written.replace("'/x.png'", "'https://paper.example/x.png'").replace(
        "href=/y", "href=https://paper.example/y"
    )


@pytest.mark.parametrize(
    "broken",
    [
        "<",
        "<a",
        "<a href",
        "<a href=",
        '<a href="',
        '<a href="/open',
        "<a href='/open",
        "<a href=/x",
        "<!--",
        "<!-- <a href=/x>",
        "<![CDATA[<a href=/x>]]>",
        "<script><a href=/x>",
        "</",
        "</>",
        "<<<>>>",
        '<a href=""/x"">',
        '<img srcset=",,, ,">',
        '<img srcset="(,">',
        '<img srcset="a.jpg 1x (">',
        '<a href="//[::1">',
        '<a href="/[x]">',
        '<a href="&#xD800;">',
        '<a href="&bogus;">',
        "\x00<a href=/x>",
        "<a " + "x=1 " * 10_000 + "href=/y>",
        "<a href=" + "/" * 100_000 + ">",
    ],
)
def test_absolutize_html_survives_broken_markup(broken: str):
    result = absolutize_html(broken, BASE)
    assert isinstance(result, str)
    # Nothing outside URL values changes, so text without "=" is untouched.
    if "=" not in broken:
        assert result == broken


def test_absolute_url_resolves_single_values():
    assert absolute_url("/m.jpg", BASE) == "https://paper.example/m.jpg"
    assert absolute_url("//cdn/x", BASE, "http") == "http://cdn/x"
    assert absolute_url("https://a/b", BASE) == "https://a/b"
    assert absolute_url("", BASE) == ""
    assert absolute_url("//[bad", BASE) == "https://[bad"
    assert absolute_url("/[bad", "https://[bad") == "/[bad"


# --- speed ------------------------------------------------------------------------------


def test_a_fifty_item_feed_builds_in_milliseconds():
    spec = make_spec()
    articles = make_articles(50)
    assert 900 < len(BODY) < 1200
    for fmt in FORMATS:
        render(fmt, spec, articles)  # warm up imports and regex caches
        runs = 10
        start = time.perf_counter()
        for _ in range(runs):
            render(fmt, spec, articles)
        per_build = (time.perf_counter() - start) / runs
        # A few ms on a laptop; the bound is loose so a busy CI machine passes.
        assert per_build < 0.25, f"{fmt}: {per_build * 1000:.1f} ms for 50 items"


def test_views_do_not_depend_on_article_identity():
    """Copies of the articles (as a new query returns) give the same bytes."""
    articles: Sequence[Article] = make_articles(3)
    copies = [replace(a) for a in articles]
    for fmt in FORMATS:
        assert render(fmt, make_spec(), articles) == render(fmt, make_spec(), copies)


# --- every URL is a valid URI (issue 12) ----------------------------------------------

# RFC 3986 Appendix A, at the level of characters: a scheme, then only
# unreserved, sub-delims, ":", "@", "/", "?" and %XX escapes, one "#" at most.
_URI_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})"
VALID_URI = re.compile(rf"[A-Za-z][A-Za-z0-9+.\-]*:{_URI_CHAR}*(?:#{_URI_CHAR}*)?")


def uris_in(fmt: FeedFormat, data: bytes) -> list[str]:
    """Every URL a document carries outside its HTML bodies."""
    if fmt == "json":
        document = json.loads(data)
        found = [document.get(k) for k in ("home_page_url", "feed_url", "icon", "favicon")]
        found += [document.get("next_url")] + [h["url"] for h in document.get("hubs", [])]
        found += [a["url"] for a in document.get("authors", [])]
        for item in document["items"]:
            found += [item["url"], item.get("image")]
            found += [a.get("url") for a in item.get("authors", [])]
            found += [a["url"] for a in item.get("attachments", [])]
        return [u for u in found if u]
    root = xml(data)
    if fmt == "atom":
        path = (
            "//a:link/@href | //a:icon/text() | //a:logo/text() | //a:uri/text()"
            " | //a:generator/@uri | //a:category/@scheme | //media:content/@url"
        )
    else:
        path = (
            "//channel/link/text() | //item/link/text() | //a:link/@href | //image/url/text()"
            " | //image/link/text() | //enclosure/@url | //media:content/@url"
            " | //category/@domain | //channel/docs/text()"
        )
    return texts(root, path)


def spaced_spec() -> FeedSpec:
    return make_spec(
        self_url=f"{ROOT}/feed.atom?page=2&q=a b",
        html_url=f"{ROOT}/front page/",
        icon="/icons/site icon.png",
        logo=f"{ROOT}/logo ü.png",
        generator_uri="https://example.org/syndicate project",
        hub_url="https://hub.example/web sub",
        alternates=(("rss", f"{ROOT}/feed rss"), ("json", f"{ROOT}/feed json")),
        pages=PageLinks(first=f"{ROOT}/p 1", last=f"{ROOT}/p 3", previous=f"{ROOT}/p 1"),
    )


def spaced_article() -> Article:
    return make_article(
        1,
        slug="story one",
        issue=PrintIssue(number=2094, pdf_url="/pdf/issue 2094.pdf"),
        image=Image(url="/media/lead photo [1].jpg|x", caption="", alt=""),
        authors=(Author(slug="anna maria", name="Anna"), Author(slug="b", name="B")),
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_url_written_is_a_valid_uri(
    fmt: FeedFormat, atom_schema: etree.RelaxNG, json_schema: jsonschema.protocols.Validator
):
    """A PDF URL with a space was written raw (the validator's InvalidUriChar)."""
    data = render(fmt, spaced_spec(), [spaced_article(), make_article(0)])
    found = uris_in(fmt, data)
    assert len(found) >= 15
    bad = [u for u in found if not VALID_URI.fullmatch(u)]
    assert not bad, bad
    assert f"{ROOT}/pdf/issue%202094.pdf" in found
    assert f"{ROOT}/media/lead%20photo%20%5B1%5D.jpg%7Cx" in found
    assert f"{ROOT}/articles/story%20one" in found
    assert f"{ROOT}/logo%20%C3%BC.png" in found
    if fmt == "atom":
        check_atom(data, atom_schema)
    elif fmt == "json":
        check_json(data, json_schema)
    else:
        check_rss(data)


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feedparser_reads_the_encoded_enclosure(fmt: FeedFormat):
    entry = feedparser.parse(render(fmt, make_spec(), [spaced_article()])).entries[0]
    assert [e["href"] for e in entry.enclosures] == [f"{ROOT}/pdf/issue%202094.pdf"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/pdf/2094.pdf", "https://example.org/pdf/2094.pdf"),
        ("https://example.org/pdf/issue 2094.pdf", "https://example.org/pdf/issue%202094.pdf"),
        ("https://example.org/a%20b%2F", "https://example.org/a%20b%2F"),  # escapes kept
        ("https://example.org/100%", "https://example.org/100%25"),
        ("https://example.org/%zz", "https://example.org/%25zz"),
        ("https://example.org/ü?q=ü#ü", "https://example.org/%C3%BC?q=%C3%BC#%C3%BC"),
        ("https://bücher.example/x", "https://xn--bcher-kva.example/x"),
        ("https://e.org/a#b#c", "https://e.org/a#b%23c"),
        ("https://e.org/p?q=[1]&r={2}", "https://e.org/p?q=%5B1%5D&r=%7B2%7D"),
        ('https://e.org/a"b<c>d\\e^f`g|h', "https://e.org/a%22b%3Cc%3Ed%5Ce%5Ef%60g%7Ch"),
        ("http://[::1]:8080/a b", "http://[::1]:8080/a%20b"),
        ("http://us er@e.org:81/", "http://us%20er@e.org:81/"),
        ("tag:paper.example,2025:article:4", "tag:paper.example,2025:article:4"),
        ("mailto:desk@paper.example", "mailto:desk@paper.example"),
        ("/relative path", "/relative%20path"),
        ("", ""),
    ],
)
def test_to_uri_cases(url: str, expected: str):
    assert to_uri(url) == expected
    assert to_uri(expected) == expected


# --- plain text survives every reader (issue 12) ---------------------------------------

HOSTILE_TEXT = [
    "C++ & <Rust>",
    "a < b > c",
    "AT&T",
    "&amp; literal",
    "<script>alert(1)</script>",
    'Tom & Jerry\'s "show"',
]


def html_text(value: str) -> str:
    """What a reader shows for an HTML value: no element may be in it, entities decoded."""
    assert "<" not in value, f"markup reached an HTML field: {value!r}"
    return html.unescape(value)


def hostile_feed(text: str, *, content: str = "full") -> tuple[FeedSpec, list[Article]]:
    spec = make_spec(
        title=text,
        subtitle=text,
        copyright=text,
        content=content,
        section_titles=(("news", text),),
    )
    single = make_article(
        2,
        title=text,
        standfirst=text,
        authors=(Author(slug="one", name=text),),
        tags=(Tag(slug="t", name=text),),
        image=Image(url="/i.jpg", caption=text, alt=""),
    )
    shared = make_article(
        1,
        title=text,
        standfirst=text,
        authors=(Author(slug="one", name=text), Author(slug="two", name="Salma Haddad")),
    )
    return spec, [single, shared]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_plain_text_reads_back_exactly_from_rss(text: str):
    """RSS: descriptions are HTML to every reader, so they carry the text HTML-escaped;
    titles, copyright, names and categories are plain text (see rss.py)."""
    spec, articles = hostile_feed(text)
    data = render("rss", spec, articles)
    channel = check_rss(data).find("channel")
    assert channel is not None
    # lxml: the raw text of each element.
    assert channel.findtext("title") == text
    assert channel.findtext("description") == html.escape(text, quote=False)
    assert channel.findtext("copyright") == text
    assert channel.findtext("image/title") == text
    items = channel.findall("item")
    for item in items:
        assert item.findtext("title") == text
        assert item.findtext("description") == html.escape(text, quote=False)
    assert texts(items[0], "dc:creator/text()") == [text]
    assert texts(items[1], "dc:creator/text()") == [f"{text} and Salma Haddad"]
    assert texts(items[0], "category/text()") == [text, text]
    assert texts(items[0], "media:content/media:description/text()") == [text]
    # feedparser: what readers built on it (reader, rss2email) are handed.
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == text
    assert parsed.feed.subtitle_detail.type == "text/html"
    assert html_text(parsed.feed.subtitle) == text
    assert parsed.feed.rights == text
    assert parsed.feed.image.title == text
    first, second = parsed.entries
    for entry in (first, second):
        assert entry.title == text
        # The description is HTML to feedparser; its summary_detail is not
        # checked: feedparser overwrites it with the media:description's.
        assert html_text(entry.summary) == text
    assert first.author == text
    assert first.author_detail.name == text
    assert second.author == f"{text} and Salma Haddad"
    assert [t.term for t in first.tags] == [text, text]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_plain_text_reads_back_exactly_from_atom(text: str, atom_schema: etree.RelaxNG):
    spec, articles = hostile_feed(text)
    data = render("atom", spec, articles)
    root = check_atom(data, atom_schema)
    for path in ("a:title", "a:subtitle", "a:rights"):
        element = root.find(path, NS)
        assert element is not None
        assert (element.get("type") or "text") == "text"
        assert element.text == text
    entries = root.findall("a:entry", NS)
    for entry in entries:
        for path in ("a:title", "a:summary"):
            element = entry.find(path, NS)
            assert element is not None
            assert (element.get("type") or "text") == "text"
            assert element.text == text
    assert texts(entries[0], "a:author/a:name/text()") == [text]
    assert texts(entries[1], "a:author/a:name/text()") == [f"{text} and Salma Haddad"]
    assert texts(entries[1], "a:contributor/a:name/text()") == [text, "Salma Haddad"]
    assert texts(entries[0], "a:category/@label") == [text, text]
    assert texts(entries[0], "media:content/media:description/text()") == [text]
    assert texts(entries[0], "a:link[@rel='enclosure']/@title") == ["Print issue 2002"]
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    for detail in (
        parsed.feed.title_detail,
        parsed.feed.subtitle_detail,
        parsed.feed.rights_detail,
    ):
        assert (detail.type, detail.value) == ("text/plain", text)
    first, second = parsed.entries
    for entry in (first, second):
        assert (entry.title_detail.type, entry.title) == ("text/plain", text)
        assert (entry.summary_detail.type, entry.summary) == ("text/plain", text)
    assert first.author_detail.name == text
    assert second.author_detail.name == f"{text} and Salma Haddad"
    assert [c.name for c in second.contributors] == [text, "Salma Haddad"]
    assert [t.label for t in first.tags] == [text, text]
    assert [e.title for e in first.enclosures] == ["Print issue 2002"]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_plain_text_reads_back_exactly_from_json(
    text: str, json_schema: jsonschema.protocols.Validator
):
    spec, articles = hostile_feed(text)
    document = check_json(render("json", spec, articles), json_schema)
    assert document["title"] == text
    assert document["description"] == text
    first, second = document["items"]
    for item in (first, second):
        assert item["title"] == text
        assert item["summary"] == text
    assert [a["name"] for a in first["authors"]] == [text]
    assert [a["name"] for a in second["authors"]] == [text, "Salma Haddad"]
    assert first["tags"] == [text]
    assert first["attachments"][0]["title"] == "Print issue 2002"
    summary_only = check_json(render("json", *hostile_feed(text, content="summary")), json_schema)
    assert summary_only["items"][0]["content_text"] == text


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_image_captions_read_back_exactly(fmt: FeedFormat):
    """feedparser takes media:description for a description: in a summary feed it
    becomes the entry's content, and must read as the caption, as plain text."""
    text = HOSTILE_TEXT[0]
    spec, articles = hostile_feed(text, content="summary")
    entry = feedparser.parse(render(fmt, spec, articles[:1])).entries[0]
    assert [(c.type, c.value) for c in entry.content] == [("text/plain", text)]
