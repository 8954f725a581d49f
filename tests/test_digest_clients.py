"""The digest as its readers meet it: Chromium on the email page, rss2email on the feed.

A real `syndicate serve --workers 2` on loopback, with articles spread over
the last three cut-offs of a daily digest and nothing in the middle period:
its leader freezes the two editions with articles at start. Chromium opens
an edition's email page (images from a second loopback server, links to the
server's own article pages) and takes a screenshot; rss2email (Debian's
package) mails one message per edition to a sendmail that writes files, and
a second run mails nothing new.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from syndicate.config import parse_config
from syndicate.cutoffs import cutoffs_until
from syndicate.records import parse_record
from syndicate.store import Store
from tests.support import MINIMAL_CONFIG, running_server

DIGEST = """
[[digests]]
slug = "breakfast"
title = "Breakfast in Red"
time = "07:00"
time_zone = "Europe/London"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def png(width: int = 4, height: int = 3) -> bytes:
    """A small red PNG, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xc8\x10\x2e" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class Site:
    def __init__(self, root: str, images: int, editions: dict[str, list[str]], empty: str) -> None:
        self.root = root
        self.images = images
        #: The date of the period with no article.
        self.empty = empty
        #: Edition date -> the headlines it must hold.
        self.editions = editions


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("digest")
    port, images = free_port(), free_port()
    path = folder / "config.toml"
    path.write_text(
        MINIMAL_CONFIG.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{port}") + DIGEST
    )
    config = parse_config(path.read_text(), path)
    now = datetime.now(UTC)
    c0, c1, c2, c3 = cutoffs_until(config.digests[0], now, 4)
    editions: dict[str, list[str]] = {c1.edition.isoformat(): [], c3.edition.isoformat(): []}
    records = []
    # Two articles before c1, none between c1 and c2 (no edition), three before c3.
    for n, (cut, back) in enumerate(((c1, 1), (c1, 3), (c3, 1), (c3, 2), (c3, 5))):
        title = f"Strike news {n}: dockers & drivers"
        editions[cut.edition.isoformat()].append(title)
        records.append(
            {
                "slug": f"story-{n}",
                "title": title,
                "standfirst": f"What happened in story {n}",
                "body": f"<p>Story {n}.</p>",
                "section": ("news", "comment")[n % 2],
                "published": (cut.at - timedelta(hours=back)).isoformat(),
                "authors": ["Simon Assaf"],
                "image": {
                    "url": f"http://127.0.0.1:{images}/img/story-{n}.png",
                    "alt": f"Pickets at story {n}",
                },
            }
        )
    assert c0.at < c1.at
    with Store.open(config.store_path) as store:
        store.upsert_articles([parse_record(r, ["news", "comment"]) for r in records], now)
    with running_server(path, "--workers", "2", "--port", str(port), "--no-fetch") as root:
        deadline = time.monotonic() + 30
        while True:  # the leader freezes the editions at start
            with urllib.request.urlopen(root + "/digests/breakfast/feed.json") as response:
                if len(json.loads(response.read())["items"]) == 2:
                    break
            assert time.monotonic() < deadline, "the leader never froze the editions"
            time.sleep(0.2)
        yield Site(root, images, editions, c2.edition.isoformat())


async def test_chromium_renders_the_email_page_with_its_images_and_links(
    site: Site, page: Any, aiohttp_server: Any, tmp_path: Path
):
    async def image(request: web.Request) -> web.Response:
        return web.Response(body=png(), content_type="image/png")

    app = web.Application()
    app.router.add_get("/img/{name}", image)
    await aiohttp_server(app, port=site.images)
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    edition = max(site.editions)
    response = await page.goto(f"{site.root}/digests/breakfast/{edition}")
    assert response is not None
    assert response.status == 200
    await page.wait_for_load_state("load")
    shot = tmp_path / "digest-edition.png"
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 5000
    assert refused == [], "the page's inline styles are allowed by its CSP"
    title = await page.locator("h1").inner_text()
    assert title == "Breakfast in Red"
    color = await page.evaluate("() => getComputedStyle(document.querySelector('h1')).color")
    assert color == "rgb(200, 16, 46)", "the inline style was applied"
    headlines = await page.locator("h3").all_inner_texts()
    assert sorted(headlines) == sorted(site.editions[edition])
    loaded = await page.evaluate(
        "() => [...document.images].map(i => [i.complete && i.naturalWidth > 0,"
        " i.getAttribute('width'), i.alt])"
    )
    assert len(loaded) == 3
    assert all(ok and width == "560" and alt.startswith("Pickets") for ok, width, alt in loaded)
    hrefs = await page.eval_on_selector_all("a", "links => links.map(a => a.getAttribute('href'))")
    assert all(h.startswith(site.root + "/") for h in hrefs), hrefs
    ours = sorted({h for h in hrefs if "/articles/" in h or "/digests/" in h})
    assert len(ours) >= 5
    for href in ours:
        answer = await page.request.get(href)
        assert answer.status == 200, href
    assert await page.locator("script").count() == 0


def test_the_empty_period_made_no_edition(site: Site):
    with urllib.request.urlopen(site.root + "/digests/breakfast/feed.json") as response:
        items = json.loads(response.read())["items"]
    assert [i["url"].rsplit("/", 1)[1] for i in items] == sorted(site.editions, reverse=True)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{site.root}/digests/breakfast/{site.empty}")
    assert caught.value.code == 404


def test_the_plain_text_has_every_headline_and_link(site: Site):
    for edition, headlines in site.editions.items():
        url = f"{site.root}/digests/breakfast/{edition}.txt"
        with urllib.request.urlopen(url) as response:
            assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
            text = response.read().decode()
        for headline in headlines:
            assert f"\n{headline}\n" in text
            slug = f"story-{headline.split(':')[0].rsplit(' ', 1)[1]}"
            assert f"\n{site.root}/articles/{slug}\n" in text[text.index(headline) :]


def rss2email(feed: str, folder: Path) -> tuple[Path, list[str]]:
    """Set up rss2email for ``feed`` with a sendmail that writes each message to a file."""
    mail = folder / "mail"
    mail.mkdir()
    sendmail = folder / "sendmail"
    sendmail.write_text(f'#!/bin/sh\ncat > "$(mktemp -p {mail} XXXXXXXX.eml)"\n')
    sendmail.chmod(0o755)
    config, data = folder / "rss2email.cfg", folder / "rss2email.json"
    base = ["r2e", "-c", str(config), "-d", str(data)]
    return mail, base


@pytest.mark.skipif(
    shutil.which("r2e") is None, reason="rss2email is not installed (.ci/run installs it)"
)
@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_rss2email_mails_one_message_per_edition_once(site: Site, tmp_path: Path, fmt: str):
    mail, base = rss2email(f"{site.root}/digests/breakfast/feed.{fmt}", tmp_path)
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}

    def r2e(*args: str) -> None:
        done = subprocess.run([*base, *args], capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr

    r2e("new", "reader@example.test")
    config = tmp_path / "rss2email.cfg"
    text = config.read_text()
    assert "sendmail = /usr/sbin/sendmail" in text
    config.write_text(
        text.replace("sendmail = /usr/sbin/sendmail", f"sendmail = {tmp_path}/sendmail")
    )
    r2e("add", "breakfast", f"{site.root}/digests/breakfast/feed.{fmt}")
    r2e("run")
    messages = [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for p in sorted(mail.glob("*.eml"))
    ]
    assert len(messages) == len(site.editions) == 2
    by_link = {str(m["X-RSS-URL"]): m for m in messages}
    for edition, headlines in site.editions.items():
        message = by_link[f"{site.root}/digests/breakfast/{edition}"]
        assert str(message["Subject"]).startswith("Breakfast in Red, ")
        body = message.get_body(("plain", "html"))
        assert body is not None
        # html2text wraps long lines: compare with whitespace runs folded.
        content = " ".join(body.get_content().replace("&amp;", "&").split())
        for headline in headlines:
            assert headline in content, (edition, headline)
    r2e("run")
    assert len(list(mail.glob("*.eml"))) == 2, "a second run sends nothing new"
