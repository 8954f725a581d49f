"""Surrogate keys out, purges in: the key rule, and the leader's purges of the cache in front.

The purge target here is a small loopback aiohttp server that records what it
is sent (and can fail or hang), standing in for Varnish's PURGE handling;
tests/test_front_caches.py does the same against real Varnish.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from syndicate.catalog import DIRECTORY_HTML, SIDEBAR_JSON, feed_key
from syndicate.config import Config, ConfigError, parse_config
from syndicate.documents.build import build_document
from syndicate.documents.keys import chunks, document_keys, purge_keys
from syndicate.models import SIDEBAR, SITE, Scope
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.store.watch import EVERYTHING
from syndicate.web import purging
from syndicate.web.app import make_app
from syndicate.web.keys import DOOR
from tests.support import MINIMAL_CONFIG, fill_store, sample_record

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def make_config(folder: Path, extra: str = "") -> Config:
    path = folder / "config.toml"
    path.write_text(MINIMAL_CONFIG + extra, encoding="utf-8")
    if not (folder / "store.db").exists():
        fill_store(folder / "store.db", 20)
    return parse_config(path.read_text(), path)


# -- the key rule ----------------------------------------------------------------------


XKEY = '\n[cache]\nkey_headers = ["xkey"]\n'


def test_a_feed_lists_what_it_is_then_what_its_articles_belong_to(tmp_path: Path):
    config = make_config(tmp_path, XKEY)
    with Store.open(config.store_path) as store:
        tag = build_document(config, store, feed_key(Scope("tag", "gaza"), "rss"), NOW)
        site = build_document(config, store, feed_key(SITE, "atom"), NOW)
        articles = store.latest(Scope("tag", "gaza"), NOW, 50, 0)
    keys = tag.headers["xkey"].split(" ")
    assert keys[:4] == ["site", "feed/tag/gaza", "feed/tag/gaza/1", "feed/tag/gaza/1.rss"]
    expected = {"tag/gaza"}
    for article in articles:
        expected |= {f"section/{article.section}", f"issue/{article.issue.number}"}  # type: ignore[union-attr]
        expected |= {f"author/{a.slug}" for a in article.authors}
        expected |= {f"tag/{t.slug}" for t in article.tags}
    assert keys[4:] == sorted(expected)
    assert "tag/strikes" not in keys or any(t.slug == "strikes" for a in articles for t in a.tags)
    site_keys = site.headers["xkey"].split(" ")
    assert {"section/news", "section/comment", "author/simon-assaf", "issue/2000"} <= set(site_keys)
    assert "feed/tag/gaza" not in site_keys  # what a document is, only on itself


def test_keys_are_made_once_per_build_and_a_304_carries_none(tmp_path: Path):
    config = make_config(tmp_path, '\n[cache]\npurge_urls = ["http://127.0.0.1:6081/"]\n')
    with Store.open(config.store_path) as store:
        built = build_document(config, store, feed_key(SITE, "json"), NOW)
    assert "xkey" in built.head_for("gzip")
    assert built.head_for("gzip") is built.head_for("gzip")
    assert "xkey" not in built.head_for("gzip", not_modified=True)


def test_the_configured_headers_spell_the_keys_their_own_way(tmp_path: Path):
    config = make_config(tmp_path, '\n[cache]\nkey_headers = ["Surrogate-Key", "Cache-Tag"]\n')
    with Store.open(config.store_path) as store:
        feed = build_document(config, store, feed_key(Scope("section", "news"), "atom"), NOW)
        opml = build_document(config, store, DIRECTORY_HTML, NOW)
    assert "xkey" not in feed.headers
    assert feed.headers["Cache-Tag"] == feed.headers["Surrogate-Key"].replace(" ", ",")
    assert opml.headers["Surrogate-Key"] == "site directory directory.html"


def test_no_cache_in_front_no_keys(tmp_path: Path):
    config = make_config(tmp_path)
    with Store.open(config.store_path) as store:
        built = build_document(config, store, feed_key(SITE, "atom"), NOW)
    assert not {"xkey", "Surrogate-Key", "Cache-Tag"} & set(built.headers)


def test_singletons_and_odd_slugs():
    assert document_keys(SIDEBAR_JSON) == ("site", "sidebar", "sidebar.json")
    odd = document_keys(feed_key(Scope("tag", "a b,c/é"), "atom", 3))
    assert odd[1] == "feed/tag/a%20b%2cc%2f%c3%a9"
    assert odd[2:4] == ("feed/tag/a%20b%2cc%2f%c3%a9/3", "feed/tag/a%20b%2cc%2f%c3%a9/3.atom")
    assert all(" " not in k and "," not in k for k in odd)


def test_a_change_purges_the_touched_scopes_and_the_changed_singletons():
    news = Scope("section", "news")
    scopes = frozenset({SITE, news, Scope("author", "simon-assaf"), SIDEBAR})
    documents = [feed_key(news, "atom"), DIRECTORY_HTML, SIDEBAR_JSON]
    assert purge_keys(documents, scopes) == (
        "directory",
        "feed/author/simon-assaf",
        "feed/section/news",
        "feed/site",
        "sidebar",
    )
    # EVERYTHING (a config reload) names no scope: only the changed documents count.
    assert purge_keys([feed_key(news, "rss")], EVERYTHING) == ("feed/section/news",)


def test_keys_are_sent_in_groups_under_the_header_limit():
    keys = [f"feed/tag/t{i:04d}" for i in range(1000)]
    groups = chunks(keys, 400)
    assert [k for g in groups for k in g] == keys
    assert all(len(" ".join(g)) <= 400 for g in groups)
    assert chunks([]) == []


def test_the_cache_table_is_checked(tmp_path: Path):
    with pytest.raises(ConfigError) as raised:
        make_config(
            tmp_path,
            '\n[cache]\nkey_headers = ["X-Keys"]\npurge_urls = ["varnish:6081"]\n'
            "purge_timeout = 0\n",
        )
    problems = " ".join(raised.value.problems)
    assert "cache.key_headers" in problems
    assert "cache.purge_urls" in problems
    assert "cache.purge_timeout" in problems
    with pytest.raises(ConfigError) as raised:
        make_config(
            tmp_path,
            '\n[cache]\nkey_headers = ["Cache-Tag"]\npurge_urls = ["http://127.0.0.1:6081/"]\n',
        )
    assert raised.value.problems[0].startswith("cache.key_headers: must include 'xkey'")


# -- the leader's purges ---------------------------------------------------------------


class Target:
    """A stand-in for Varnish's PURGE handling: records keys, fails or hangs on demand."""

    def __init__(self) -> None:
        self.seen: list[set[str]] = []
        self.fail_first = 0
        self.hang = False

    async def handle(self, request: web.Request) -> web.Response:
        assert request.method == "PURGE"
        if self.hang:
            await asyncio.sleep(30)
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=503)
        self.seen.append(set(request.headers[purging.PURGE_HEADER].split(" ")))
        return web.Response(text="purged")


Serve = Callable[[web.Application], Awaitable[Any]]


async def start_target(aiohttp_server: Serve) -> tuple[Target, str]:
    target = Target()
    app = web.Application()
    app.router.add_route("PURGE", "/", target.handle)
    server = await aiohttp_server(app)
    return target, f"http://127.0.0.1:{server.port}/"


def publish(config: Config, slug: str) -> None:
    record = sample_record(
        99,
        slug=slug,
        section="news",
        authors=["Simon Assaf"],
        tags=["Strikes"],
        issue={"number": 2001},
        published=datetime.now(UTC).replace(microsecond=0).isoformat(),
    )
    with Store.open(config.store_path) as store:
        store.upsert_articles([parse_record(record, ("news", "comment"))], datetime.now(UTC))


async def leader(aiohttp_client: Any, config: Config) -> Any:
    client = await aiohttp_client(make_app(config, leader=True))
    await asyncio.wait_for(client.app[DOOR].ready.wait(), 30)
    return client


async def wait_for(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(purging, "RETRY_DELAYS", (0.05, 0.05))


async def test_a_publish_purges_exactly_its_scopes_and_retries_a_failure(
    tmp_path: Path, aiohttp_server: Serve, aiohttp_client: Any, quick_retries: None
):
    target, url = await start_target(aiohttp_server)
    target.fail_first = 1
    config = make_config(tmp_path, f'\n[cache]\npurge_urls = ["{url}"]\n')
    client = await leader(aiohttp_client, config)
    await asyncio.to_thread(publish, config, "docks")
    await wait_for(lambda: bool(target.seen))
    assert target.seen[0] == {
        "directory",
        "feed/site",
        "feed/section/news",
        "feed/author/simon-assaf",
        "feed/tag/strikes",
        "feed/issue/2001",
    }
    metrics = await (await client.get("/metrics")).text()
    assert 'syndicate_purges_total{outcome="ok",target="varnish"} 1' in metrics
    assert "syndicate_purge_retries_total 1" in metrics


async def test_the_cdn_hook_runs_with_the_keys_a_few_at_a_time(
    tmp_path: Path, aiohttp_client: Any, quick_retries: None, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(purging, "COMMAND_KEYS", 4)
    out = tmp_path / "keys.txt"
    hook = tmp_path / "hook.py"
    hook.write_text(
        "import sys\n"
        "with open(sys.argv[1], 'a') as f:\n"
        "    f.write(' '.join(sys.argv[2:]) + '\\n')\n"
    )
    argv = f"['{sys.executable}', '{hook}', '{out}']"
    config = make_config(tmp_path, f"\n[cache]\npurge_command = {argv}\n")
    client = await leader(aiohttp_client, config)
    await asyncio.to_thread(publish, config, "hook")
    purger = client.app[purging.PURGER]
    await wait_for(lambda: purger.outcomes[("command", "ok")] == 1)
    runs = [line.split() for line in out.read_text().splitlines()]
    assert [len(r) for r in runs] == [4, 2]
    assert {k for r in runs for k in r} == {
        "directory",
        "feed/site",
        "feed/section/news",
        "feed/author/simon-assaf",
        "feed/tag/strikes",
        "feed/issue/2001",
    }
    metrics = await (await client.get("/metrics")).text()
    assert 'syndicate_purges_total{outcome="ok",target="command"} 1' in metrics


async def test_a_dead_or_hung_cache_never_holds_up_the_door(
    tmp_path: Path, aiohttp_server: Serve, aiohttp_client: Any, quick_retries: None
):
    target, url = await start_target(aiohttp_server)
    target.hang = True
    config = make_config(
        tmp_path,
        f'\n[cache]\npurge_urls = ["{url}", "http://127.0.0.1:9/"]\npurge_timeout = 0.5\n'
        f"purge_command = ['{sys.executable}', '-c', 'import time; time.sleep(30)']\n",
    )
    client = await leader(aiohttp_client, config)
    door = client.app[DOOR]
    heard: list[float] = []
    door.subscribe(lambda change: heard.append(time.monotonic()))
    started = time.monotonic()
    await asyncio.to_thread(publish, config, "first")
    await wait_for(lambda: bool(heard))
    assert heard[0] - started < 2  # the door went on to its next listener at once
    purger = client.app[purging.PURGER]
    await wait_for(
        lambda: (
            purger.outcomes[("varnish", "failed")] == 2
            and purger.outcomes[("command", "failed")] == 1
        ),
        timeout=6,
    )
    assert time.monotonic() - started < 5  # 3 attempts of at most 0.5 s, short pauses
    assert not purger.tasks
    metrics = await (await client.get("/metrics")).text()
    assert 'syndicate_purges_total{outcome="failed",target="varnish"} 2' in metrics
    assert 'syndicate_purges_total{outcome="failed",target="command"} 1' in metrics
    assert "syndicate_purge_retries_total 6" in metrics
