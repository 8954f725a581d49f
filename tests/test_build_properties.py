"""Property tests: whatever the articles hold, every format still parses and validates.

Hypothesis draws articles from all of Unicode (control characters, lone
surrogates and noncharacters included), HTML fragments broken on purpose,
empty and very long fields, zero to ten bylines and any number of tags. The
feed must still build, parse strictly, validate (Atom against RFC 4287's
schema, JSON against the JSON Feed 1.1 schema) and hold no character XML 1.0
forbids.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote, urljoin

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate.formats.render import render
from syndicate.formats.spec import FeedSpec, PageLinks, entry_id
from syndicate.formats.urls import to_uri
from syndicate.formats.view import absolute_url, absolutize_html
from syndicate.models import Article, Author, Image, PrintIssue, Tag
from syndicate.sanitize import sanitize_html
from tests.factories import make_spec
from tests.test_build import NS, STRICT, bodies, check_atom, check_json, check_rss, uris_in
from tests.test_sanitize import dangers

SCHEMAS = Path(__file__).parent / "schemas"
ATOM_SCHEMA = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
JSON_SCHEMA = jsonschema.Draft202012Validator(
    json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
)
# Characters an XML 1.0 document may not contain (XML 1.0 section 2.2, "Char").
FORBIDDEN = {chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))} | {
    "\ufffe",
    "\uffff",
}

# All of Unicode, surrogates (category Cs) included.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
any_text = st.text(alphabet=ANY_CHAR, max_size=40)

HTML_PIECES = st.sampled_from(
    [
        "<a href=",
        "<a href='",
        '<img src="',
        "<img srcset=",
        "<video poster=",
        "<blockquote cite=",
        "<script>",
        "</script>",
        "<style>",
        "<textarea>",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "</a>",
        "</",
        "<",
        ">",
        "/>",
        '"',
        "'",
        "=",
        " ",
        "\n",
        ",",
        " 2x",
        "/x.jpg",
        "y.png",
        "//cdn.example/z",
        "../up",
        "#frag",
        "?q=1&r=2",
        "&amp;",
        "&#0;",
        "&#xD800;",
        "&#12;",
        "&#x0C;",
        "&#x81;",
        "&#0;",
        "&bogus;",
        "javascript:alert(1)",
        "mailto:a@b",
        "data:,x",
        "https://abs.example/",
        "//[::1",
        "\x00",
        "\x0b",
        "\ud800",
        "\ufffe",
        "\x85",
    ]
)
html_fragment = st.one_of(
    any_text,
    st.lists(st.one_of(HTML_PIECES, any_text), max_size=30).map("".join),
)
# A long field without making Hypothesis generate (and shrink) megabytes.
huge_text = st.builds(
    lambda unit, n: unit * n,
    st.text(alphabet=ANY_CHAR, min_size=1, max_size=8),
    st.integers(1_000, 20_000),
)
field = st.one_of(st.just(""), any_text, html_fragment, huge_text)

moments = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
    ),
)
authors = st.builds(Author, slug=any_text, name=field, email=st.none() | any_text)
tags = st.builds(Tag, slug=any_text, name=any_text)
images = st.builds(Image, url=field, caption=field, alt=any_text)
issues = st.builds(PrintIssue, number=st.integers(0, 10**6), pdf_url=st.none() | field)


@st.composite
def articles(draw: st.DrawFn) -> Article:
    published = draw(moments)
    return Article(
        id=draw(st.integers(1, 2**63 - 1)),
        slug=draw(any_text),
        title=draw(field),
        standfirst=draw(field),
        body=draw(field),
        section=draw(st.none() | any_text),
        issue=draw(st.none() | issues),
        published=published,
        updated=draw(st.just(published) | moments),
        authors=tuple(draw(st.lists(authors, max_size=10))),
        tags=tuple(draw(st.lists(tags, max_size=6))),
        image=draw(st.none() | images),
        status="published",
    )


@st.composite
def specs(draw: st.DrawFn) -> FeedSpec:
    url = st.one_of(st.just("https://paper.example/feed.atom"), any_text)
    pages = st.none() | st.builds(
        PageLinks, first=url, last=url, previous=st.none() | url, next=st.none() | url
    )
    return make_spec(
        id=draw(st.one_of(st.just("tag:paper.example,2025:feed:x"), any_text)),
        title=draw(field),
        subtitle=draw(field),
        self_url=draw(url),
        html_url=draw(url),
        language=draw(st.sampled_from(["en", "en-GB", "ar", "", "en_GB", "x"]) | any_text),
        copyright=draw(any_text),
        icon=draw(url),
        logo=draw(url),
        content=draw(st.sampled_from(["full", "summary"])),
        generator=draw(any_text),
        generator_version=draw(any_text),
        pages=draw(pages),
        hub_url=draw(st.none() | url),
    )


def assert_clean(data: bytes) -> str:
    text = data.decode("utf-8")  # raises on lone surrogates
    bad = FORBIDDEN.intersection(text)
    assert not bad, f"forbidden characters in output: {sorted(map(hex, map(ord, bad)))}"
    return text


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=specs(), items=st.lists(articles(), max_size=4))
def test_any_articles_give_valid_documents_in_every_format(spec: FeedSpec, items: list[Article]):
    ids = [entry_id(spec, a.id) for a in items]

    atom_data = render("atom", spec, items)
    assert_clean(atom_data)
    root = check_atom(atom_data, ATOM_SCHEMA)
    assert [e.findtext("a:id", namespaces=NS) for e in root.findall("a:entry", NS)] == ids
    assert all(
        (e.findtext("a:title", namespaces=NS) or "").strip() for e in root.findall("a:entry", NS)
    )

    rss_data = render("rss", spec, items)
    assert_clean(rss_data)
    channel = check_rss(rss_data).find("channel")
    assert channel is not None
    assert [i.findtext("guid") for i in channel.findall("item")] == ids
    for item, article in zip(channel.findall("item"), items, strict=True):
        named = [a for a in article.authors if (a.name.strip() or a.slug.strip())]
        assert len(item.findall("dc:creator", NS)) <= len(named)

    json_data = render("json", spec, items)
    assert_clean(json_data)
    document = check_json(json_data, JSON_SCHEMA)
    assert [item["id"] for item in document["items"]] == ids
    if spec.content == "summary":
        assert all("content_html" not in item for item in document["items"])

    # Every URL written is a valid URI reference, whatever the spec and articles hold.
    for fmt, data in (("atom", atom_data), ("rss", rss_data), ("json", json_data)):
        bad = [u for u in uris_in(fmt, data) if not URI_REFERENCE.fullmatch(u)]  # type: ignore[arg-type]
        assert not bad, (fmt, bad)

    # Deterministic, whatever the input.
    assert render("atom", spec, items) == atom_data
    assert render("json", spec, items) == json_data


# Pieces of the markup an attacker tries against a sanitiser (issue 11).
HOSTILE_PIECES = st.sampled_from(
    [
        "<script>",
        "<SCRIPT SRC=",
        "<scr",
        "ipt>",
        "<style>",
        "<iframe src=",
        "https://www.youtube-nocookie.com/embed/x",
        "https://evil.example/",
        "<object data=",
        "<embed src=",
        "<form action=",
        "<input ",
        "<svg onload=",
        "<math>",
        "<noscript>",
        "</noscript>",
        "<template>",
        "<textarea>",
        "</textarea>",
        "<title>",
        "<table>",
        "<td>",
        "<img src=x onerror=",
        " onclick=",
        " style=",
        " srcset=",
        "alert(1)",
        "java\tscript:",
        "&#106;avascript&#58;",
        "<p title=",
        "<a href=",
        "<video poster=",
        "<blockquote cite=",
    ]
)
hostile_fragment = st.lists(st.one_of(HTML_PIECES, HOSTILE_PIECES, any_text), max_size=40).map(
    "".join
)
EMBED_HOSTS = frozenset({"www.youtube-nocookie.com"})


@settings(max_examples=400, deadline=None)
@given(fragment=hostile_fragment, embeds=st.booleans())
def test_sanitize_html_leaves_nothing_that_runs_and_settles(fragment: str, embeds: bool):
    hosts = EMBED_HOSTS if embeds else frozenset()
    once = sanitize_html(fragment, embed_hosts=hosts)
    assert dangers(once, embed_hosts=hosts) == [], once
    # What it keeps, it keeps: a second pass changes nothing.
    assert sanitize_html(once, embed_hosts=hosts) == once


@settings(max_examples=100, deadline=None)
@given(fragment=hostile_fragment, fmt=st.sampled_from(["atom", "rss", "json"]))
# Found here once: an href whose value holds "<script>", resolved against the permalink.
@example(fragment="<a href='<script><a href='<script>", fmt="atom")
def test_feed_content_is_sanitised_whatever_the_body(fragment: str, fmt: str):
    spec = make_spec(embed_hosts=EMBED_HOSTS)
    article = Article(
        id=1,
        slug="s",
        title="t",
        standfirst="",
        body=fragment,
        section=None,
        issue=None,
        published=datetime(2025, 1, 1, tzinfo=UTC),
        updated=datetime(2025, 1, 1, tzinfo=UTC),
        authors=(),
        tags=(),
        image=None,
        status="published",
    )
    for body in bodies(fmt, render(fmt, spec, [article])):  # type: ignore[arg-type]
        assert dangers(body, embed_hosts=EMBED_HOSTS) == [], body


BASE = "https://paper.example/articles/story"


@settings(max_examples=300, deadline=None)
@given(fragment=html_fragment)
def test_absolutize_html_never_raises_and_settles(fragment: str):
    once = absolutize_html(fragment, BASE)
    assert isinstance(once, str)
    # Everything it made absolute stays absolute: a second pass changes nothing.
    assert absolutize_html(once, BASE) == once


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(exclude_characters="="), max_size=200))
def test_absolutize_html_leaves_text_without_attributes_alone(text: str):
    # No "=" means no attribute value, and only attribute values may change.
    assert absolutize_html(text, BASE) == text


@pytest.mark.parametrize("size", [0, 1, 10_000])
def test_big_bodies_still_parse(size: int):
    body = '<p><a href="/x">x</a></p>' * size
    spec = make_spec()
    article = Article(
        id=1,
        slug="s",
        title="t",
        standfirst="",
        body=body,
        section=None,
        issue=None,
        published=datetime(2025, 1, 1, tzinfo=UTC),
        updated=datetime(2025, 1, 1, tzinfo=UTC),
        authors=(),
        tags=(),
        image=None,
        status="published",
    )
    for fmt in ("atom", "rss"):
        etree.fromstring(render(fmt, spec, [article]), STRICT)  # type: ignore[arg-type]
    json.loads(render("json", spec, [article]))


@settings(max_examples=500, deadline=None)
@given(
    base=st.sampled_from(
        [
            "https://paper.example/articles/story",
            "https://paper.example",
            "https://paper.example/a/b/?q=1#f",
            "http://paper.example:8080/a;p/b",
        ]
    ),
    # No ";": urljoin still parses ";params" the RFC 1808 way, RFC 3986 does not.
    ref=st.text(alphabet="ab/.?#:%=&-_~", max_size=20),
)
def test_absolute_url_agrees_with_urljoin(base: str, ref: str):
    """The fast paths give what RFC 3986 (urljoin) gives, except on purpose for "//host"."""
    # "//host" gets the site's scheme on purpose; and urljoin squeezes empty
    # path segments ("a//b" -> "a/b"), which RFC 3986 keeps.
    assume("//" not in ref)
    # urljoin drops an empty query or fragment ("x?" -> "x"); RFC 3986 keeps it.
    assume(not ref.endswith(("?", "#")) and "?#" not in ref)
    assert absolute_url(ref, base) == (urljoin(base, ref) if ref else ref)


# --- to_uri (issue 12) ---------------------------------------------------------------

# RFC 3986 Appendix A, URI-reference (IPvFuture left out), as one pattern.
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_REG = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}]|%[0-9A-Fa-f]{{2}})"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|%[0-9A-Fa-f]{{2}})"
_NC = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}@]|%[0-9A-Fa-f]{{2}})"  # segment-nz-nc: no ":"
_AUTHORITY = rf"(?:(?:{_REG}|:)*@)?(?:\[[0-9A-Fa-f:.]+\]|{_REG}*)(?::[0-9]*)?"
_TAIL = rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
URI_REFERENCE = re.compile(
    rf"(?:[A-Za-z][A-Za-z0-9+.\-]*:(?://{_AUTHORITY}(?:/{_PCHAR}*)*|/?(?:{_PCHAR}+(?:/{_PCHAR}*)*)?)"
    rf"|//{_AUTHORITY}(?:/{_PCHAR}*)*"
    rf"|/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?"
    rf"|(?:{_NC}+(?:/{_PCHAR}*)*)?)"
    rf"{_TAIL}"
)
url_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="ab:/?#[]@%20 ü.", max_size=25),
    st.builds(
        lambda scheme, host, path: f"{scheme}://{host}/{path}",
        st.sampled_from(["http", "https", "1x", "a b", ""]),
        st.text(alphabet="aü.:[]@1 ", max_size=10),
        st.text(max_size=20),
    ),
)


@pytest.mark.parametrize(
    "valid",
    ["https://e.org/a?b=c#d", "tag:e.org,2025:x", "//e.org/x", "/a/b:c", "a/b", "", "?q", "#f"],
)
def test_the_uri_pattern_takes_valid_references(valid: str):
    assert URI_REFERENCE.fullmatch(valid)


@pytest.mark.parametrize("invalid", ["a b", ":x", "https://e.org/a#b#c", "http://e.org/%zz", "ü"])
def test_the_uri_pattern_refuses_invalid_references(invalid: str):
    assert not URI_REFERENCE.fullmatch(invalid)


@settings(max_examples=1000, deadline=None)
@given(url=url_text)
def test_to_uri_gives_a_valid_reference_and_settles(url: str):
    uri = to_uri(url)
    assert URI_REFERENCE.fullmatch(uri), uri
    assert to_uri(uri) == uri
    if url.isascii() and "%" not in url:
        # Only encoded, never changed: decoding gives back what was written.
        assert unquote(uri) == url
