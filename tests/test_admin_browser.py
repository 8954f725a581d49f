"""A real Chromium uses the admin area of a real `syndicate serve`.

The editor is made with the real CLI (`syndicate user add --password-stdin`),
the server runs without its background fetcher, so the sources stay "never
fetched" until the test presses "Fetch now", and their feeds are the sample
outside feeds the server itself serves under /demo-feeds/. Screenshots of
each admin page, at desktop (1280 px) and phone (390 px) widths, go to
test-artifacts/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import MINIMAL_CONFIG, fill_store, run_cli, running_server
from tests.test_browser import ARTIFACTS, FEEDS, free_port

PASSWORD = "a long enough password"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def admin_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("admin-browser")
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    config = folder / "config.toml"
    config.write_text(
        MINIMAL_CONFIG.replace("http://127.0.0.1:8080", root).replace(
            "[store]", f'[server]\ndemo_feeds = "{FEEDS}"\n\n[store]'
        )
        + "\n[fetcher]\nallow_private_addresses = true\n"
        + "".join(
            f'\n[[sidebar.sources]]\nname = "{name}"\nurl = "{root}/demo-feeds/{file}"\n'
            for name, file in (
                ("Labour Wire", "labour-wire.rss"),
                ("Totally Normal News", "hostile.rss"),
                ("Gone Away", "no-such-feed.rss"),
            )
        )
    )
    fill_store(folder / "store.db", 20)
    made = run_cli(
        "--config", str(config), "user", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert made.returncode == 0, made.stderr
    with running_server(config, "--workers", "1", "--port", str(port), "--no-fetch") as served:
        yield served, config


@pytest.fixture
def site(admin_site: tuple[str, Path]) -> str:
    return admin_site[0]


@pytest.fixture
async def watched(page: Any) -> Any:
    """The page, failing the test on any Content-Security-Policy complaint or script dialog."""
    complaints: list[str] = []
    page.on(
        "console",
        lambda m: complaints.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("dialog", lambda d: complaints.append(f"dialog: {d.message}"))
    yield page
    assert complaints == []


async def shoot(page: Any, name: str) -> None:
    """Screenshots at desktop and phone width; on the phone nothing may scroll sideways."""
    ARTIFACTS.mkdir(exist_ok=True)
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(ARTIFACTS / f"admin-{name}.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(ARTIFACTS / f"admin-{name}-phone.png"), full_page=True)
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the phone layout is {overflow}px too wide"
    await page.set_viewport_size(DESKTOP)


async def log_in(page: Any, site: str, password: str = PASSWORD) -> Any:
    await page.goto(site + "/admin/login")
    await page.fill("#name", "alice")
    await page.fill("#password", password)
    async with page.expect_navigation() as navigation:
        await page.click("form[action='/admin/login'] button[type=submit]")
    return await navigation.value


def source_row(page: Any, name: str) -> Any:
    return page.locator("tr.source", has=page.locator("td.name", has_text=name))


async def test_wrong_password_is_refused_on_the_login_page(site: str, watched: Any):
    page = watched
    first = await page.goto(site + "/admin/sources")
    assert page.url == site + "/admin/login"  # sent to log in, shown no data
    assert first.status == 200
    assert "Labour Wire" not in await page.content()
    await shoot(page, "login")
    response = await log_in(page, site, "not the password")
    assert response.status == 401
    assert page.url == site + "/admin/login"
    assert (await page.locator("#login-error").inner_text()) == "Wrong name or password."
    assert await page.locator("#password").count() == 1
    assert await page.locator("#name").input_value() == "alice"
    cookies = {c["name"] for c in await page.context.cookies()}
    assert "syndicate_admin" not in cookies


async def test_log_in_see_sources_and_fetch_one_now(site: str, watched: Any):
    page = watched
    response = await log_in(page, site)
    assert response.status == 200
    assert page.url == site + "/admin"
    cookie = next(c for c in await page.context.cookies() if c["name"] == "syndicate_admin")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/admin"
    assert await page.locator(".section-card").count() == 3
    await shoot(page, "sections")

    await page.click("nav >> text=Sources")
    assert page.url == site + "/admin/sources"
    headers = await page.locator("table.health th").all_inner_texts()
    assert headers[:4] == ["Name", "URL", "Last fetch", "Status"]
    row = source_row(page, "Labour Wire")
    assert await row.locator("td.status").inner_text() == "never"
    assert await row.locator("td.entries").inner_text() == "0"

    async with page.expect_navigation():
        await row.locator("button.fetch-one").click()
    assert "/admin/sources?fetched=" in page.url
    row = source_row(page, "Labour Wire")
    assert await row.locator("td.status").inner_text() == "200"
    assert int(await row.locator("td.entries").inner_text()) > 0
    assert await row.locator("td.failures").inner_text() == "0"
    assert "just now" in await row.locator("td.last-fetch").inner_text()
    assert "Labour Wire" in await page.locator(".notice").inner_text()
    # The others were not fetched.
    assert await source_row(page, "Gone Away").locator("td.status").inner_text() == "never"

    async with page.expect_navigation():
        await page.click("#fetch-all")
    gone = source_row(page, "Gone Away")
    assert await gone.locator("td.status").inner_text() == "404"
    assert await gone.locator("td.failures").inner_text() == "1"
    hostile = source_row(page, "Totally Normal News")
    assert await hostile.locator("td.status").inner_text() == "200"
    # Whatever the hostile feed holds, the page has no scripts and no handlers.
    assert await page.locator("script, img, iframe").count() == 0
    await shoot(page, "sources")

    await page.click("nav >> text=Config")
    assert await page.locator("time.loaded").count() == 1
    assert await page.locator(".rejected").count() == 0
    await shoot(page, "config")


async def test_forms_without_their_csrf_token_are_refused(site: str, watched: Any):
    page = watched
    # The login form first: the hidden token removed, the right password refused.
    await page.goto(site + "/admin/login")
    await page.evaluate("() => document.querySelector('input[name=csrf]').remove()")
    await page.fill("#name", "alice")
    await page.fill("#password", PASSWORD)
    async with page.expect_navigation() as navigation:
        await page.click("button[type=submit]")
    assert (await navigation.value).status == 403
    assert await page.locator("h1").inner_text() == "Form refused"
    assert "syndicate_admin" not in {c["name"] for c in await page.context.cookies()}

    await log_in(page, site)
    await page.goto(site + "/admin/sources")
    row = source_row(page, "Labour Wire")
    last_fetch = "e => e.querySelector('time')?.dateTime ?? 'never'"
    before = await row.locator("td.last-fetch").evaluate(last_fetch)
    await row.locator("input[name=csrf]").evaluate("e => e.remove()")
    async with page.expect_navigation() as navigation:
        await row.locator("button.fetch-one").click()
    assert (await navigation.value).status == 403
    assert await page.locator("h1").inner_text() == "Form refused"
    await shoot(page, "csrf-refused")
    await page.goto(site + "/admin/sources")
    after = await source_row(page, "Labour Wire").locator("td.last-fetch").evaluate(last_fetch)
    assert after == before  # nothing was fetched


async def test_log_out_and_the_old_cookie_no_longer_opens_the_admin(site: str, watched: Any):
    page = watched
    await log_in(page, site)
    cookie = next(c for c in await page.context.cookies() if c["name"] == "syndicate_admin")
    async with page.expect_navigation():
        await page.click("form[action='/admin/logout'] button[type=submit]")
    assert page.url == site + "/admin/login"
    assert "syndicate_admin" not in {c["name"] for c in await page.context.cookies()}
    # Someone who copied the cookie before the logout puts it back: the server refuses it.
    await page.context.add_cookies([cookie])
    response = await page.goto(site + "/admin/sources")
    assert response.status == 200
    assert page.url == site + "/admin/login"
    assert "Labour Wire" not in await page.content()
    assert "syndicate_admin" not in {c["name"] for c in await page.context.cookies()}


async def test_a_rejected_config_edit_shows_on_the_config_page(
    admin_site: tuple[str, Path], watched: Any
):
    site, config = admin_site
    page = watched
    await log_in(page, site)
    good = config.read_text()
    config.write_text(good + '\n[[sections]]\nslug = "Not A Slug"\ntitle = ""\n')
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            await page.goto(site + "/admin/config")
            if await page.locator(".rejected").count():
                break
            await page.wait_for_timeout(500)
        alert = page.locator(".rejected")
        assert await alert.count() == 1, "the server never showed the rejected edit"
        assert "still in force" in await alert.inner_text()
        await shoot(page, "config-rejected")
    finally:
        config.write_text(good)
