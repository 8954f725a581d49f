"""A real Chromium opens an old article's page served by a real `syndicate serve`.

The server's own fetcher fills the sidebar from the sample outside feeds,
including one that tries script tags, event handlers, javascript: links and
bidirectional overrides: the page must show them as inert text.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import MINIMAL_CONFIG, fill_store, running_server, sample_record

FEEDS = Path(__file__).resolve().parent.parent / "feeds"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("browser")
    port = free_port()
    config = folder / "config.toml"
    config.write_text(
        MINIMAL_CONFIG.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{port}").replace(
            "[store]", f'[server]\ndemo_feeds = "{FEEDS}"\n\n[store]'
        )
        + "\n[fetcher]\nallow_private_addresses = true\n"
        + "".join(
            f'\n[[sidebar.sources]]\nname = "{name}"\nurl = "http://127.0.0.1:{port}/demo-feeds/{file}"\n'
            for name, file in (
                ("Labour Wire", "labour-wire.rss"),
                ("Totally Normal News", "hostile.rss"),
            )
        )
    )
    fill_store(folder / "store.db", 20)
    from datetime import UTC, datetime

    from syndicate.records import parse_record
    from syndicate.store import Store

    old = sample_record(
        900, slug="old-story", title="Dockers strike closes the port", section="news"
    )
    old["published"] = "2011-03-10T09:00:00Z"
    with Store.open(folder / "store.db") as store:
        store.upsert_article(parse_record(old, ["news", "comment"]), datetime.now(UTC))
    with running_server(config, "--workers", "1", "--port", str(port)) as root:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with urllib.request.urlopen(root + "/latest-news.json") as response:
                sources = {i["source"] for i in json.loads(response.read())["items"]}
            if len(sources) == 2:
                break
            time.sleep(0.3)
        else:
            pytest.fail("the fetcher never filled the sidebar")
        yield root


async def test_old_article_page_shows_age_notice_and_inert_sidebar(site: str, page):
    dialogs: list[str] = []

    async def on_dialog(dialog):
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    await page.goto(site + "/articles/old-story")
    assert await page.locator("h1").inner_text() == "Dockers strike closes the port"
    notice = await page.locator(".age-notice").inner_text()
    assert notice.startswith("This article is over 15 years")
    items = page.locator("aside .latest-news-item")
    assert await items.count() >= 5
    sidebar_text = await page.locator("aside").inner_text()
    assert "Council approves budget" in sidebar_text
    assert "Bus drivers in Leeds" in sidebar_text
    assert "Click for prizes" in sidebar_text  # its javascript: link gave way to the home page
    link = page.locator("aside a.latest-news-link", has_text="Click for prizes")
    assert await link.get_attribute("href") == "http://hostile.example/"
    # Nothing in the sidebar is markup from outside: no scripts, images or handlers.
    assert await page.locator("aside script, aside img, aside b").count() == 0
    handlers = await page.evaluate(
        "() => [...document.querySelectorAll('aside *')]"
        ".flatMap(e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on'))"
    )
    assert handlers == []
    hrefs = await page.eval_on_selector_all("aside a", "links => links.map(a => a.href)")
    assert all(h.startswith("http://") or h.startswith("https://") for h in hrefs)
    assert "\u202e" not in sidebar_text
    await page.hover("aside .latest-news-link >> nth=0")
    assert dialogs == []
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "article-page.png"), full_page=True)


async def test_feeds_page_lists_every_feed(site: str, page):
    await page.goto(site + "/feeds")
    assert (await page.title()).startswith("Feeds")
    autodiscovery = page.locator("link[rel=alternate][type='application/atom+xml']")
    assert await autodiscovery.count() >= 3
    assert await page.locator("a[href$='/authors/simon-assaf/feed.atom']").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "feeds-page.png"), full_page=True)


@pytest.mark.parametrize("path", ["/articles/old-story", "/feeds", "/latest-news"])
async def test_public_pages_keep_their_style_under_their_csp(site: str, page, path: str):
    """The CSP forbids every script but allows each page's own style block, by hash."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    response = await page.goto(site + path)
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert refused == []
    if path != "/latest-news":  # the fragment has no style of its own
        styled = await page.evaluate("() => getComputedStyle(document.body).fontFamily")
        assert styled, "the page's own style block was applied"
    # Script injected after the fact cannot run either.
    ran = await page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = 1'; document.body.append(s);"
        " return window.__ran === 1; }"
    )
    assert ran is False
