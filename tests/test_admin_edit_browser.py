"""A real Chromium edits sections and sources in /admin/edit of a real `syndicate serve`.

Every edit is made through the page as an editor would, then checked where
it lands: config.toml on disk (its comments still there, the file valid), the
feeds served at once (the live reload), and the audit log. Two browser
contexts play two editors saving over each other; a hand edit on disk plays
an operator.
"""

from __future__ import annotations

import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import MINIMAL_CONFIG, fill_store, run_cli, running_server
from tests.test_admin_browser import PASSWORD, log_in, shoot
from tests.test_browser import FEEDS, free_port

#: Comments a hand-written config carries; every edit must keep them.
COMMENTS = ("# The sections: never change a slug.", "# Outside feeds.", "# end of file")


@pytest.fixture
def edit_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    config = tmp_path / "config.toml"
    text = MINIMAL_CONFIG.replace("http://127.0.0.1:8080", root)
    text = text.replace("[store]", f'[server]\ndemo_feeds = "{FEEDS}"\n\n[store]')
    text = text.replace("[[sections]]", f"{COMMENTS[0]}\n[[sections]]", 1)
    text += "\n[fetcher]\nallow_private_addresses = true\n"
    text += f'\n{COMMENTS[1]}\n[[sidebar.sources]]\nname = "Labour Wire"\n'
    text += f'url = "{root}/demo-feeds/labour-wire.rss"\n\n{COMMENTS[2]}\n'
    config.write_text(text, encoding="utf-8")
    fill_store(tmp_path / "store.db", 6)
    made = run_cli(
        "--config", str(config), "user", "add", "alice", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert made.returncode == 0, made.stderr
    with running_server(config, "--workers", "1", "--port", str(port), "--no-fetch") as served:
        yield served, config


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def on_disk(config: Path) -> dict[str, Any]:
    text = config.read_text(encoding="utf-8")
    for comment in COMMENTS:
        assert comment in text, f"{comment!r} was lost"
    return tomllib.loads(text)


def slugs(config: Path) -> list[str]:
    return [s["slug"] for s in on_disk(config)["sections"]]


async def submit(page: Any, button: Any) -> Any:
    async with page.expect_navigation() as navigation:
        await button.click()
    return await navigation.value


def section(page: Any, slug: str) -> Any:
    return page.locator(f"#section-{slug}")


async def test_sections_are_added_retitled_described_reordered_and_removed(
    edit_site: tuple[str, Path], page: Any
):
    site, config = edit_site
    await log_in(page, site)
    await page.goto(site + "/admin/edit")
    assert "never changes once the section is created" in await page.inner_text("main")

    # Add.
    assert status_of(site + "/sections/books/feed.atom") == 404
    await page.fill("#new-slug", "books")
    await page.fill("#new-title", "Books")
    await page.fill("#new-description", "Reviews and essays")
    response = await submit(page, page.locator("#add-section button[type=submit]"))
    assert response.status == 200
    assert "Saved and in force" in await page.locator(".saved").inner_text()
    assert slugs(config) == ["news", "comment", "books"]
    assert status_of(site + "/sections/books/feed.atom") == 200  # in force at once

    # Retitle and describe.
    comment = section(page, "comment")
    await comment.locator("input[name=title]").fill("Opinion")
    await comment.locator("input[name=description]").fill("Argument and debate")
    await submit(page, comment.locator("button.save"))
    found = on_disk(config)["sections"][1]
    assert found == {"slug": "comment", "title": "Opinion", "description": "Argument and debate"}
    with urllib.request.urlopen(site + "/sections/comment/feed.atom", timeout=10) as feed:
        assert b"Opinion" in feed.read()

    # Reorder.
    await submit(page, section(page, "books").locator("button.up"))
    assert slugs(config) == ["news", "books", "comment"]
    await submit(page, section(page, "news").locator("button.down"))
    assert slugs(config) == ["books", "news", "comment"]
    await shoot(page, "edit")

    # Remove one without articles: at once.
    await submit(page, section(page, "books").locator("button.remove"))
    assert slugs(config) == ["news", "comment"]
    assert status_of(site + "/sections/books/feed.atom") == 404

    # Remove one with articles: asked first, told what happens to them.
    await submit(page, section(page, "news").locator("button.remove"))
    assert slugs(config) == ["news", "comment"]  # not yet
    warning = await page.locator(".confirm-remove").inner_text()
    assert "404 Not Found" in warning
    assert "not deleted" in warning
    assert "article" in warning
    await shoot(page, "edit-remove")
    await submit(page, page.locator("#confirm-remove"))
    assert slugs(config) == ["comment"]
    assert status_of(site + "/sections/news/feed.atom") == 404
    assert status_of(site + "/feed.atom") == 200

    # The audit log names the editor and every change, newest first.
    changes = await page.locator("table.audit tr.change").all_inner_texts()
    assert len(changes) == 6
    assert all("alice" in c for c in changes)
    assert "section.remove" in changes[0]
    assert "'news'" in changes[0]
    assert "section.add" in changes[-1]
    await page.goto(site + "/admin")
    assert await page.locator(".recent-changes li.change").count() == 5


async def test_sources_are_tried_added_disabled_reenabled_and_removed(
    edit_site: tuple[str, Path], page: Any
):
    site, config = edit_site
    await log_in(page, site)
    await page.goto(site + "/admin/edit")
    # A feed that does not exist: the trial says so, and nothing is saved by trying.
    before = config.read_bytes()
    await page.fill("#source-name", "Missing")
    await page.fill("#source-url", site + "/demo-feeds/no-such-feed.rss")
    await submit(page, page.locator("#add-source button[type=submit]"))
    assert "404" in await page.locator(".trial-failed").inner_text()
    assert config.read_bytes() == before
    await page.goto(site + "/admin/edit")

    await page.fill("#source-name", "World Dispatch")
    await page.fill("#source-url", site + "/demo-feeds/world-dispatch.atom")
    await submit(page, page.locator("#add-source button[type=submit]"))
    assert "HTTP 200" in await page.locator(".trial-ok").inner_text()
    assert int(await page.locator(".entry-count").inner_text()) > 0
    assert await page.locator(".trial-entries li").count() > 0
    assert config.read_bytes() == before  # shown, not saved yet
    await shoot(page, "edit-trial")
    await submit(page, page.locator("#add-source-confirm"))
    names = [s["name"] for s in on_disk(config)["sidebar"]["sources"]]
    assert names == ["Labour Wire", "World Dispatch"]

    row = page.locator("li.edit-source", has_text="World Dispatch")
    await submit(page, row.locator("button.toggle"))
    assert on_disk(config)["sidebar"]["sources"][1]["enabled"] is False
    row = page.locator("li.edit-source", has_text="World Dispatch")
    assert "disabled" in await row.inner_text()
    await submit(page, row.locator("button.toggle"))
    assert "enabled" not in on_disk(config)["sidebar"]["sources"][1]  # the default again
    row = page.locator("li.edit-source", has_text="World Dispatch")
    await submit(page, row.locator("button.remove"))
    assert [s["name"] for s in on_disk(config)["sidebar"]["sources"]] == ["Labour Wire"]
    actions = await page.locator("table.audit tr.change code").all_inner_texts()
    assert actions == ["source.remove", "source.enable", "source.disable", "source.add"]


async def test_two_editors_saving_over_each_other_and_a_hand_edit(
    edit_site: tuple[str, Path], page: Any
):
    site, config = edit_site
    await log_in(page, site)
    other = await page.context.browser.new_context()
    try:
        bob = await other.new_page()  # the same account, a second browser
        await log_in(bob, site)
        await page.goto(site + "/admin/edit")
        await bob.goto(site + "/admin/edit")

        await section(page, "news").locator("input[name=title]").fill("Latest news")
        await submit(page, section(page, "news").locator("button.save"))
        assert on_disk(config)["sections"][0]["title"] == "Latest news"

        # The second editor's page was made from the file before that save.
        await section(bob, "comment").locator("input[name=title]").fill("Views")
        response = await submit(bob, section(bob, "comment").locator("button.save"))
        assert response.status == 409
        assert "changed since you opened this page" in await bob.locator(".conflict").inner_text()
        # Nothing lost: the first save stands, the second's words are still in its form.
        assert on_disk(config)["sections"][0]["title"] == "Latest news"
        assert on_disk(config)["sections"][1]["title"] == "Comment"
        assert await section(bob, "comment").locator("input[name=title]").input_value() == "Views"
        assert (
            await section(bob, "news").locator("input[name=title]").input_value() == "Latest news"
        )
        await shoot(bob, "edit-conflict")

        # Meanwhile someone edits the file by hand on the server.
        config.write_text(
            config.read_text(encoding="utf-8") + "# a note added by hand\n", encoding="utf-8"
        )
        response = await submit(bob, section(bob, "comment").locator("button.save"))
        assert response.status == 409  # the page was made before the hand edit
        await submit(bob, section(bob, "comment").locator("button.save"))
        text = config.read_text(encoding="utf-8")
        assert "# a note added by hand\n" in text  # the hand edit is kept
        assert [s["title"] for s in tomllib.loads(text)["sections"]] == ["Latest news", "Views"]
    finally:
        await other.close()


async def test_an_invalid_edit_is_refused_with_its_key_and_changes_nothing(
    edit_site: tuple[str, Path], page: Any
):
    site, config = edit_site
    await log_in(page, site)
    await page.goto(site + "/admin/edit")
    before = config.read_bytes()
    # Saving what the file already says writes and records nothing.
    await submit(page, section(page, "comment").locator("button.save"))
    assert "Nothing to save" in await page.locator(".saved").inner_text()
    assert config.read_bytes() == before
    await page.fill("#new-slug", "Not A Slug")
    await page.fill("#new-title", "Odd")
    response = await submit(page, page.locator("#add-section button[type=submit]"))
    assert response.status == 422
    problems = await page.locator(".refused li").all_inner_texts()
    assert any(p.startswith("sections[2].slug: must be a slug") for p in problems)
    assert config.read_bytes() == before
    assert await page.locator("#new-slug").input_value() == "Not A Slug"  # kept to correct
    # A duplicate slug and an empty title, the same way.
    await section(page, "news").locator("input[name=title]").fill("  ")
    response = await submit(page, section(page, "news").locator("button.save"))
    assert response.status == 422
    assert any(
        p.startswith("sections[0].title: must not be empty")
        for p in await page.locator(".refused li").all_inner_texts()
    )
    await shoot(page, "edit-refused")
    assert config.read_bytes() == before
    await page.goto(site + "/admin/edit")
    assert await page.locator("table.audit tr.change").count() == 0  # no record of a refusal
