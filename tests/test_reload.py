"""Live configuration under load: valid edits take effect, invalid ones are refused,
and no request fails while it happens."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import aiohttp

from tests.support import MINIMAL_CONFIG, fill_store, running_server, write_config


async def hammer(root: str, stop: asyncio.Event, results: list[int]) -> None:
    """Keep requesting feeds that exist throughout, recording every status."""
    paths = ["/feed.atom", "/sections/news/feed.rss", "/sections/comment/feed.json", "/feeds"]
    async with aiohttp.ClientSession() as session:
        i = 0
        while not stop.is_set():
            try:
                async with session.get(root + paths[i % len(paths)]) as response:
                    await response.read()
                    results.append(response.status)
            except aiohttp.ClientError:
                results.append(-1)
            i += 1


async def wait_for(check, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.2)
    return False


async def test_reload_under_load(tmp_path: Path):
    config = write_config(tmp_path, MINIMAL_CONFIG)
    fill_store(tmp_path / "store.db", 40)
    with running_server(config, "--workers", "2", "--no-fetch") as root:
        stop = asyncio.Event()
        results: list[int] = []
        loaders = [asyncio.create_task(hammer(root, stop, results)) for _ in range(4)]
        try:
            async with aiohttp.ClientSession() as session:

                async def get(path: str) -> tuple[int, str]:
                    async with session.get(root + path) as response:
                        return response.status, await response.text()

                # A valid edit: a renamed section title and a new section.
                edited = MINIMAL_CONFIG.replace('title = "News"', 'title = "Breaking News"')
                edited += '\n[[sections]]\nslug = "sport"\ntitle = "Sport"\n'
                config.write_text(edited)

                async def renamed() -> bool:
                    # Several requests, so both workers are seen to have reloaded.
                    for _ in range(6):
                        status, body = await get("/sections/news/feed.atom")
                        if status != 200 or "Breaking News" not in body:
                            return False
                        if (await get("/sections/sport/feed.atom"))[0] != 200:
                            return False
                    return True

                assert await wait_for(renamed), "the valid edit never took effect"

                # An invalid edit is refused: the running config stays in force.
                config.write_text(edited.replace('title = "Sport"', "title = 5"))
                await asyncio.sleep(3)  # the file is checked every 2 s
                for _ in range(6):
                    status, body = await get("/sections/news/feed.atom")
                    assert status == 200
                    assert "Breaking News" in body
                    assert (await get("/sections/sport/feed.atom"))[0] == 200

                # Fixing the file takes effect again, and SIGHUP works too.
                config.write_text(MINIMAL_CONFIG)
                assert await wait_for(lambda: _status_is(get, "/sections/sport/feed.atom", 404)), (
                    "removing the section never took effect"
                )
        finally:
            stop.set()
            await asyncio.gather(*loaders)
    assert len(results) > 100
    assert set(results) == {200}, f"failed requests during reloads: {sorted(set(results))}"


async def _status_is(get, path: str, status: int) -> bool:
    for _ in range(6):
        if (await get(path))[0] != status:
            return False
    return True


def test_sighup_reloads_at_once(tmp_path: Path):
    import urllib.request

    config = write_config(tmp_path, MINIMAL_CONFIG)
    fill_store(tmp_path / "store.db", 5)
    with running_server(config, "--workers", "1", "--no-fetch") as root:
        pid = _server_pid(root)
        config.write_text(MINIMAL_CONFIG.replace('title = "Comment"', 'title = "Opinion"'))
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with urllib.request.urlopen(root + "/sections/comment/feed.atom") as response:
                if b"<title>Opinion" in response.read():
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("the edit was never picked up")
        # The signal did it, not the file watcher that also runs every 2 s.
        with urllib.request.urlopen(root + "/metrics") as response:
            metrics = response.read().decode()
        assert 'syndicate_config_reloads_total{trigger="signal"} 1' in metrics
        assert 'trigger="file"' not in metrics


def _server_pid(root: str) -> int:
    import re
    import urllib.request

    with urllib.request.urlopen(root + "/metrics") as response:
        found = re.search(r'pid="(\d+)"', response.read().decode())
    assert found
    return int(found.group(1))
