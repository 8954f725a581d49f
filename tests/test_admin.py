"""The admin area over real HTTP (pytest-aiohttp): the gate, logging in, the pages, fetch now.

Outside feeds come from a loopback ``Outside`` server, so "fetch now" runs
the real fetcher end to end. Editors are made through ``Accounts`` (real
scrypt hashes), so a login costs what it costs in production.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from lxml import html as lxml_html

from syndicate.clock import ManualClock
from syndicate.config import Config, parse_config
from syndicate.store import Store
from syndicate.store.accounts import Accounts
from syndicate.store.sources import Sources
from syndicate.web import auth
from syndicate.web.admin import ADMIN
from syndicate.web.app import make_app
from syndicate.web.keys import LIVE
from tests.outside_server import SAMPLE_RSS, Document, Outside
from tests.support import MINIMAL_CONFIG, fill_store

PASSWORD = "correct horse battery"
HOSTILE_NAME = '<script>alert("name")</script> & Co'
HOSTILE_ERROR = '<img src=x onerror=alert("error")> broke'
PAGES = ["/admin", "/admin/sections", "/admin/sources", "/admin/config"]


@pytest.fixture
async def outside(aiohttp_server: Any) -> Outside:
    found = await Outside.start(aiohttp_server)
    found.documents["/feed.xml"] = Document(SAMPLE_RSS)
    found.documents["/other.xml"] = Document(SAMPLE_RSS.replace(b"outside.example/", b"o.test/"))
    return found


def make_config(
    folder: Path, outside: Outside, *, base_url: str = "http://127.0.0.1:8080"
) -> Config:
    text = (
        MINIMAL_CONFIG.replace("http://127.0.0.1:8080", base_url)
        + "\n[fetcher]\nallow_private_addresses = true\n"
        + f'\n[[sidebar.sources]]\nname = "Outside News"\nurl = "{outside.url("/feed.xml")}"\n'
        + f"\n[[sidebar.sources]]\nname = '{HOSTILE_NAME}'\nurl = \"{outside.url('/other.xml')}\"\n"
        + f'\n[[sidebar.sources]]\nname = "Broken"\nurl = "{outside.url("/status/500")}"\n'
    )
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return parse_config(text, path)


@pytest.fixture
def config(tmp_path: Path, outside: Outside) -> Config:
    found = make_config(tmp_path, outside)
    fill_store(found.store_path, 12)
    with Store.open(found.store_path) as store:
        Accounts(store).add_editor("alice", PASSWORD, datetime.now(UTC))
    return found


@pytest.fixture
async def client(aiohttp_client: Any, config: Config) -> Any:
    return await aiohttp_client(make_app(config))


def hidden_csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def login(client: Any, name: str = "alice", password: str = PASSWORD) -> Any:
    form = await client.get("/admin/login")
    assert form.status == 200
    token = hidden_csrf(await form.text())
    return await client.post(
        "/admin/login",
        data={"csrf": token, "name": name, "password": password},
        allow_redirects=False,
    )


async def logged_in(client: Any) -> str:
    """Log alice in; return the CSRF token her forms carry."""
    response = await login(client)
    assert response.status == 303, await response.text()
    page = await client.get("/admin/sources")
    assert page.status == 200
    return hidden_csrf(await page.text())


_STEP = re.compile(r"([a-z0-9]*)((?:\.[\w-]+)*)(?:#([\w-]+))?(?:\[(\w+)\])?")


def q(element: Any, selector: str) -> list[Any]:
    """A few CSS selectors (tag.class#id[attr], descendants) as XPath; no cssselect here."""
    path = "."
    for step in selector.split():
        found = _STEP.fullmatch(step)
        assert found, step
        tag, classes, ident, attr = found.groups()
        tests = [
            f"contains(concat(' ', normalize-space(@class), ' '), ' {c} ')"
            for c in classes.split(".")
            if c
        ]
        tests += [f"@id='{ident}'"] if ident else []
        tests += [f"@{attr}"] if attr else []
        path += f"//{tag or '*'}" + "".join(f"[{t}]" for t in tests)
    return list(element.xpath(path))


def cookie_header(response: Any, name: str) -> str:
    found = [v for v in response.headers.getall("Set-Cookie", []) if v.startswith(name + "=")]
    assert found, f"no {name} cookie set"
    return found[-1]


def session_value(client: Any) -> str:
    return next(c.value for c in client.session.cookie_jar if c.key == auth.SESSION_COOKIE)


# -- disabled without accounts ---------------------------------------------------------


async def test_without_editors_every_admin_url_says_how_to_create_one(
    aiohttp_client: Any, tmp_path: Path, outside: Outside
):
    config = make_config(tmp_path, outside)
    fill_store(config.store_path, 2)
    client = await aiohttp_client(make_app(config))
    for method, path in [
        *(("GET", p) for p in [*PAGES, "/admin/login", "/admin/nowhere", "/admin/"]),
        ("POST", "/admin/login"),
        ("POST", "/admin/sources/fetch"),
        ("POST", "/admin/logout"),
    ]:
        response = await client.request(method, path, allow_redirects=False)
        text = await response.text()
        assert response.status == 403, (method, path)
        assert "syndicate user add NAME" in text
        assert "Outside News" not in text
        assert "Story number" not in text
        assert response.headers["Cache-Control"] == "no-store"
    # Creating the first account opens it, without a restart.
    with Store.open(config.store_path) as store:
        Accounts(store).add_editor("alice", PASSWORD, datetime.now(UTC))
    assert (await client.get("/admin/login")).status == 200


# -- the gate --------------------------------------------------------------------------


async def test_anonymous_gets_are_sent_to_login_and_see_no_data(client: Any):
    for path in [*PAGES, "/admin/nowhere"]:
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303, path
        assert response.headers["Location"] == "/admin/login"
        assert await response.text() == ""
        assert response.headers["X-Frame-Options"] == "DENY"
    for path in ["/admin/sources/fetch", "/admin/logout"]:
        response = await client.post(path, data={"source": "*"}, allow_redirects=False)
        assert response.status == 403, path
        assert "Log in first" in await response.text()


async def test_security_headers_and_a_csp_without_scripts(client: Any):
    await logged_in(client)
    for path in [*PAGES, "/admin/login"]:
        response = await client.get(path)
        assert response.status == 200, path
        headers = response.headers
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert "script-src" not in csp
        # Each inline style block is allowed by its hash, and nothing else is.
        text = await response.text()
        blocks = re.findall(r"<style>(.*?)</style>", text, re.DOTALL)
        assert blocks
        for block in blocks:
            digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp
        assert "<script" not in text


# -- logging in ------------------------------------------------------------------------


async def test_login_sets_a_strict_httponly_session_cookie(client: Any):
    form = await client.get("/admin/login")
    login_cookie = cookie_header(form, auth.LOGIN_COOKIE)
    assert "HttpOnly" in login_cookie
    assert "SameSite=Strict" in login_cookie
    assert "Path=/admin/login" in login_cookie
    response = await login(client)
    assert response.status == 303
    assert response.headers["Location"] == "/admin"
    cookie = cookie_header(response, auth.SESSION_COOKIE)
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/admin" in cookie
    assert f"Max-Age={auth.SESSION_TTL}" in cookie
    assert "Secure" not in cookie  # the site is plain http
    page = await client.get("/admin")
    assert page.status == 200
    assert "alice" in await page.text()
    # Already logged in: the login page sends you on.
    again = await client.get("/admin/login", allow_redirects=False)
    assert again.status == 303
    assert again.headers["Location"] == "/admin"


async def test_cookies_are_secure_on_an_https_site(
    aiohttp_client: Any, tmp_path: Path, outside: Outside
):
    config = make_config(tmp_path, outside, base_url="https://news.example")
    with Store.open(config.store_path) as store:
        Accounts(store).add_editor("alice", PASSWORD, datetime.now(UTC))
    client = await aiohttp_client(make_app(config))
    form = await client.get("/admin/login")
    assert "Secure" in cookie_header(form, auth.LOGIN_COOKIE)


async def test_wrong_password_and_unknown_name_answer_alike(client: Any):
    def normal(text: str) -> str:
        text = re.sub(r'name="csrf" value="[^"]+"', "", text)
        return re.sub(r'id="name" name="name" value="[^"]*"', "", text)

    answers = []
    for name, password in [("alice", "wrong password!"), ("mallory", PASSWORD)]:
        response = await login(client, name, password)
        text = await response.text()
        assert response.status == 401
        assert "Wrong name or password." in text
        assert 'name="password"' in text  # still the login form
        assert auth.SESSION_COOKIE not in response.headers.get("Set-Cookie", "")
        answers.append(normal(text))
    assert answers[0] == answers[1]


async def test_unknown_name_costs_as_much_time_as_a_wrong_password(client: Any):
    async def timed(name: str) -> float:
        form = await client.get("/admin/login")
        token = hidden_csrf(await form.text())
        started = time.perf_counter()
        response = await client.post(
            "/admin/login", data={"csrf": token, "name": name, "password": "not it at all"}
        )
        assert response.status == 401
        return time.perf_counter() - started

    state = client.server.app[ADMIN]
    state.address_limit = state.name_limit = 100  # six failures here are not an attack
    # Interleaved, and the fastest of three each, so a busy machine blurs both alike.
    known, unknown = [], []
    for i in range(3):
        known.append(await timed("alice"))
        unknown.append(await timed(f"nobody{i}"))
    assert min(known) > 0.01
    assert min(unknown) > 0.01
    assert 1 / 3 < min(known) / min(unknown) < 3


@asynccontextmanager
async def from_address(client: Any, address: str) -> AsyncIterator[aiohttp.ClientSession]:
    """A browser of its own at another loopback address (Linux routes all of 127/8 to lo)."""
    async with aiohttp.ClientSession(
        base_url=client.make_url("/"),
        connector=aiohttp.TCPConnector(local_addr=(address, 0)),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    ) as session:
        yield session


async def test_failed_logins_for_a_name_are_throttled_per_address(client: Any):
    for _ in range(auth.NAME_LIMIT):
        assert (await login(client, "alice", "wrong password")).status == 401
    blocked = await login(client, "alice", PASSWORD)  # from here, even the right one waits
    assert blocked.status == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= auth.LOGIN_WINDOW
    assert "Too many failed logins" in await blocked.text()
    # Other names from this address are not held up by alice's count.
    assert (await login(client, "bob", "wrong password")).status == 401
    # The limit lifts when the window has passed.
    state = client.server.app[ADMIN]
    state.clock = ManualClock(time.time() + auth.LOGIN_WINDOW + 1)
    assert (await login(client)).status == 303


async def test_one_address_guessing_many_names_is_throttled(client: Any):
    for i in range(auth.ADDRESS_LIMIT):
        assert (await login(client, f"guess{i}", "wrong password")).status == 401
    blocked = await login(client, "alice", PASSWORD)
    assert blocked.status == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= auth.LOGIN_WINDOW


async def test_the_right_password_from_a_fresh_address_is_accepted_while_another_is_throttled(
    client: Any,
):
    for _ in range(auth.NAME_LIMIT):
        assert (await login(client, "alice", "wrong password")).status == 401
    assert (await login(client)).status == 429  # the guesser's address, 127.0.0.1
    async with from_address(client, "127.0.0.2") as editor:
        response = await login(editor)
        assert response.status == 303, await response.text()
        assert (await editor.get("/admin/sources", allow_redirects=False)).status == 200
    assert (await login(client)).status == 429  # the guesser is still held


async def test_a_successful_login_clears_its_own_count(client: Any):
    for _ in range(auth.NAME_LIMIT - 1):
        assert (await login(client, "alice", "wrong password")).status == 401
    assert (await login(client)).status == 303
    client.session.cookie_jar.clear()  # a new login form, not the logged-in redirect
    for _ in range(auth.NAME_LIMIT):  # a fresh allowance for alice from here
        assert (await login(client, "alice", "wrong password")).status == 401
    assert (await login(client)).status == 429


async def test_concurrent_guesses_get_no_more_than_the_limit(client: Any):
    form = await client.get("/admin/login")
    token = hidden_csrf(await form.text())

    async def guess(name: str) -> int:
        data = {"csrf": token, "name": name, "password": "wrong password"}
        return (await client.post("/admin/login", data=data)).status

    statuses = await asyncio.gather(*(guess("alice") for _ in range(10)))
    assert sorted(statuses) == [401] * auth.NAME_LIMIT + [429] * (10 - auth.NAME_LIMIT)
    state = client.server.app[ADMIN]
    state.address_limit = 8
    statuses = await asyncio.gather(*(guess(f"guess{i}") for i in range(6)))
    assert sorted(statuses) == [401] * 3 + [429] * 3  # 5 of the 8 were alice's


async def test_two_workers_share_one_count_and_one_session_table(
    aiohttp_client: Any, config: Config
):
    """Two apps on one store stand in for two `serve --workers` processes."""
    one = await aiohttp_client(make_app(config))
    two = await aiohttp_client(make_app(config))
    for i in range(auth.NAME_LIMIT):
        worker = (one, two)[i % 2]
        assert (await login(worker, "alice", "wrong password")).status == 401
    # Five failures in all, split 3 and 2: the limit did not double.
    assert (await login(one)).status == 429
    assert (await login(two)).status == 429
    for worker in (one, two):
        worker.server.app[ADMIN].clock = ManualClock(time.time() + auth.LOGIN_WINDOW + 1)
    await logged_in(one)
    cookie = session_value(one)
    # A session made by one worker is honoured by the other...
    assert (await _with_cookie(two, cookie)).status == 200
    csrf = hidden_csrf(await (await two.get("/admin/sources")).text())
    out = await two.post("/admin/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status == 303
    # ...and, logged out there, is refused by both.
    assert (await _with_cookie(one, cookie)).status == 303
    assert (await _with_cookie(two, cookie)).status == 303


def test_the_throttle_never_counts_a_name_alone():
    keys = auth.limit_keys("10.0.0.1", " Alice ")
    assert [k.key for k in keys] == ["addr:10.0.0.1", "addr+name:10.0.0.1 alice"]
    assert [k.limit for k in keys] == [auth.ADDRESS_LIMIT, auth.NAME_LIMIT]
    assert [k.cleared_by_success for k in keys] == [False, True]
    elsewhere = {k.key for k in auth.limit_keys("10.0.0.2", "alice")}
    assert not elsewhere & {k.key for k in keys}
    # One IPv6 host holds a /64: it is counted as one client, not 2**64.
    assert auth.limit_keys("2001:db8::1", "a")[0] == auth.limit_keys("2001:db8::ffff", "a")[0]
    assert auth.limit_keys("2001:db8:0:1::1", "a")[0].key == "addr:2001:db8:0:1::/64"
    assert auth.limit_keys("::ffff:10.0.0.1", "a")[0].key == "addr:10.0.0.1"
    assert auth.limit_keys(None, "a")[0].key == "addr:unknown"


async def test_login_without_its_csrf_token_is_refused(client: Any):
    form = await client.get("/admin/login")
    token = hidden_csrf(await form.text())
    data = {"name": "alice", "password": PASSWORD}
    no_token = await client.post("/admin/login", data=data, allow_redirects=False)
    assert no_token.status == 403
    assert "security token" in await no_token.text()
    forged = await client.post(
        "/admin/login", data={**data, "csrf": token[:-2] + "AA"}, allow_redirects=False
    )
    assert forged.status == 403
    client.session.cookie_jar.clear()  # the token without its cookie is worth nothing
    alone = await client.post("/admin/login", data={**data, "csrf": token}, allow_redirects=False)
    assert alone.status == 403
    assert auth.SESSION_COOKIE not in {c.key for c in client.session.cookie_jar}


# -- the session cookie --------------------------------------------------------------------


async def _with_cookie(client: Any, value: str) -> Any:
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies(
        {auth.SESSION_COOKIE: value}, client.make_url("/admin")
    )
    return await client.get("/admin/sources", allow_redirects=False)


async def test_tampered_session_cookie_is_rejected(client: Any):
    await logged_in(client)
    good = session_value(client)
    flipped = good[:-1] + ("A" if good[-1] != "A" else "B")
    for value in [flipped, good[:-1], good + "x", "garbage", "é" * 43, "." * 2000, "a" * 43]:
        response = await _with_cookie(client, value)
        assert response.status == 303, value
        assert response.headers["Location"] == "/admin/login"
        assert "Max-Age=0" in cookie_header(response, auth.SESSION_COOKIE)
    assert (await _with_cookie(client, good)).status == 200


async def test_expired_session_cookie_is_rejected(client: Any, config: Config):
    await logged_in(client)
    cookie = session_value(client)
    state = client.server.app[ADMIN]
    state.clock = ManualClock(time.time() + auth.SESSION_TTL - 60)
    assert (await _with_cookie(client, cookie)).status == 200
    state.clock = ManualClock(time.time() + auth.SESSION_TTL + 1)
    assert (await _with_cookie(client, cookie)).status == 303
    # The next login deletes expired sessions from the store.
    assert (await login(client)).status == 303
    with Store.open(config.store_path) as store:
        assert Accounts(store).session_count("alice") == 1


async def test_removed_editors_session_stops_working(client: Any, config: Config):
    with Store.open(config.store_path) as store:
        Accounts(store).add_editor("bob", PASSWORD, datetime.now(UTC))
    await logged_in(client)
    cookie = session_value(client)
    with Store.open(config.store_path) as store:
        assert Accounts(store).remove_editor("alice")
        assert Accounts(store).session_count() == 0
    assert (await _with_cookie(client, cookie)).status == 303
    # A new account under the same name does not bring old sessions back.
    with Store.open(config.store_path) as store:
        Accounts(store).add_editor("alice", "another password", datetime(2030, 1, 1, tzinfo=UTC))
    assert (await _with_cookie(client, cookie)).status == 303


async def test_a_new_password_ends_every_session_of_that_editor(
    aiohttp_client: Any, client: Any, config: Config
):
    with Store.open(config.store_path) as store:
        Accounts(store).add_editor("bob", PASSWORD, datetime.now(UTC))
    phone = await aiohttp_client(make_app(config))
    await logged_in(client)
    await logged_in(phone)
    laptop_cookie, phone_cookie = session_value(client), session_value(phone)
    bobs = await aiohttp_client(make_app(config))
    assert (await login(bobs, "bob")).status == 303
    with Store.open(config.store_path) as store:
        assert Accounts(store).set_password("alice", "a brand new password")
    assert (await _with_cookie(client, laptop_cookie)).status == 303
    assert (await _with_cookie(phone, phone_cookie)).status == 303
    assert (await bobs.get("/admin/sources", allow_redirects=False)).status == 200  # bob's stays
    assert (await login(client)).status == 401  # the old password is gone too
    assert (await login(client, password="a brand new password")).status == 303


async def test_logout_needs_its_token_and_ends_the_session(client: Any):
    csrf = await logged_in(client)
    refused = await client.post("/admin/logout", allow_redirects=False)
    assert refused.status == 403
    response = await client.post("/admin/logout", data={"csrf": csrf}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/admin/login"
    assert "Max-Age=0" in cookie_header(response, auth.SESSION_COOKIE)
    assert (await client.get("/admin", allow_redirects=False)).status == 303


async def test_a_session_cookie_replayed_after_logout_is_refused(client: Any, config: Config):
    csrf = await logged_in(client)
    cookie = session_value(client)
    out = await client.post("/admin/logout", data={"csrf": csrf}, allow_redirects=False)
    assert out.status == 303
    # The browser forgot the cookie; someone who copied it sends it again.
    replayed = await _with_cookie(client, cookie)
    assert replayed.status == 303
    assert replayed.headers["Location"] == "/admin/login"
    for path, data in [
        ("/admin/sources/fetch", {"csrf": csrf, "source": "*"}),
        ("/admin/logout", {"csrf": csrf}),
    ]:
        posted = await client.post(path, data=data, allow_redirects=False)
        assert posted.status == 403, path
        assert "Log in first" in await posted.text()
    with Store.open(config.store_path) as store:
        assert Accounts(store).session_count() == 0


def test_session_and_form_tokens_resist_garbage():
    secret = b"s" * 32
    token = secrets.token_urlsafe(32)
    assert auth.session_token(token) == token
    for bad in ["", None, "a.b", "é" * 43, token + "!", "short", "x" * 5000]:
        assert auth.session_token(bad) is None
    other = secrets.token_urlsafe(32)
    assert auth.check_csrf(secret, token, auth.csrf_token(secret, token))
    assert not auth.check_csrf(secret, other, auth.csrf_token(secret, token))
    assert not auth.check_csrf(secret, token, None)
    assert not auth.check_csrf(secret, token, "é")
    nonce = auth.login_nonce()
    assert auth.login_nonce(nonce) == nonce  # a second login tab reuses the cookie's
    assert auth.login_nonce("not;a token") != "not;a token"
    assert auth.check_login_token(secret, nonce, auth.login_token(secret, nonce))
    assert not auth.check_login_token(secret, "other", auth.login_token(secret, nonce))
    assert not auth.check_login_token(secret, None, auth.login_token(secret, nonce))


# -- the pages -------------------------------------------------------------------------------


async def test_sections_page_shows_feeds_counts_and_a_preview(client: Any):
    await logged_in(client)
    response = await client.get("/admin")
    text = await response.text()
    doc = lxml_html.fromstring(text)
    cards = {c.get("id"): c for c in q(doc, ".section-card")}
    assert set(cards) == {"section-site", "section-news", "section-comment"}
    news = cards["section-news"]
    assert q(news, "h2")[0].text_content() == "News"
    assert q(news, ".item-count")[0].text_content() == "6"
    assert q(cards["section-site"], ".item-count")[0].text_content() == "12"
    urls = [i.get("value") for i in q(news, "input[readonly]")]
    assert urls == [
        "http://127.0.0.1:8080/sections/news/feed.atom",
        "http://127.0.0.1:8080/sections/news/feed.rss",
        "http://127.0.0.1:8080/sections/news/feed.json",
    ]
    items = q(news, ".preview li")
    assert len(items) == 5
    # Newest first; the title's "<strike>" is text, escaped, never markup.
    assert q(items[0], ".item-title")[0].text_content() == (
        "Story number 10 & the <strike> that won"
    )
    assert "&lt;strike&gt;" in text
    assert "<strike>" not in text
    assert q(news, ".latest-title")[0].text_content().startswith("Story number 10")
    assert q(items[0], ".meta")[0].text_content().startswith("By Simon Assaf · ")
    assert [b.text for b in q(items[0], "bdi.byline")] == ["Simon Assaf"]  # isolated: RTL-safe
    assert q(items[0], ".standfirst")[0].text_content() == "What happened in story 10"
    assert (await client.get("/admin/sections")).status == 200


async def test_sources_page_shows_health_with_outside_text_escaped(client: Any, config: Config):
    await logged_in(client)
    with Store.open(config.store_path) as store:
        sources = Sources(store)
        sources.sync([(s.name, s.url) for s in config.sidebar.sources])
        broken = next(r for r in sources.all() if r.name == "Broken")
        now = datetime.now(UTC)
        sources.record_failure(
            broken.id, now=now, error=HOSTILE_ERROR, status=500, failures=3, next_fetch=now,
            seconds=0.1,
        )  # fmt: skip
    response = await client.get("/admin/sources")
    text = await response.text()
    assert "<script>alert" not in text
    assert "<img src=x" not in text
    assert "&lt;script&gt;alert" in text
    assert "&lt;img src=x onerror" in text
    doc = lxml_html.fromstring(text)
    headers = [th.text_content() for th in q(doc, "table.health th")]
    assert headers[:8] == [
        "Name", "URL", "Last fetch", "Status", "Failures", "Last error", "Next fetch", "Entries",
    ]  # fmt: skip
    rows = {q(r, ".name")[0].text_content(): r for r in q(doc, "tr.source")}
    assert set(rows) == {"Outside News", HOSTILE_NAME, "Broken"}
    bad = rows["Broken"]
    assert q(bad, ".status")[0].text_content() == "500"
    assert q(bad, ".failures")[0].text_content() == "3"
    assert HOSTILE_ERROR in q(bad, ".error")[0].text_content()
    assert q(rows["Outside News"], ".status")[0].text_content() == "never"
    assert len(q(doc, "form button.fetch-one")) == 3
    assert q(doc, "#fetch-all")


async def test_fetch_now_fetches_one_source_and_shows_its_row(client: Any, outside: Outside):
    csrf = await logged_in(client)
    url = outside.url("/feed.xml")
    response = await client.post(
        "/admin/sources/fetch", data={"csrf": csrf, "source": url}, allow_redirects=False
    )
    assert response.status == 303
    location = response.headers["Location"]
    assert re.fullmatch(r"/admin/sources\?fetched=(\d+)#source-\1", location)
    assert outside.paths() == ["/feed.xml"]  # that source only
    page = await client.get(location)
    doc = lxml_html.fromstring(await page.text())
    row = q(doc, "tr.just")[0]
    assert q(row, ".name")[0].text_content() == "Outside News"
    assert q(row, ".status")[0].text_content() == "200"
    assert q(row, ".entries")[0].text_content() == "2"
    assert "just now" in q(row, ".last-fetch")[0].text_content()
    assert "2 new entries" in q(doc, ".notice")[0].text_content()


async def test_fetch_all_fetches_every_configured_source(client: Any, outside: Outside):
    csrf = await logged_in(client)
    response = await client.post("/admin/sources/fetch", data={"csrf": csrf, "source": "*"})
    assert response.status == 200
    assert sorted(outside.paths()) == ["/feed.xml", "/other.xml", "/status/500"]
    doc = lxml_html.fromstring(await response.text())
    rows = {q(r, ".name")[0].text_content(): r for r in q(doc, "tr.source")}
    assert q(rows["Outside News"], ".status")[0].text_content() == "200"
    assert q(rows[HOSTILE_NAME], ".entries")[0].text_content() == "2"
    assert q(rows["Broken"], ".status")[0].text_content() == "500"
    assert q(rows["Broken"], ".failures")[0].text_content() == "1"


async def test_fetch_now_without_a_valid_token_is_refused(client: Any, outside: Outside):
    csrf = await logged_in(client)
    url = outside.url("/feed.xml")
    other_session = secrets.token_urlsafe(32)
    for data in [
        {"source": url},
        {"source": url, "csrf": ""},
        {"source": url, "csrf": csrf[:-1] + ("A" if csrf[-1] != "A" else "B")},
        {"source": url, "csrf": auth.csrf_token(client.server.app[ADMIN].secret, other_session)},
    ]:
        response = await client.post("/admin/sources/fetch", data=data, allow_redirects=False)
        assert response.status == 403
        assert "security token" in await response.text()
    assert outside.paths() == []
    unknown = await client.post(
        "/admin/sources/fetch", data={"csrf": csrf, "source": "http://elsewhere.test/"}
    )
    assert unknown.status == 404
    assert outside.paths() == []


async def test_config_page_shows_the_config_in_force_and_a_rejected_reload(
    client: Any, config: Config
):
    await logged_in(client)
    text = await (await client.get("/admin/config")).text()
    doc = lxml_html.fromstring(text)
    assert not q(doc, ".rejected")
    assert "In force since" in text
    assert q(doc, "time.loaded")[0].get("datetime").endswith("Z")
    assert "Test Weekly" in text
    assert "allow_private_addresses" in text
    assert "&lt;script&gt;" in text
    assert "<script>" not in text
    config.source.write_text(
        config.source.read_text() + '\n[[sections]]\nslug = "Bad Slug"\ntitle = ""\n'
    )
    assert client.server.app[LIVE].reload() is False
    doc = lxml_html.fromstring(await (await client.get("/admin/config")).text())
    alert = q(doc, ".rejected")[0]
    assert alert.get("role") == "alert"
    assert "still in force" in alert.text_content()
    problems = [li.text_content() for li in q(alert, "li")]
    assert problems
    assert any("slug" in p for p in problems)
    # The config in force is the old one: two sections, not three.
    sections = doc.xpath("//h2[.='Sections']/following-sibling::div[1]//tbody/tr")
    assert len(sections) == 2


async def test_config_page_shows_a_config_file_that_is_not_utf8(client: Any, config: Config):
    await logged_in(client)
    config.source.write_bytes(config.source.read_bytes() + b"\n# caf\xe9 in latin-1\n")
    assert client.server.app[LIVE].reload() is False
    response = await client.get("/admin/config")
    assert response.status == 200
    doc = lxml_html.fromstring(await response.text())
    problems = [li.text_content() for li in q(q(doc, ".rejected")[0], "li")]
    assert any("utf-8" in p.lower() for p in problems), problems
    assert "caf\ufffd in latin-1" in doc.text_content()


async def test_unknown_admin_address_is_a_404_behind_login(client: Any):
    await logged_in(client)
    response = await client.get("/admin/nowhere/<b>")
    assert response.status == 404
    assert "<b>" not in await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    slash = await client.get("/admin/", allow_redirects=False)
    assert slash.status == 303
    assert slash.headers["Location"] == "/admin"
