"""Real Varnish and nginx, from the shipped files, in front of a real `syndicate serve`.

Issue 14, "A real cache in front, purged precisely", and issue 12 point 9 through
Varnish. The caches run deploy/varnish/default.vcl and deploy/nginx/syndicate.conf
with only the origin's address swapped (tests/fronts.py); the origin is
`syndicate serve --workers 1` (its one worker is the leader, which purges), and
what reached it is read from its own /metrics (feed responses by status).
Skipped, with the reason, only where varnishd or nginx is not installed.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fronts import HOST, Front, Origin, binary, free_port, start_nginx, start_varnish
from tests.support import MINIMAL_CONFIG, fill_store, run_cli

ORIGIN_HITS = "syndicate_feed_responses_total"

#: The article published in the purge test, and the feeds that hold it or do not.
NEW_TITLE = "Lockout ends at the docks"
HOLDERS = (
    "/feed.atom",
    "/sections/news/feed.atom",
    "/authors/simon-assaf/feed.rss",
    "/tags/strikes/feed.json",
    "/issues/2001/feed.atom",
    "/tags/lockout/feed.atom",  # a 404 until the article brings the tag
)
OTHERS = (
    "/sections/comment/feed.atom",
    "/tags/gaza/feed.atom",
    "/authors/salma-haddad/feed.json",
    "/issues/2000/feed.rss",
)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def get(port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Reply:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return Reply(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        conn.close()


def origin_config(folder: Path, port: int, *, max_age: int, purge_port: int | None) -> Path:
    text = MINIMAL_CONFIG.replace("http://127.0.0.1:8080", f"http://{HOST}:{port}")
    text += f"\n[feeds]\nmax_age = {max_age}\nstale_while_revalidate = 5\n"
    if purge_port is not None:
        text += f'\n[cache]\npurge_urls = ["http://{HOST}:{purge_port}/"]\npurge_timeout = 2.0\n'
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    fill_store(folder / "store.db", 30)
    return path


def need(name: str) -> None:
    if binary(name) is None:
        pytest.skip(f"{name} is not installed (apt-get install varnish varnish-modules nginx)")


@dataclass
class Stack:
    origin: Origin
    front: Front
    token: str = ""


@pytest.fixture(scope="module")
def varnish(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Varnish before an origin that purges it; feeds cached for 300 s (max-age)."""
    need("varnishd")
    folder = tmp_path_factory.mktemp("varnish")
    origin_port, varnish_port = free_port(), free_port()
    config = origin_config(folder, origin_port, max_age=300, purge_port=varnish_port)
    made = run_cli("--config", str(config), "token", "add", "cms")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().split()[-1]
    origin = Origin(config, origin_port)
    origin.start()
    try:
        front = start_varnish(folder / "front", origin_port, port=varnish_port)
        try:
            yield Stack(origin, front, token)
        finally:
            front.stop()
    finally:
        origin.stop()


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """nginx before an origin whose feeds expire after 1 s (nginx cannot purge by key)."""
    need("nginx")
    folder = tmp_path_factory.mktemp("nginx")
    origin_port = free_port()
    config = origin_config(folder, origin_port, max_age=1, purge_port=None)
    made = run_cli(  # with an editor, each login form sets a cookie with its own nonce
        "--config", str(config), "user", "add", "alice", "--password-stdin",
        stdin="a long enough password\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    origin = Origin(config, origin_port)
    origin.start()
    try:
        front = start_nginx(folder / "front", origin_port)
        try:
            yield Stack(origin, front)
        finally:
            front.stop()
    finally:
        origin.stop()


def softpurge(stack: Stack, key: str) -> None:
    """Expire a key's objects in Varnish (they stay usable as stale), as max-age would."""
    done = get(stack.front.port, "/", {"xkey-softpurge": key}, method="PURGE")
    assert done.status == 200, done.body


def cached_by_varnish(reply: Reply) -> bool:
    """X-Varnish lists two transaction ids on a hit: this request's and the stored one's."""
    return len(reply.headers.get("x-varnish", "").split()) == 2


# -- Varnish ---------------------------------------------------------------------


def test_varnish_a_feed_fetched_twice_reaches_the_origin_once(varnish: Stack):
    before = varnish.origin.metric(ORIGIN_HITS)
    first = get(varnish.front.port, "/tags/climate/feed.atom")
    second = get(varnish.front.port, "/tags/climate/feed.atom")
    assert first.status == second.status == 200
    assert first.body == second.body
    assert b"<feed" in first.body
    assert varnish.origin.metric(ORIGIN_HITS) - before == 1
    assert cached_by_varnish(second)
    assert not cached_by_varnish(first)
    # Surrogate keys reach Varnish, never the reader.
    assert "xkey" not in second.headers
    assert "surrogate-key" not in second.headers


def test_varnish_keeps_one_object_per_coding(varnish: Stack):
    """gzip and br are passed through (http_gzip_support off): each its own object and ETag."""
    path = "/authors/jose-martinez/feed.atom"
    tags = {}
    for asked, coding in (
        ("gzip, deflate, br", "br"),
        ("gzip;q=1.0, identity; q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("identity", None),
    ):
        for _ in range(2):
            reply = get(varnish.front.port, path, {"Accept-Encoding": asked})
            assert reply.status == 200
            assert reply.headers.get("content-encoding") == coding, asked
            assert reply.headers["vary"] == "Accept-Encoding, Sec-Fetch-Dest"
        assert cached_by_varnish(reply)
        tags[coding] = reply.headers["etag"]
    base = tags[None].strip('"')
    assert tags == {None: f'"{base}"', "gzip": f'"{base}-gzip"', "br": f'"{base}-br"'}


def test_varnish_answers_a_conditional_request_with_304(varnish: Stack):
    path = "/sections/news/feed.json"
    first = get(varnish.front.port, path)
    before = varnish.origin.metric(ORIGIN_HITS)
    again = get(varnish.front.port, path, {"If-None-Match": first.headers["etag"]})
    assert again.status == 304
    assert again.body == b""
    assert again.headers["etag"] == first.headers["etag"]
    since = get(varnish.front.port, path, {"If-Modified-Since": first.headers["last-modified"]})
    assert since.status == 304
    assert varnish.origin.metric(ORIGIN_HITS) == before  # answered by Varnish alone


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_varnish_revalidated_copy_keeps_the_etag_of_its_coding(varnish: Stack, coding: str):
    """Issue 12 point 9: Varnish refreshes its stored gzip (br) copy from the origin's
    304, which must carry "X-gzip" ("X-br"); a client sending that tag then gets 304."""
    path = f"/issues/2002/feed.{'rss' if coding == 'gzip' else 'json'}"
    asked = {"Accept-Encoding": coding}
    first = get(varnish.front.port, path, asked)
    tag = first.headers["etag"]
    assert tag.endswith(f'-{coding}"')
    revalidated = varnish.origin.metric(f'{ORIGIN_HITS}{{status="304"')
    softpurge(varnish, "issue/2002")  # expired: the next request revalidates in the background
    stale = get(varnish.front.port, path, asked)
    assert stale.status == 200
    assert stale.headers["etag"] == tag
    deadline = time.monotonic() + 5
    while varnish.origin.metric(f'{ORIGIN_HITS}{{status="304"') == revalidated:
        assert time.monotonic() < deadline, "Varnish never revalidated with the origin"
        time.sleep(0.02)
    time.sleep(0.1)  # the refreshed object replaces the stale one once the fetch ends
    again = get(varnish.front.port, path, {**asked, "If-None-Match": tag})
    assert again.status == 304, again.headers
    assert again.headers["etag"] == tag
    body = get(varnish.front.port, path, asked)
    assert body.status == 200
    assert body.headers["etag"] == tag
    assert body.body == first.body


def test_a_publish_purges_exactly_the_feeds_holding_the_article(varnish: Stack):
    port = varnish.front.port
    for path in HOLDERS + OTHERS:
        assert get(port, path).status == (404 if "lockout" in path else 200)
    for path in HOLDERS + OTHERS:
        assert cached_by_varnish(get(port, path)) != ("lockout" in path), path
    body = {
        "title": NEW_TITLE,
        "standfirst": "Dockers return",
        "body": "<p>Dockers return to work.</p>",
        "section": "news",
        "issue": {"number": 2001},
        "published": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "authors": [{"slug": "simon-assaf", "name": "Simon Assaf"}],
        "tags": ["Strikes", "Lockout"],
    }
    conn = http.client.HTTPConnection(HOST, port, timeout=10)  # the API, through Varnish
    conn.request(
        "PUT",
        "/api/articles/lockout-ends",
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {varnish.token}", "Content-Type": "application/json"},
    )
    answer = conn.getresponse()
    assert answer.status == 201, answer.read()
    conn.close()
    published = time.monotonic()
    waiting = set(HOLDERS)
    while waiting:
        assert time.monotonic() - published < 1.0, f"still stale after 1 s: {sorted(waiting)}"
        for path in sorted(waiting):
            if NEW_TITLE.encode() in get(port, path).body:
                waiting.discard(path)
        time.sleep(0.02)
    before = varnish.origin.metric(ORIGIN_HITS)
    for path in OTHERS:
        reply = get(port, path)
        assert cached_by_varnish(reply), f"{path} was purged but does not hold the article"
        assert NEW_TITLE.encode() not in reply.body
    assert varnish.origin.metric(ORIGIN_HITS) == before
    purges = varnish.origin.metric('syndicate_purges_total{outcome="ok",target="varnish"')
    assert purges >= 1


#: What Chromium sends when a person opens a feed link.
NAVIGATION = {
    "Sec-Fetch-Dest": "document",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
#: Requests that must get the feed's bytes from the cache, never the page.
NOT_NAVIGATIONS = (
    {},
    {"Accept": "*/*"},
    {"Sec-Fetch-Dest": "document", "Accept": "*/*"},
    {"Sec-Fetch-Dest": "document", "Accept": "application/atom+xml, text/html;q=0.5"},
    {"Sec-Fetch-Dest": "empty", "Accept": NAVIGATION["Accept"]},
)


def check_page_kept_apart(stack: Stack, path: str, cached: object) -> None:
    """Issue 15: the browser page and the feed at one URL are two cached objects.

    The page first (so a cache that keyed them together would then serve it
    to readers), then every reader-like request, then each again from the cache.
    """
    page = get(stack.front.port, path, NAVIGATION)
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert b"This is a web feed" in page.body
    feed = get(stack.front.port, path)
    assert feed.status == 200
    assert b"This is a web feed" not in feed.body
    assert feed.headers["content-type"] != page.headers["content-type"]
    for headers in NOT_NAVIGATIONS:
        reply = get(stack.front.port, path, headers)
        assert reply.body == feed.body, headers
        assert cached(reply), headers  # the feed's object, not a new one
    before = stack.origin.metric(ORIGIN_HITS)
    again = get(stack.front.port, path, NAVIGATION)
    assert again.body == page.body
    assert cached(again)
    assert stack.origin.metric(ORIGIN_HITS) == before


def test_varnish_keeps_the_browser_page_apart_from_the_feed(varnish: Stack):
    check_page_kept_apart(varnish, "/authors/jose-martinez/feed.rss", cached_by_varnish)


def test_varnish_serves_the_stale_feed_while_the_origin_is_down(varnish: Stack):
    path = "/tags/nhs/feed.atom"
    fresh = get(varnish.front.port, path)
    assert fresh.status == 200
    varnish.origin.stop()
    try:
        softpurge(varnish, "tag/nhs")  # past its max-age, as if 300 s had gone by
        for _ in range(2):  # the failed refresh must not lose the stale copy
            stale = get(varnish.front.port, path)
            assert stale.status == 200
            assert stale.body == fresh.body
            time.sleep(0.2)
        assert get(varnish.front.port, "/tags/never-cached/feed.atom").status == 503
    finally:
        varnish.origin.start()


def test_varnish_never_caches_admin_or_api(varnish: Stack):
    port = varnish.front.port
    for path in (
        "/admin",
        "/admin/login",
        "/api/openapi.json",
        "/api/articles/story-1",
        "/healthz",
    ):
        replies = [get(port, path) for _ in range(2)]
        assert not any(cached_by_varnish(r) for r in replies), path
    assert cached_by_varnish(get(port, "/feeds.opml")) or cached_by_varnish(
        get(port, "/feeds.opml")
    )


def test_varnish_refuses_a_purge_without_keys(varnish: Stack):
    assert get(varnish.front.port, "/", method="PURGE").status == 400


# -- nginx -----------------------------------------------------------------------


def test_nginx_a_feed_fetched_twice_reaches_the_origin_once(nginx: Stack):
    before = nginx.origin.metric(ORIGIN_HITS)
    first = get(nginx.front.port, "/tags/climate/feed.rss", {"Accept-Encoding": "gzip"})
    second = get(nginx.front.port, "/tags/climate/feed.rss", {"Accept-Encoding": "gzip"})
    assert first.status == second.status == 200
    assert first.body == second.body
    assert second.headers["content-encoding"] == "gzip"
    assert second.headers["x-cache-status"] == "HIT"
    assert nginx.origin.metric(ORIGIN_HITS) - before == 1
    assert "xkey" not in second.headers


def test_nginx_answers_a_conditional_request_with_304_in_each_coding(nginx: Stack):
    path = "/sections/news/feed.rss"
    for coding in ("identity", "gzip", "br"):
        asked = {"Accept-Encoding": coding}
        first = get(nginx.front.port, path, asked)
        tag = first.headers["etag"]
        assert tag.endswith(f'-{coding}"') or coding == "identity"
        again = get(nginx.front.port, path, {**asked, "If-None-Match": tag})
        assert again.status == 304
        assert again.body == b""
        assert again.headers["etag"] == tag


def test_nginx_keeps_the_browser_page_apart_from_the_feed(nginx: Stack):
    """Feeds expire after 1 s here: the whole check runs well within it."""
    check_page_kept_apart(
        nginx, "/authors/jose-martinez/feed.rss", lambda r: r.headers["x-cache-status"] == "HIT"
    )


def test_nginx_serves_the_stale_feed_while_the_origin_is_down(nginx: Stack):
    path = "/tags/housing/feed.json"
    fresh = get(nginx.front.port, path)
    assert fresh.status == 200
    nginx.origin.stop()
    try:
        time.sleep(2.1)  # past its max-age of 1 s (nginx counts whole seconds)
        for _ in range(2):
            stale = get(nginx.front.port, path)
            assert stale.status == 200
            assert stale.body == fresh.body
            assert stale.headers["x-cache-status"] in ("STALE", "UPDATING")
    finally:
        nginx.origin.start()


def test_nginx_never_caches_admin(nginx: Stack):
    for path in ("/admin", "/admin/login", "/api/openapi.json"):
        replies = [get(nginx.front.port, path) for _ in range(2)]
        assert all("x-cache-status" not in r.headers for r in replies), path
    cookies = [get(nginx.front.port, "/admin/login").headers.get("set-cookie") for _ in range(2)]
    assert cookies[0] != cookies[1]  # each login form gets its own nonce: not a stored copy
