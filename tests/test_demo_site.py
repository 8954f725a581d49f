"""The demo has no dead links: a real `syndicate serve` on a demo store, every link followed.

Issue 15, "A demo with no dead links": the site's pages (/, each section,
author, issue and tag), /feeds, /latest-news, the article previews and the
first pages of every feed in all three formats are fetched on loopback, and
every link, image, icon, logo and enclosure they name under the demo's own
base URL must answer 2xx. Links outside the base are collected and must be
none. Then Chromium opens the home page and every image on it has loaded.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import pytest
from lxml import etree

from syndicate.config import load_config
from syndicate.demo import generate_demo
from syndicate.samplemedia import issue_pdf
from tests.support import running_server
from tests.test_browser import FEEDS, free_port

ROOT = Path(__file__).resolve().parent.parent
#: Most URLs the crawl may visit: a bound, well above the ~900 a 60-article demo has.
MAX_URLS = 3000
#: Keys of a JSON Feed whose values are URLs (JSON Feed 1.1).
JSON_URL_KEYS = frozenset(
    {"home_page_url", "feed_url", "next_url", "icon", "favicon", "url", "external_url", "image"}
)
FEED_TYPES = ("application/atom+xml", "application/rss+xml", "application/feed+json")


class Links(HTMLParser):
    """Every href, src and srcset URL of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("href", "src"):
                self.found.append(value)
            elif value and name == "srcset":
                self.found += [part.split()[0] for part in value.split(",") if part.strip()]


def html_links(text: str) -> list[str]:
    parser = Links()
    parser.feed(text)
    return parser.found


def xml_links(body: bytes) -> list[str]:
    """Atom and RSS: every href and url attribute, and the text of link, url, icon and logo."""
    found: list[str] = []
    for element in etree.fromstring(body).iter():
        if not isinstance(element.tag, str):
            continue
        found += [v for k, v in element.attrib.items() if k in ("href", "url")]
        local = etree.QName(element).localname
        if local in ("link", "url", "icon", "logo") and element.text and element.text.strip():
            found.append(element.text.strip())
    return found


def json_links(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in JSON_URL_KEYS and isinstance(item, str):
                yield item
            else:
                yield from json_links(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_links(item)


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.headers.get("Content-Type", ""), reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), b""


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The repository's config.toml with its base URL moved to a free port, a 60-article demo."""
    folder = tmp_path_factory.mktemp("demosite")
    port = free_port()
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{port}")
    text = text.replace('path = "data/syndicate.db"', 'path = "store.db"')
    text = text.replace('demo_feeds = "feeds"', f'demo_feeds = "{FEEDS}"')
    config_path = folder / "config.toml"
    config_path.write_text(text, encoding="utf-8")
    config = load_config(config_path)
    assert config.site.pages
    assert config.server.demo_media
    generate_demo(folder / "store.db", config, articles=60)
    with running_server(config_path, "--workers", "1", "--no-fetch", "--port", str(port)) as root:
        yield root


def test_every_link_of_the_demo_answers(demo_site: str):
    root = demo_site
    started = time.monotonic()
    queue = ["/", "/feeds", "/latest-news"]
    seen: set[str] = set()
    failures: list[str] = []
    outside: set[str] = set()
    kinds: dict[str, int] = {}
    while queue:
        assert len(seen) < MAX_URLS, "the crawl never ends"
        assert time.monotonic() - started < 120, "the crawl took too long"
        target = queue.pop()
        url = urljoin(root + "/", target)
        if url in seen:
            continue
        seen.add(url)
        status, content_type, body = fetch(url)
        if status >= 400:
            failures.append(f"{status} {url}")
            continue
        media = content_type.split(";")[0].strip()
        kinds[media] = kinds.get(media, 0) + 1
        if media == "text/html":
            found = html_links(body.decode("utf-8"))
        elif media in ("application/atom+xml", "application/rss+xml"):
            found = xml_links(body)
        elif media == "application/feed+json":
            found = list(json_links(json.loads(body)))
        else:
            continue
        for link in found:
            absolute = urldefrag(urljoin(url, link)).url
            if absolute == root + "/websub":  # the hub every feed names takes POSTs only
                continue
            if not absolute.startswith(root + "/") and absolute != root:
                outside.add(absolute)
            elif absolute not in seen:
                queue.append(absolute)
    assert failures == []
    assert outside == set()
    # The crawl reached every kind of thing the demo shows.
    assert {"text/html", "image/svg+xml", "image/png", "application/pdf"} <= set(kinds)
    assert all(kinds.get(t, 0) >= 50 for t in FEED_TYPES)
    for path in ("/sections/news", "/authors/", "/issues/", "/tags/", "/articles/"):
        assert any(u.startswith(root + path) for u in seen), path


def test_pages_show_bylines_feeds_and_autodiscovery(demo_site: str):
    status, content_type, body = fetch(demo_site + "/sections/news")
    assert status == 200
    assert content_type.startswith("text/html")
    page = body.decode("utf-8")
    for fmt, media in (("atom", "application/atom+xml"), ("rss", "application/rss+xml")):
        assert f'<link rel="alternate" type="{media}"' in page
        assert f'href="{demo_site}/sections/news/feed.{fmt}"' in page
    assert 'type="application/feed+json"' in page
    assert re.search(r'class="byline" href="[^"]+/authors/[^"]+" rel="author"><bdi>', page)
    assert 'class="latest-news"' in page
    assert fetch(demo_site + "/sections/no-such-section")[0] == 404
    assert fetch(demo_site + "/authors/nobody-at-all")[0] == 404


def test_made_up_files_are_what_they_say(demo_site: str):
    status, content_type, body = fetch(demo_site + "/static/icon.png")
    assert (status, content_type) == (200, "image/png")
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    status, content_type, body = fetch(demo_site + "/pdf/issue-2094.pdf")
    assert (status, content_type) == (200, "application/pdf")
    assert body == issue_pdf(2094)
    assert body.startswith(b"%PDF-1.4")
    # The xref table points at each object's real offset.
    xref = int(body.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    offsets = [int(line[:10]) for line in body[xref:].split(b"\n")[3:8]]
    assert [body[o:].split(b" ")[0] for o in offsets] == [b"1", b"2", b"3", b"4", b"5"]
    for bad in ("/images/..%2Fconfig.toml", "/images/x.jpg", "/static/config.toml", "/pdf/a.pdf"):
        assert fetch(demo_site + bad)[0] == 404, bad


async def test_home_page_images_load_in_chromium(demo_site: str, page):
    await page.goto(demo_site + "/")
    await page.wait_for_load_state("load")
    await page.evaluate(
        "() => Promise.all([...document.images].map(i => (i.loading = 'eager', i.decode())))"
    )
    widths = await page.evaluate("() => [...document.images].map(i => i.naturalWidth)")
    assert len(widths) >= 10
    assert all(w > 0 for w in widths), widths


def test_enclosure_lengths_are_the_pdfs_real_sizes(demo_site: str):
    status, _, body = fetch(demo_site + "/feeds.opml")
    assert status == 200
    issues = [
        url.replace(".atom", ".rss")
        for url in etree.fromstring(body).xpath("//outline/@xmlUrl")
        if "/issues/" in url
    ]
    assert issues
    checked = 0
    for feed in issues:
        # Every item of an issue's feed carries the same enclosure: check the first.
        enclosure = next(etree.fromstring(fetch(feed)[2]).iter("enclosure"), None)
        if enclosure is None:  # an issue whose articles are all still to come
            continue
        status, content_type, pdf = fetch(enclosure.get("url"))
        assert (status, content_type) == (200, enclosure.get("type"))
        assert len(pdf) == int(enclosure.get("length"))
        checked += 1
    assert checked >= 5
