"""Article HTML is cut to an allow-list wherever it is shown (issue 11, point 1).

A token holder put ``<script>`` in a body; opened on ``/articles/{slug}`` by a
logged-in editor, it read a CSRF token from /admin. These tests feed
:func:`syndicate.sanitize.sanitize_html`, the feed builders and a real store
the markup an attacker would try, and the markup articles legitimately use.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from lxml import etree
from lxml import html as lxml_html

from syndicate.catalog import feed_key
from syndicate.config import ConfigError, parse_config
from syndicate.documents.feeds import build_feed
from syndicate.documents.feeds import make_spec as feed_spec
from syndicate.formats.render import render
from syndicate.formats.spec import FORMATS, FeedFormat
from syndicate.formats.view import prepare_entry
from syndicate.models import SITE
from syndicate.records import parse_record
from syndicate.sanitize import ALLOWED_TAGS, ATTRIBUTES, DROP_WITH_CONTENT, sanitize_html
from syndicate.store import Store
from syndicate.text import xml_safe
from tests.factories import make_article, make_spec
from tests.support import MINIMAL_CONFIG, sample_record
from tests.test_build import bodies, check_atom, check_json, check_rss

# --- what must never get through ---------------------------------------------------

#: Elements that run code, restyle or reframe the page, or submit to us.
FORBIDDEN_ELEMENTS = frozenset(
    {"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form"}
    | {"input", "button", "select", "textarea", "svg", "math", "meta", "base", "link"}
    | {"noscript", "template", "param", "portal"}
)
#: Attributes holding one URL, and the schemes any of them may have.
URL_ATTRIBUTES = ("href", "src", "poster", "cite", "action", "formaction", "data", "background")
SAFE_SCHEMES = ("http", "https", "mailto")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


def scheme_of(url: str) -> str | None:
    """The scheme a browser would see (it drops tabs, newlines and C0 at the ends)."""
    found = _SCHEME.match(re.sub("[\t\n\r]", "", url).strip("".join(map(chr, range(33)))))
    return found[1].lower() if found else None


def dangers(fragment: str, *, embed_hosts: frozenset[str] = frozenset()) -> list[str]:
    """Everything in ``fragment`` that could run, restyle or leave the allow-list."""
    found = [
        f"<{name}> in the markup"
        for name in sorted(FORBIDDEN_ELEMENTS - ({"iframe"} if embed_hosts else set()))
        if re.search(rf"<{name}[\s/>]", fragment, re.IGNORECASE)
    ]
    fragment = xml_safe(fragment)  # lxml refuses control characters; they run nothing
    if not fragment.strip():
        return found
    for element in lxml_html.fragment_fromstring(fragment, create_parent="div").iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if tag in FORBIDDEN_ELEMENTS and not (tag == "iframe" and embed_hosts):
            found.append(f"<{tag}>")
        if tag == "iframe":
            src = element.get("src", "")
            host = re.match(r"https://([^/?#]+)(?:[/?#]|$)", src)
            if not host or host[1] not in embed_hosts:
                found.append(f"iframe from {src!r}")
        for name, value in element.attrib.items():
            name = name.lower()
            if name.startswith("on") or name in ("style", "srcdoc", "formaction", "action"):
                found.append(f"{tag}[{name}]")
            if name in URL_ATTRIBUTES and scheme_of(value) not in (None, *SAFE_SCHEMES):
                found.append(f"{tag}[{name}={value!r}]")
            if name in URL_ATTRIBUTES and name != "href" and scheme_of(value) == "mailto":
                found.append(f"{tag}[{name}={value!r}]")
            if name == "srcset":
                for token in re.split(r"[\s,]+", value):
                    if token and scheme_of(token) not in (None, "http", "https"):
                        found.append(f"{tag}[srcset] with {token!r}")
    return found


HOSTILE: dict[str, str] = {
    "script": '<p>Before</p><script>fetch("/admin").then(r => r.text())</script><p>After</p>',
    "script-src-uppercase": '<SCRIPT SRC="https://evil.example/x.js"></SCRIPT><P>After</P>',
    "script-split-tag": "<scr<script>ipt>alert(1)</script>",
    "script-nested": "<script><script>alert(1)</script></script>",
    "script-in-attribute-break": '<p title="</p><script>alert(1)</script>">x</p>',
    "style-element": "<style>body { display: none }</style><p>x</p>",
    "style-attribute": '<p style="position:fixed;top:0;left:0;width:100%">x</p>',
    "iframe": '<iframe src="https://evil.example/phish">fallback</iframe>',
    "iframe-srcdoc": '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    "iframe-javascript": '<IFRAME SRC="javascript:alert(1)"></IFRAME>',
    "object": '<object data="https://evil.example/x.swf"><param name="a" value="b">fb</object>',
    "embed": '<embed src="https://evil.example/x.swf" type="application/x-shockwave-flash">',
    "form": (
        '<form action="/admin/fetch" method="post"><input type="hidden" name="csrf" value="x">'
        '<button formaction="/admin/fetch-all">Fetch all</button></form>'
    ),
    "img-onerror": "<img src=x onerror=alert(1)>",
    "img-onerror-quoted": '<img src="x" ONERROR="alert(document.cookie)">',
    "onclick": '<p onclick="alert(1)" onmouseover="alert(2)">x</p>',
    "a-javascript": '<a href="javascript:alert(1)">x</a>',
    "a-javascript-entities": '<a href="&#106;avascript&#x3A;alert(1)">x</a>',
    "a-javascript-named-entities": '<a href="javascript&colon;alert(1)">x</a>',
    "a-javascript-tab": '<a href="java\tscript:alert(1)">x</a>',
    "a-javascript-newline-entity": '<a href="java&#10;script:alert(1)">x</a>',
    "a-javascript-case-space": '<a href="  JaVaScRiPt:alert(1)">x</a>',
    "a-javascript-control-prefix": '<a href="&#1;javascript:alert(1)">x</a>',
    "a-vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "a-data": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "a-target": '<a href="https://evil.example/" target="_blank">x</a>',
    "img-data": '<img src="data:image/svg+xml,&lt;svg onload=alert(1)&gt;">',
    "img-srcset-javascript": '<img src="/a.jpg" srcset="/a.jpg 1x, javascript:alert(1) 2x">',
    "img-srcset-data": '<img src="/a.jpg" srcset="data:image/png;base64,AAAA 2x">',
    "svg-onload": '<svg onload="alert(1)"><circle r="1"/></svg>',
    "svg-script": "<svg><script>alert(1)</script></svg>",
    "math-href": '<math><mtext><a xlink:href="javascript:alert(1)">x</a></mtext></math>',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "base": '<base href="https://evil.example/"><a href="/x">x</a>',
    "link-stylesheet": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "conditional-comment": "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "blockquote-cite": '<blockquote cite="javascript:alert(1)">q</blockquote>',
    "video-autoplay": (
        '<video autoplay onplay="alert(1)" poster="javascript:alert(1)" src="/v.mp4"></video>'
    ),
    "audio-javascript": '<audio src="javascript:alert(1)" onloadstart="alert(1)"></audio>',
    "noscript-mxss": '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "textarea-breakout": "<textarea></textarea><img src=x onerror=alert(1)></textarea>",
    "template": "<template><img src=x onerror=alert(1)></template>",
    "details-ontoggle": "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "table-foster": "<table><tr><td>x</td></tr><script>alert(1)</script></table>",
    "unclosed": '<p><a href="javascript:alert(1)"><img src=x onerror=alert(1)',
    # U+FFFE makes the URL relative to the cleaner; XML output drops it later.
    "noncharacter-scheme": "<a href=\ufffejavascript:alert(1)>x</a>",
}


@pytest.mark.parametrize("case", sorted(set(HOSTILE) - {"a-target"}))
def test_the_checker_sees_each_hostile_case(case: str):
    # A checker that found nothing in the raw input would prove nothing below.
    assert dangers(HOSTILE[case])


def test_a_character_reference_to_a_noncharacter_makes_no_script_url():
    # The reference decodes to U+FFFE, which the feed's XML would then drop.
    cleaned = sanitize_html("<a href=&#xfffe;javascript&#58;alert(1)>x</a>")
    assert dangers(cleaned) == [], cleaned
    assert "javascript:" not in html.unescape(xml_safe(cleaned)), cleaned


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_markup_is_removed(case: str):
    cleaned = sanitize_html(HOSTILE[case])
    assert dangers(cleaned) == [], cleaned


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_markup_is_removed_with_embeds_allowed_too(case: str):
    hosts = frozenset({"www.youtube-nocookie.com"})
    cleaned = sanitize_html(HOSTILE[case], embed_hosts=hosts)
    assert dangers(cleaned, embed_hosts=hosts) == [], cleaned
    assert "<iframe" not in cleaned


def test_script_and_style_go_with_their_content():
    cleaned = sanitize_html(HOSTILE["script"] + HOSTILE["style-element"])
    assert cleaned == "<p>Before</p><p>After</p><p>x</p>"
    assert "fetch" not in cleaned
    assert "display" not in cleaned


def test_links_never_keep_a_target():
    # Opened where the reader opens it, a linked page gets no window.opener.
    assert sanitize_html(HOSTILE["a-target"]) == '<a href="https://evil.example/">x</a>'


def test_links_keep_only_link_types_without_behaviour():
    written = '<a href="/x" rel="nofollow opener  Sponsored prefetch">x</a><a rel="opener">y</a>'
    assert sanitize_html(written) == '<a href="/x" rel="nofollow Sponsored">x</a><a>y</a>'


def test_the_allow_list_holds_nothing_that_runs():
    assert ALLOWED_TAGS.isdisjoint(FORBIDDEN_ELEMENTS)
    assert {"script", "style", "object", "embed", "svg", "math"} <= DROP_WITH_CONTENT
    for tag, names in ATTRIBUTES.items():
        for name in names:
            assert not name.startswith("on"), (tag, name)
            assert name not in ("style", "srcdoc", "action", "formaction", "target"), (tag, name)


# --- what articles legitimately use ------------------------------------------------

#: A realistic article, written the way the sanitiser writes HTML (double quotes,
#: attributes in order), so that what survives can be compared byte for byte.
REALISTIC = (
    "<h2>The strike spreads</h2>\n"
    '<p>Workers at <strong>three depots</strong> walked out on <time datetime="2026-03-03">'
    'Tuesday</time>, the <abbr title="Rail, Maritime and Transport union">RMT</abbr> said. '
    '<a href="/articles/older-story" title="Earlier">Our report</a> and '
    '<a href="https://elsewhere.example/x" hreflang="fr">theirs</a>; write to '
    '<a href="mailto:desk@paper.example">the desk</a>.'
    '<sup><a href="#fn-1" id="ref-1">1</a></sup></p>\n'
    '<figure><img src="/media/picket.jpg" srcset="/media/picket-640.jpg 640w, '
    'picket-1280.jpg 1280w" sizes="(max-width: 600px) 100vw, 50vw" alt="Pickets at dawn" '
    'width="640" height="427" loading="lazy">'
    "<figcaption>Pickets at dawn <small>(Picture: Ann Lee)</small></figcaption></figure>\n"
    '<picture><source srcset="/media/chart.webp" type="image/webp" media="(min-width: 40em)">'
    '<img src="/media/chart.png" alt="Chart"></picture>\n'
    "<h3>What they want</h3>\n"
    "<ul><li>A <em>real</em> pay rise</li><li>No <s>cuts</s> closures</li></ul>\n"
    '<ol start="3" reversed=""><li value="3">Third</li><li>Second</li></ol>\n'
    "<dl><dt>Ballot</dt><dd>94% yes</dd></dl>\n"
    '<blockquote cite="https://union.example/statement"><p>We will not be moved.</p>'
    "</blockquote>\n"
    '<p>As the leaflet put it, <q cite="/leaflet">enough is enough</q>; <cite>The Leaflet'
    "</cite>, <mark>page 2</mark>, H<sub>2</sub>O, x<sup>2</sup>, <b>bold</b>, <i>italic</i>, "
    "<u>under</u>, <span>span</span>, <code>code</code>, <kbd>Ctrl</kbd>, <samp>out</samp>, "
    "<var>n</var>.<br>New line.</p>\n"
    "<hr>\n"
    '<table><caption>Votes by depot</caption><thead><tr><th scope="col">Depot</th>'
    '<th scope="col">Yes</th></tr></thead><tbody><tr><td>North</td><td>120</td></tr>'
    '<tr><td colspan="2" headers="total">All</td></tr></tbody>'
    '<tfoot><tr><td rowspan="1">Total</td></tr></tfoot></table>\n'
    "<pre><code>ballot --count</code></pre>\n"
    '<div lang="ar" dir="rtl"><p>سلمى حداد</p></div>\n'
    '<video src="/media/rally.mp4" poster="/media/rally.jpg" width="640" height="360" '
    'preload="metadata" controls=""><source src="/media/rally.webm" type="video/webm"></video>\n'
    '<audio src="/media/speech.mp3" controls=""></audio>\n'
    '<p id="fn-1">1. The count was independent &amp; <a href="?page=2">more</a>.</p>'
)


def structure(fragment: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """Every element in document order with its attributes, URL values left out."""
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    return [
        (
            element.tag,
            tuple(
                (name, "" if name in (*URL_ATTRIBUTES, "srcset") else value)
                for name, value in sorted(element.attrib.items())
                if name != "rel"
            ),
        )
        for element in root.iter()
        if isinstance(element.tag, str)
    ]


def test_a_realistic_article_survives_byte_for_byte():
    assert sanitize_html(REALISTIC) == REALISTIC


def test_every_allowed_element_appears_in_the_realistic_article():
    headings = "".join(f"<h{n}>Heading {n}</h{n}>" for n in range(1, 7))
    assert sanitize_html(headings) == headings
    used = {tag for tag, _ in structure(REALISTIC + headings)}
    assert used >= ALLOWED_TAGS, sorted(ALLOWED_TAGS - used)


def test_relative_urls_pass_the_sanitiser_unchanged():
    fragment = (
        '<a href="/a">1</a><a href="notes/1">2</a><a href="#fn">3</a><a href="?page=2">4</a>'
        '<a href="../up">5</a><a href="//cdn.example/x">6</a><img src="photo.jpg">'
    )
    assert sanitize_html(fragment) == fragment


def test_markup_is_repaired_as_browsers_repair_it():
    assert sanitize_html("<p>unclosed <b>bold") == "<p>unclosed <b>bold</b></p>"
    assert sanitize_html("<P CLASS=intro>x</P>") == "<p>x</p>"
    assert sanitize_html("a &lt; b &amp; c") == "a &lt; b &amp; c"


@pytest.mark.parametrize(
    "broken",
    ["", "<", "<a", "</", "<!--", "<<<>>>", "\x00<p>\ud800x</p>", "<a " + "x=1 " * 5000 + ">"],
)
def test_broken_markup_never_raises(broken: str):
    assert isinstance(sanitize_html(broken), str)


# --- embeds ------------------------------------------------------------------------

HOSTS = frozenset({"www.youtube-nocookie.com", "player.vimeo.com"})
EMBED = (
    '<iframe src="https://www.youtube-nocookie.com/embed/abc?start=10" width="560" '
    'height="315" title="Rally video" allowfullscreen="" loading="lazy"></iframe>'
)


def test_an_embed_from_a_listed_host_survives_only_when_configured():
    assert sanitize_html(EMBED, embed_hosts=HOSTS) == EMBED
    assert sanitize_html(EMBED) == ""
    assert sanitize_html(EMBED, embed_hosts=frozenset({"player.vimeo.com"})) == ""


def test_an_embed_keeps_only_its_fixed_attributes_and_loses_its_fallback():
    written = (
        '<iframe src="https://player.vimeo.com/video/1" allow="camera; microphone" '
        'sandbox="allow-top-navigation" srcdoc="<b>x</b>" name="x" style="position:fixed" '
        'onload="alert(1)" referrerpolicy="unsafe-url">fallback <img src=x onerror=alert(1)>'
        "</iframe>"
    )
    assert sanitize_html(written, embed_hosts=HOSTS) == (
        '<iframe src="https://player.vimeo.com/video/1"></iframe>'
    )


@pytest.mark.parametrize(
    "src",
    [
        "http://www.youtube-nocookie.com/embed/a",  # not https
        "//www.youtube-nocookie.com/embed/a",  # no scheme of its own
        "/embed/a",  # ours, relative
        "https://youtube-nocookie.com/embed/a",  # a different host than listed
        "https://www.youtube-nocookie.com.evil.example/embed/a",  # suffix
        "https://evil.example/www.youtube-nocookie.com/embed/a",  # in the path
        "https://evil.example\\@www.youtube-nocookie.com/",  # backslash: a parser differential
        "https://user@www.youtube-nocookie.com/",  # userinfo
        "https://www.youtube-nocookie.com:8443/embed/a",  # another port
        "https://www.youtube-nocookie.com/embed/a b",  # whitespace
        "javascript:alert(1)//https://www.youtube-nocookie.com/",
        "data:text/html,<script>alert(1)</script>",
    ],
)
def test_an_embed_from_anywhere_else_is_removed(src: str):
    written = f'<p>Before</p><iframe src="{src}">fallback</iframe><p>After</p>'
    cleaned = sanitize_html(written, embed_hosts=HOSTS)
    assert cleaned == "<p>Before</p><p>After</p>"


def test_embed_host_names_match_without_regard_to_case_in_the_url():
    written = '<iframe src="HTTPS://WWW.YOUTUBE-NOCOOKIE.COM/embed/a"></iframe>'
    assert sanitize_html(written, embed_hosts=HOSTS) == (
        '<iframe src="HTTPS://WWW.YOUTUBE-NOCOOKIE.COM/embed/a"></iframe>'
    )


# --- in the feeds ------------------------------------------------------------------


def feed_bodies(fmt: FeedFormat, body: str, **spec_fields: object) -> list[str]:
    spec = make_spec(**spec_fields)
    data = render(fmt, spec, [make_article(7, body=body)])
    if fmt == "atom":
        check_atom(data, ATOM_SCHEMA)
    elif fmt == "rss":
        check_rss(data)
    else:
        check_json(data, JSON_SCHEMA)
    return bodies(fmt, data)


SCHEMAS = Path(__file__).parent / "schemas"
ATOM_SCHEMA = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
JSON_SCHEMA = jsonschema.Draft202012Validator(
    json.loads((SCHEMAS / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_markup_never_reaches_a_feed(fmt: FeedFormat, case: str):
    for body in feed_bodies(fmt, HOSTILE[case]):
        assert dangers(body) == [], body


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_hostile_body_at_once_gives_a_valid_clean_feed(fmt: FeedFormat):
    [body] = feed_bodies(fmt, "\n".join(HOSTILE.values()))
    assert dangers(body) == []
    assert "<p>Before</p>" in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_realistic_article_keeps_its_structure_in_feeds(fmt: FeedFormat):
    [body] = feed_bodies(fmt, REALISTIC)
    assert structure(body) == structure(REALISTIC)
    assert dangers(body) == []
    # ...and its relative URLs are absolute, resolved against the permalink.
    page = "https://paper.example/articles/story-7"
    assert 'href="https://paper.example/articles/older-story"' in body
    assert f'href="{page}#fn-1"' in body
    assert f'href="{page}?page=2"' in body
    assert 'srcset="https://paper.example/media/picket-640.jpg 640w, ' in body
    assert "https://paper.example/articles/picket-1280.jpg 1280w" in body
    assert 'poster="https://paper.example/media/rally.jpg"' in body
    assert 'cite="https://paper.example/leaflet"' in body
    assert 'href="mailto:desk@paper.example"' in body
    for attribute in ("href", "src", "srcset", "poster", "cite"):
        assert f'{attribute}="/' not in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_feeds_carry_an_embed_only_from_a_configured_host(fmt: FeedFormat):
    body = f"<p>Watch:</p>{EMBED}"
    [without] = feed_bodies(fmt, body)
    assert without == "<p>Watch:</p>"
    [allowed] = feed_bodies(fmt, body, embed_hosts=HOSTS)
    assert allowed == body
    [other] = feed_bodies(fmt, body, embed_hosts=frozenset({"player.vimeo.com"}))
    assert other == "<p>Watch:</p>"


def test_the_entry_memo_tells_embed_lists_apart():
    article = make_article(8, body=EMBED)
    plain = prepare_entry(make_spec(), article)
    embeds = prepare_entry(make_spec(embed_hosts=HOSTS), article)
    assert plain.content_html is None  # nothing left to show
    assert embeds.content_html == EMBED
    assert prepare_entry(make_spec(), article) is plain  # remembered, not redone


def test_a_body_with_nothing_allowed_left_is_no_content():
    for fmt in FORMATS:
        data = render(fmt, make_spec(), [make_article(9, body="<script>alert(1)</script>")])
        if fmt == "json":
            item = json.loads(data)["items"][0]
            assert "content_html" not in item
            assert item["content_text"]
        else:
            assert bodies(fmt, data) == []


def test_summary_feeds_are_untouched_by_the_sanitiser():
    spec = make_spec(content="summary")
    entry = prepare_entry(spec, make_article(10, body=HOSTILE["script"]))
    assert entry.content_html is None


# --- the config key ------------------------------------------------------------------


def config_with(hosts: str) -> str:
    return MINIMAL_CONFIG.replace(
        'tag_authority = "test.example,2026"\n',
        f'tag_authority = "test.example,2026"\nembed_hosts = {hosts}\n',
    )


def test_embed_hosts_default_to_none():
    assert parse_config(MINIMAL_CONFIG).site.embed_hosts == ()
    shipped = Path(__file__).resolve().parent.parent / "config.toml"
    assert parse_config(shipped.read_text("utf-8")).site.embed_hosts == ()


def test_embed_hosts_are_read_and_reach_the_feed_spec():
    config = parse_config(config_with('["www.youtube-nocookie.com", "player.vimeo.com"]'))
    assert config.site.embed_hosts == ("www.youtube-nocookie.com", "player.vimeo.com")
    from syndicate.documents.feeds import ScopeInfo

    spec = feed_spec(config, SITE, "atom", 1, 1, ScopeInfo("t", "s"))
    assert spec.embed_hosts == HOSTS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            '["https://www.youtube.com/embed/x"]',
            "site.embed_hosts: must list bare host names such as 'www.youtube-nocookie.com' "
            "(lowercase; no scheme, port or path), got 'https://www.youtube.com/embed/x' "
            "(write 'www.youtube.com')",
        ),
        ('["Player.Vimeo.com"]', "(write 'player.vimeo.com')"),
        ('["x.example:8443"]', "(write 'x.example')"),
        ('["a b"]', "got 'a b'"),
        ('[""]', "got ''"),
        ('["x.example."]', "got 'x.example.'"),
        ('"www.youtube.com"', "site.embed_hosts: must be an array, got a string"),
        ("[1]", "site.embed_hosts[0]: must be a string, got an integer"),
    ],
)
def test_bad_embed_hosts_are_reported_with_their_key(value: str, expected: str):
    with pytest.raises(ConfigError) as caught:
        parse_config(config_with(value))
    [problem] = caught.value.problems
    assert problem.startswith("site.embed_hosts")
    assert expected in problem


# --- end to end: the store keeps what the CMS sent --------------------------------------


def test_the_store_keeps_the_body_as_sent_and_feeds_show_it_clean(tmp_path: Path):
    config_path = tmp_path / "config.toml"
    config_path.write_text(config_with('["www.youtube-nocookie.com"]'), "utf-8")
    config = parse_config(config_path.read_text("utf-8"), config_path)
    body = HOSTILE["script"] + HOSTILE["img-onerror"] + HOSTILE["a-javascript"] + EMBED
    record = parse_record(sample_record(1, slug="hostile", body=body), ["news", "comment"])
    now = datetime.now(UTC)
    with Store.open(config.store_path) as store:
        store.upsert_article(record, now)
        stored = store.article("hostile")
        assert stored is not None
        assert stored.body == body
        for fmt in FORMATS:
            data = build_feed(config, store, feed_key(SITE, fmt), now).body
            [content] = bodies(fmt, data)
            assert dangers(content, embed_hosts=frozenset({"www.youtube-nocookie.com"})) == []
            assert "<p>Before</p><p>After</p>" in content
            assert EMBED in content
        after = store.article("hostile")
        assert after is not None
        assert after.body == body
