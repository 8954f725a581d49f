"""/admin/edit in process: the gate on every form, and the audit row only with the edit.

The browser tests (test_admin_edit_browser.py) make every edit as an editor
would; these check what a browser cannot easily provoke: a form without its
CSRF token or session, and a write of config.toml that fails.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from syndicate.config import Config, parse_config
from syndicate.live import fingerprint
from syndicate.store import Store
from syndicate.store.accounts import Accounts
from syndicate.web import adminedit
from tests.support import MINIMAL_CONFIG, fill_store, running_server
from tests.test_admin import PASSWORD, hidden_csrf, logged_in

FORMS = [
    "/admin/edit/sections/add",
    "/admin/edit/sections/update",
    "/admin/edit/sections/move",
    "/admin/edit/sections/remove",
    "/admin/edit/sources/try",
    "/admin/edit/sources/add",
    "/admin/edit/sources/enable",
    "/admin/edit/sources/remove",
]


def audit_rows(config: Any) -> int:
    with sqlite3.connect(config.store_path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0])


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL_CONFIG, encoding="utf-8")
    found = parse_config(MINIMAL_CONFIG, path)
    fill_store(found.store_path, 3)
    with Store.open(found.store_path) as store:
        Accounts(store).add_editor("alice", PASSWORD, datetime.now(UTC))
    return found


@pytest.fixture
async def client(aiohttp_client: Any, config: Config) -> Any:
    from syndicate.web.app import make_app

    return await aiohttp_client(make_app(config))


@pytest.mark.parametrize("form", FORMS)
async def test_every_form_needs_a_session_and_its_csrf_token(client: Any, config: Any, form: str):
    before = config.source.read_bytes()
    data = {
        "fingerprint": fingerprint(config.source),
        "slug": "books",
        "title": "Books",
        "name": "N",
        "url": "https://example.org/feed",
    }
    anonymous = await client.post(form, data=data, allow_redirects=False)
    assert anonymous.status == 403
    await logged_in(client)
    forged = await client.post(form, data=data | {"csrf": "forged"}, allow_redirects=False)
    assert forged.status == 403
    assert "Form refused" in await forged.text()
    assert config.source.read_bytes() == before
    assert audit_rows(config) == 0


async def test_a_failed_write_leaves_no_audit_row_and_the_file_as_it_was(
    client: Any,
    config: Any,
    monkeypatch: pytest.MonkeyPatch,
):
    token = await logged_in(client)
    before = config.source.read_bytes()

    def full_disk(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(adminedit, "write_atomically", full_disk)
    data = {"csrf": token, "fingerprint": fingerprint(config.source), "slug": "books"}
    response = await client.post("/admin/edit/sections/add", data=data | {"title": "Books"})
    assert response.status == 503
    assert "No space left on device" in await response.text()
    assert "nothing was changed" in await response.text()
    assert config.source.read_bytes() == before
    assert audit_rows(config) == 0

    monkeypatch.undo()
    response = await client.post("/admin/edit/sections/add", data=data | {"title": "Books"})
    assert response.status == 200  # after the redirect
    assert audit_rows(config) == 1
    assert b'slug = "books"' in config.source.read_bytes()


def reloads_by_signal(root: str) -> float:
    with urllib.request.urlopen(root + "/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.search(r'^syndicate_config_reloads_total\{trigger="signal"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_an_edit_is_in_force_in_every_worker_at_once(config: Config):
    """With two workers, the one that saved asks the supervisor to reload them all (SIGHUP),
    rather than leaving the other to notice the file at its next look."""
    with running_server(config.source, "--workers", "2", "--no-fetch") as root:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            page = await session.get(root + "/admin/login")
            token = hidden_csrf(await page.text())
            await session.post(
                root + "/admin/login", data={"csrf": token, "name": "alice", "password": PASSWORD}
            )
            page = await session.get(root + "/admin/edit")
            text = await page.text()
            fingerprint_field = re.search(r'name="fingerprint" value="([0-9a-f]+)"', text)
            assert fingerprint_field is not None
            before = reloads_by_signal(root)
            saved = await session.post(
                root + "/admin/edit/sections/add",
                data={
                    "csrf": hidden_csrf(text),
                    "fingerprint": fingerprint_field.group(1),
                    "slug": "books",
                    "title": "Books",
                },
            )
            assert saved.status == 200
            assert "Saved and in force" in await saved.text()
        deadline = time.monotonic() + 10
        while reloads_by_signal(root) < before + 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert reloads_by_signal(root) == before + 2  # both workers, by the signal
