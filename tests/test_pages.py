"""The Latest News sidebar and the article preview page, over real HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from syndicate.config import Config, parse_config
from syndicate.fetch.types import CleanEntry, Validators
from syndicate.store import Store
from syndicate.store.sources import Sources
from syndicate.web.app import make_app
from syndicate.web.demofeeds import fill_dates
from tests.support import MINIMAL_CONFIG, fill_store, sample_record

SOURCES = """
[sidebar]
items = 5
max_per_source = 2

[[sidebar.sources]]
name = "Busy Wire"
url = "http://busy.example/feed"

[[sidebar.sources]]
name = "Quiet <Gazette>"
url = "http://quiet.example/feed"
max_items = 1
"""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL_CONFIG + SOURCES)
    fill_store(tmp_path / "store.db", 10)
    return parse_config(path.read_text(), path)


def put_entries(config: Config, url: str, titles: list[str], start: datetime) -> None:
    with Store.open(config.store_path) as store:
        sources = Sources(store)
        sources.sync([(s.name, s.url) for s in config.sidebar.sources])
        row = next(s for s in sources.all() if s.url == url)
        entries = [
            CleanEntry(
                key=f"guid:{url}{i}",
                title=t,
                link=f"{url}/{i}",
                published=start - timedelta(minutes=i),
            )
            for i, t in enumerate(titles)
        ]
        sources.record_entries(
            row.id,
            entries,
            now=datetime.now(UTC),
            validators=Validators(),
            status=200,
            next_fetch=datetime.now(UTC),
            seconds=0.1,
        )


@pytest.fixture
async def client(aiohttp_client: Any, config: Config) -> Any:
    now = datetime.now(UTC)
    put_entries(
        config, "http://busy.example/feed", ["Busy one", "Busy two", "Busy three", "Busy four"], now
    )
    put_entries(
        config,
        "http://quiet.example/feed",
        ['<script>alert("x")</script> & friends', "Quiet two"],
        now - timedelta(minutes=1, seconds=30),
    )
    return await aiohttp_client(make_app(config))


async def test_sidebar_json_caps_each_source_and_escapes(client: Any):
    response = await client.get("/latest-news.json")
    assert response.status == 200
    raw = await response.text()
    assert "<" not in raw
    assert ">" not in raw
    items = json.loads(raw)["items"]
    assert [i["title"] for i in items] == [
        "Busy one",
        "Busy two",
        '<script>alert("x")</script> & friends',
    ]
    assert items[2]["source"] == "Quiet <Gazette>"


async def test_sidebar_html_is_a_semantic_list_with_inert_text(client: Any):
    text = await (await client.get("/latest-news")).text()
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    tree = lxml_html.fragment_fromstring(text)
    items = tree.findall(".//ol/li")
    assert len(items) == 3
    first = items[0]
    assert first.find(".//a").get("href") == "http://busy.example/feed/0"
    assert first.find(".//time").get("datetime").endswith("Z")
    assert first.find(".//time").text in ("just now", "1 minute ago")
    assert "Quiet <Gazette>" in items[2].text_content()


async def test_sidebar_has_validators_and_follows_new_entries(client: Any, config: Config):
    first = await client.get("/latest-news.json")
    etag = first.headers["ETag"]
    again = await client.get("/latest-news.json", headers={"If-None-Match": etag})
    assert again.status == 304
    put_entries(
        config, "http://busy.example/feed", ["Brand new"], datetime.now(UTC) + timedelta(seconds=30)
    )
    changed = await client.get("/latest-news.json", headers={"If-None-Match": etag})
    assert changed.status == 200
    assert json.loads(await changed.text())["items"][0]["title"] == "Brand new"


async def test_sources_removed_from_config_leave_the_sidebar(
    aiohttp_client: Any, config: Config, tmp_path: Path
):
    put_entries(config, "http://quiet.example/feed", ["Only quiet"], datetime.now(UTC))
    fewer = parse_config(
        MINIMAL_CONFIG
        + SOURCES.split("[[sidebar.sources]]")[0]
        + "[[sidebar.sources]]"
        + SOURCES.split("[[sidebar.sources]]")[1],
        config.source,
    )
    with Store.open(fewer.store_path) as store:
        Sources(store).sync([(s.name, s.url) for s in fewer.sidebar.sources])
    client = await aiohttp_client(make_app(fewer))
    items = json.loads(await (await client.get("/latest-news.json")).text())["items"]
    assert items == []


async def test_article_page(aiohttp_client: Any, config: Config):
    old = sample_record(500, slug="old-story", title="An old story", section="news")
    old["published"] = "2011-03-10T09:00:00Z"
    from syndicate.records import parse_record

    with Store.open(config.store_path) as store:
        store.upsert_article(parse_record(old, ["news", "comment"]), datetime.now(UTC))
    put_entries(
        config,
        "http://busy.example/feed",
        ['<img src=x onerror="alert(1)">Busy'],
        datetime.now(UTC),
    )
    client = await aiohttp_client(make_app(config))
    response = await client.get("/articles/old-story")
    assert response.status == 200
    page = lxml_html.fromstring(await response.text())
    assert page.findtext(".//h1") == "An old story"
    notice = page.find(".//p[@class='age-notice']").text
    assert notice.startswith("This article is over 15 years")
    feeds = {link.get("href") for link in page.findall(".//link[@rel='alternate']")}
    assert "http://127.0.0.1:8080/sections/news/feed.atom" in feeds
    assert any("/authors/" in f for f in feeds)
    bylines = page.findall(".//a[@class='byline']")
    assert bylines
    assert bylines[0].get("href").endswith("/feed.atom")
    sidebar = page.find(".//aside")
    assert sidebar.findall(".//li")
    assert not sidebar.findall(".//img")
    assert "onerror" not in (sidebar.find(".//li//a").attrib.get("onerror") or "")


@pytest.mark.parametrize("slug", ["no-such-article", "draft-story", "future-story"])
async def test_article_page_hides_what_is_not_published(
    aiohttp_client: Any, config: Config, slug: str
):
    from syndicate.records import parse_record

    records = [
        sample_record(600, slug="draft-story", status="draft"),
        sample_record(
            601, slug="future-story", published=(datetime.now(UTC) + timedelta(days=1)).isoformat()
        ),
    ]
    with Store.open(config.store_path) as store:
        store.upsert_articles(
            [parse_record(r, ["news", "comment"]) for r in records], datetime.now(UTC)
        )
    client = await aiohttp_client(make_app(config))
    response = await client.get(f"/articles/{slug}")
    assert response.status == 404


# --- the article body is sanitised (issue 11) ------------------------------------------

HOSTILE_BODY = (
    "<p>Before</p>"
    '<script>fetch("/admin").then(r => r.text()).then(t => fetch("/admin/fetch-all"))</script>'
    '<SCRIPT SRC="https://evil.example/x.js"></SCRIPT><scr<script>ipt>alert(1)</script>'
    "<style>body{display:none}</style>"
    '<iframe src="https://evil.example/phish"></iframe>'
    '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/y">'
    '<form action="/admin/fetch" method="post"><input name="csrf"><button>Go</button></form>'
    '<img src=x onerror=alert(1)><p onclick="alert(1)" style="position:fixed">Styled</p>'
    '<a href="javascript:alert(1)">js</a><a href="&#106;avascript&#58;alert(2)">js2</a>'
    '<a href="data:text/html,<script>alert(3)</script>">data</a>'
    '<svg onload="alert(4)"><circle r="1"/></svg>'
    "<p>After</p>"
)
EMBED = (
    '<iframe src="https://www.youtube-nocookie.com/embed/abc" width="560" height="315" '
    'title="Rally" allowfullscreen=""></iframe>'
)
LEGIT_BODY = (
    '<h2>Heading</h2><p>Text with <a href="/articles/other" target="_blank">a link</a>.</p>'
    '<figure><img src="/media/a.jpg" srcset="/media/a-640.jpg 640w, /media/a-1280.jpg 1280w" '
    'alt="A"><figcaption>Caption</figcaption></figure>'
    "<ul><li>One</li><li>Two</li></ul>"
    '<blockquote cite="/src"><p>Quoted</p></blockquote>'
    "<table><caption>T</caption><tbody><tr><th>h</th><td>d</td></tr></tbody></table>" + EMBED
)


async def page_body(client: Any, slug: str) -> Any:
    response = await client.get(f"/articles/{slug}")
    assert response.status == 200
    page = lxml_html.fromstring(await response.text())
    [body] = page.xpath("//div[@class='body']")
    return body


def store_body(config: Config, slug: str, body: str) -> None:
    from syndicate.records import parse_record

    record = parse_record(sample_record(700, slug=slug, body=body), ["news", "comment"])
    with Store.open(config.store_path) as store:
        store.upsert_article(record, datetime.now(UTC))


async def test_article_page_runs_nothing_from_the_body(aiohttp_client: Any, config: Config):
    store_body(config, "hostile", HOSTILE_BODY)
    client = await aiohttp_client(make_app(config))
    body = await page_body(client, "hostile")
    elements = [e for e in body.iter() if isinstance(e.tag, str)]
    tags = {e.tag for e in elements}
    bad_tags = {"script", "style", "iframe", "object", "embed", "form", "input", "svg", "button"}
    assert tags.isdisjoint(bad_tags)
    for element in elements:
        for name, value in element.attrib.items():
            assert not name.startswith("on"), (element.tag, name)
            assert name != "style"
            if name in ("href", "src"):
                assert not value.lower().startswith(("javascript:", "data:")), value
    text = body.text_content()
    assert "fetch(" not in text
    assert "display:none" not in text
    assert [p.text for p in body.findall(".//p")] == ["Before", "Styled", "After"]
    # The store keeps the body exactly as the CMS sent it.
    with Store.open(config.store_path) as store:
        stored = store.article("hostile")
    assert stored is not None
    assert stored.body == HOSTILE_BODY


async def test_article_page_keeps_what_articles_use(aiohttp_client: Any, config: Config):
    store_body(config, "legit", LEGIT_BODY)
    client = await aiohttp_client(make_app(config))
    body = await page_body(client, "legit")
    assert body.findtext("h2") == "Heading"
    assert body.find(".//figure/img").get("srcset") == (
        "http://127.0.0.1:8080/media/a-640.jpg 640w, http://127.0.0.1:8080/media/a-1280.jpg 1280w"
    )
    assert body.findtext(".//figure/figcaption") == "Caption"
    assert [li.text for li in body.findall(".//ul/li")] == ["One", "Two"]
    assert body.find(".//blockquote").get("cite") == "http://127.0.0.1:8080/src"
    assert body.findtext(".//table/caption") == "T"
    link = body.find(".//p/a")
    assert link.get("href") == "http://127.0.0.1:8080/articles/other"
    assert link.get("target") is None
    assert body.find(".//iframe") is None  # no embed hosts configured


async def test_article_page_embeds_only_configured_hosts(aiohttp_client: Any, tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(
        MINIMAL_CONFIG.replace(
            'tag_authority = "test.example,2026"\n',
            'tag_authority = "test.example,2026"\nembed_hosts = ["www.youtube-nocookie.com"]\n',
        )
    )
    config = parse_config(path.read_text(), path)
    assert config.site.embed_hosts == ("www.youtube-nocookie.com",)
    store_body(config, "embeds", LEGIT_BODY + '<iframe src="https://evil.example/x"></iframe>')
    client = await aiohttp_client(make_app(config))
    body = await page_body(client, "embeds")
    [frame] = body.findall(".//iframe")
    assert frame.get("src") == "https://www.youtube-nocookie.com/embed/abc"
    assert dict(frame.attrib) == {
        "src": "https://www.youtube-nocookie.com/embed/abc",
        "width": "560",
        "height": "315",
        "title": "Rally",
        "allowfullscreen": "",
    }
    # The page's CSP lets that one host's frames and media in, still no script.
    csp = (await client.get("/articles/embeds")).headers["Content-Security-Policy"]
    assert "frame-src https://www.youtube-nocookie.com;" in csp
    assert "media-src http: https:" in csp
    assert "script-src" not in csp


def test_demo_feed_dates_are_filled_relative_to_now():
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    text = fill_dates(
        "<pubDate>{{now-2h:rfc822}}</pubDate><u>{{now-30m:rfc3339}}</u>{{now:rfc3339}}", now
    )
    assert text == (
        "<pubDate>Thu, 26 Nov 2026 10:00:00 GMT</pubDate>"
        "<u>2026-11-26T11:30:00Z</u>2026-11-26T12:00:00Z"
    )


async def test_demo_feeds_are_served_with_validators(aiohttp_client: Any, tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL_CONFIG.replace("[store]", '[server]\ndemo_feeds = "feeds"\n\n[store]'))
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "x.rss").write_text(
        "<rss><channel><pubDate>{{now:rfc822}}</pubDate></channel></rss>"
    )
    fill_store(tmp_path / "store.db", 1)
    client = await aiohttp_client(make_app(parse_config(path.read_text(), path)))
    response = await client.get("/demo-feeds/x.rss")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert "{{" not in await response.text()
    again = await client.get(
        "/demo-feeds/x.rss", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status == 304
    assert (await client.get("/demo-feeds/..%2Fconfig.toml")).status == 404
    assert (await client.get("/demo-feeds/missing.rss")).status == 404


# --- bidi: names and titles are isolated (issue 12) ------------------------------------

RLO = "\u202e"


def bidi_article(name: str) -> Any:
    from syndicate.models import Article, Author

    when = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    return Article(
        id=1,
        slug="bidi",
        title=f"{RLO}عنوان المقال",
        standfirst="",
        body="<p>Text.</p>",
        section="news",
        issue=None,
        published=when,
        updated=when,
        authors=(Author(slug="rana", name=name),),
        tags=(),
        image=None,
        status="published",
    )


def test_article_page_isolates_every_name_and_title(config: Config):
    from syndicate.documents.article import render_article

    article = bidi_article("رنا الشامي")
    page = lxml_html.fromstring(render_article(config, article, "", article.published))
    assert page.find(".//h1").get("dir") == "auto"
    assert page.findtext(".//h1") == "عنوان المقال", "no override left in the headline"
    byline = page.find(".//a[@class='byline']")
    assert [b.text for b in byline.findall("bdi")] == ["رنا الشامي"]
    assert page.findtext(".//p[@class='kicker']/a/bdi") == "News"
    assert page.findtext(".//p[@class='meta']/time") == "6 December 2026"


def test_article_page_drops_overrides_from_names_stored_by_another_route(config: Config):
    """A CMS writing the store directly bypasses parse_record: the page still drops them."""
    from syndicate.documents.article import render_article

    article = bidi_article(f"{RLO}Salma Haddad")
    text = render_article(config, article, "", article.published)
    assert RLO not in text
    assert "<bdi>Salma Haddad</bdi>" in text


def test_sidebar_and_directory_isolate_names_and_titles(config: Config):
    from syndicate.documents.directory import directory, render_html
    from syndicate.documents.sidebar import render_sidebar_html
    from syndicate.store.sources import SidebarItem

    now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    items = [
        SidebarItem(source=f"{RLO}وكالة", title="خبر 6", link="https://e.test/1", published=now)
    ]
    sidebar = lxml_html.fromstring(render_sidebar_html(items, now))
    assert sidebar.findtext(".//span[@class='latest-news-source']/bdi") == "وكالة"
    assert sidebar.findtext(".//a[@class='latest-news-link']/bdi") == "خبر 6"
    with Store.open(config.store_path) as store:
        page = lxml_html.fromstring(render_html(config, directory(config, store)))
    cells = [td.findtext("bdi") for td in page.findall(".//tbody/tr/td[1]")]
    assert cells
    assert all(cells), "every feed title sits in a <bdi>"
    assert "سلمى حداد" in cells


BYLINE_GEOMETRY = """() => {
  const time = document.querySelector('.meta time');
  const names = Array.from(document.querySelectorAll('.meta a.byline'));
  const last = names[names.length - 1].getBoundingClientRect();
  return {
    date: time.textContent,
    dateBoxes: Array.from(time.getClientRects()).map(r => [r.left, r.right]),
    nameRight: last.right,
    meta: document.querySelector('.meta').innerText,
  };
}"""


@pytest.mark.parametrize(
    "name", ["رنا الشامي", f"{RLO}Salma Haddad"], ids=["arabic-name", "right-to-left-override"]
)
async def test_a_right_to_left_byline_leaves_the_date_beside_it_intact(
    config: Config, page: Any, name: str
):
    """'By 6 · رنا الشامي December 2026': the date must render whole, after the name."""
    from syndicate.documents.article import render_article

    article = bidi_article(name)
    await page.set_content(render_article(config, article, "", article.published))
    seen = await page.evaluate(BYLINE_GEOMETRY)
    assert seen["date"] == "6 December 2026"
    # One box: no digit of the date was carried off into the name's run.
    assert len(seen["dateBoxes"]) == 1, seen
    # In this left-to-right page the date comes after (to the right of) the name.
    assert seen["dateBoxes"][0][0] >= seen["nameRight"], seen
    assert RLO not in seen["meta"]
    assert seen["meta"].endswith("· 6 December 2026")
