"""WebSub: feeds name their hub, and the built-in hub verifies, pushes, retries and forgets.

An in-process leader app (the change door running) and a real subscriber
on loopback (tests/websub_support.py); articles are written through a second
store connection, as the CMS would. Whole-process cases (restart, kill -9,
two workers) are in tests/test_websub_processes.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from syndicate.clock import ManualClock
from syndicate.config import Config, parse_config
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.store.accounts import Accounts
from syndicate.store.websub import WebSubStore
from syndicate.web.app import make_app
from syndicate.web.keys import DOOR
from syndicate.web.keys import HUB_COUNTS as COUNTS
from syndicate.websub.rules import topic_key
from tests.support import MINIMAL_CONFIG, fill_store, sample_record, write_config
from tests.websub_support import Behaviour, Subscriber, subscriber

ROOT = "http://127.0.0.1:8080"
TOPIC = ROOT + "/feed.atom"
SETTINGS = """
[fetcher]
allow_private_addresses = true

[websub]
lease_min = 60
retry_base = 0.05
retry_for = 3
timeout = 1.5
"""


def make_config(folder: Path, extra: str = SETTINGS) -> Config:
    path = write_config(folder, MINIMAL_CONFIG + extra)
    fill_store(folder / "store.db", 12)
    return parse_config(path.read_text(), path)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def sub() -> Iterator[Subscriber]:
    with subscriber() as running:
        yield running


async def leader(aiohttp_client: Any, config: Config, clock: Any = None) -> Any:
    app = make_app(config, leader=True, **({"clock": clock} if clock else {}))
    client = await aiohttp_client(app)
    await asyncio.wait_for(client.app[DOOR].ready.wait(), 30)
    return client


@pytest.fixture
async def hub(aiohttp_client: Any, config: Config) -> Any:
    return await leader(aiohttp_client, config)


def publish(config: Config, i: int, when: datetime | None = None) -> None:
    """A new article at the top of the site feed, written by another connection."""
    published = (when or datetime.now(UTC)) - timedelta(seconds=5)
    record = parse_record(
        sample_record(i, slug=f"fresh-{i}", published=published.isoformat()), ("news", "comment")
    )
    with Store.open(config.store_path) as store:
        store.upsert_articles([record], when or datetime.now(UTC))


async def subscribe(client: Any, callback: str, topic: str = TOPIC, **extra: str) -> Any:
    form = {"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": callback, **extra}
    response = await client.post("/websub", data=form)
    assert response.status == 202, await response.text()
    return response


def subscriptions(config: Config) -> list[Any]:
    with Store.open(config.store_path) as store:
        return WebSubStore(store).subscriptions()


async def until_subscribed(sub: Subscriber, config: Config, count: int = 1) -> None:
    await sub.await_(lambda: len(subscriptions(config)) >= count, what="the subscription")


# -- publisher side ------------------------------------------------------------------


async def test_every_feed_names_its_hub_and_itself(hub: Any):
    for path, marker in (
        ("/feed.atom", b'<link href="http://127.0.0.1:8080/websub" rel="hub"/>'),
        ("/sections/news/feed.rss", b'<atom:link rel="hub" href="http://127.0.0.1:8080/websub"/>'),
        ("/feed.json", b'"hubs":[{"type":"WebSub","url":"http://127.0.0.1:8080/websub"}]'),
    ):
        response = await hub.get(path)
        assert response.status == 200
        assert response.headers["Link"] == (
            f'<{ROOT}/websub>; rel="hub", <{ROOT}{path}>; rel="self"'
        )
        assert marker in await response.read()
        again = await hub.get(path, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status == 304
        assert "Link" not in again.headers


async def test_older_pages_name_no_hub(aiohttp_client: Any, tmp_path: Path):
    config = make_config(tmp_path, SETTINGS + "\n[feeds]\nitems = 5\n")
    client = await aiohttp_client(make_app(config))
    response = await client.get("/feed.atom?page=2")
    assert response.status == 200
    assert "Link" not in response.headers
    assert b'rel="hub"' not in await response.read()


@pytest.mark.parametrize(
    ("setting", "hub_url"), [('"off"', None), ('"https://hub.example/"', "https://hub.example/")]
)
async def test_the_hub_setting_decides_what_feeds_name(
    aiohttp_client: Any, tmp_path: Path, setting: str, hub_url: str | None
):
    config = make_config(tmp_path, f"\n[websub]\nhub = {setting}\n")
    client = await aiohttp_client(make_app(config))
    response = await client.get("/feed.atom")
    body = await response.read()
    if hub_url is None:
        assert "Link" not in response.headers
        assert b'rel="hub"' not in body
    else:
        assert response.headers["Link"].startswith(f'<{hub_url}>; rel="hub"')
        assert f'<link href="{hub_url}" rel="hub"/>'.encode() in body
    # No built-in hub to subscribe to.
    refused = await client.post("/websub", data={"hub.mode": "subscribe"})
    assert refused.status == 404


# -- the hub endpoint ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({}, "hub.mode"),
        ({"hub.mode": "publish", "hub.topic": TOPIC}, "not needed"),
        ({"hub.mode": "subscribe", "hub.topic": TOPIC}, "hub.callback is missing"),
        ({"hub.mode": "subscribe", "hub.callback": "ftp://x/", "hub.topic": TOPIC}, "http(s)"),
        ({"hub.mode": "subscribe", "hub.callback": "http://a.test/"}, "hub.topic is missing"),
        (
            {"hub.mode": "subscribe", "hub.callback": "http://a.test/", "hub.topic": TOPIC}
            | {"hub.lease_seconds": "-5"},
            "lease_seconds",
        ),
        (
            {"hub.mode": "subscribe", "hub.callback": "http://a.test/", "hub.topic": TOPIC}
            | {"hub.secret": "s" * 200},
            "200 bytes",
        ),
    ],
)
async def test_malformed_requests_are_400_with_the_reason(
    hub: Any, form: dict[str, str], says: str
):
    response = await hub.post("/websub", data=form)
    assert response.status == 400
    assert says in await response.text()


async def test_a_get_is_told_to_post(hub: Any):
    response = await hub.get("/websub")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"


# -- verification of intent ---------------------------------------------------------


async def test_subscribe_verify_push_with_signature(hub: Any, config: Config, sub: Subscriber):
    await subscribe(hub, sub.url("a") + "?mine=1", **{"hub.secret": "s3cret"})
    await until_subscribed(sub, config)
    check = sub.seen("a", "GET")[0].query
    assert check["hub.mode"] == "subscribe"
    assert check["hub.topic"] == TOPIC
    assert check["mine"] == "1"  # the callback's own query is kept
    assert check["hub.lease_seconds"] == "864000"  # the default lease
    publish(config, 100)
    posts = await sub.await_(lambda: sub.seen("a", "POST"), what="the push")
    served = await hub.get("/feed.atom", headers={"Accept-Encoding": "identity"})
    body = await served.read()
    assert posts[0].body == body
    assert b"fresh-100" in body
    headers = posts[0].headers
    assert headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert headers["Link"] == f'<{ROOT}/websub>; rel="hub", <{TOPIC}>; rel="self"'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature"] == f"sha256={expected}"
    assert "Content-Encoding" not in headers
    assert "Transfer-Encoding" not in headers
    # The same bytes are never pushed twice: an edit that changes no feed pushes nothing.
    await asyncio.sleep(1.0)
    assert len(sub.seen("a", "POST")) == 1
    assert hub.app[COUNTS].deliveries["delivered"] == 1


async def test_subscribers_of_one_feed_cost_one_look_in_the_cache(
    hub: Any, config: Config, sub: Subscriber, monkeypatch: pytest.MonkeyPatch
):
    """A push to many subscribers sends the bytes the change announced, asked for once."""
    from syndicate.websub import pusher

    asked: list[Any] = []
    original = pusher.CacheFromThread.get

    async def counting(self: Any, key: Any) -> Any:
        asked.append(key)
        return await original(self, key)

    monkeypatch.setattr(pusher.CacheFromThread, "get", counting)
    names = [f"n{i}" for i in range(20)]
    for name in names:
        await subscribe(hub, sub.url(name))
    await until_subscribed(sub, config, len(names))
    publish(config, 110)
    await sub.await_(lambda: all(sub.seen(n, "POST") for n in names), what="every push")
    atom = topic_key(ROOT, TOPIC)
    assert asked.count(atom) == 1  # the change's own look; no delivery asked again
    bodies = {sub.seen(n, "POST")[0].body for n in names}
    assert len(bodies) == 1
    assert b"fresh-110" in bodies.pop()


async def test_a_wrong_echo_makes_no_subscription(hub: Any, config: Config, sub: Subscriber):
    sub.behaviours["wrong"] = Behaviour(verify="wrong")
    sub.behaviours["error"] = Behaviour(verify_status=404)
    sub.behaviours["accepted"] = Behaviour(verify_status=202)  # any 2xx with the echo will do
    for name in ("wrong", "error", "accepted"):
        await subscribe(hub, sub.url(name))
    await until_subscribed(sub, config)
    await sub.await_(lambda: hub.app[COUNTS].verifications["refused"] == 2, what="refusals")
    assert [s.callback for s in subscriptions(config)] == [sub.url("accepted")]


async def test_a_topic_not_ours_is_denied(hub: Any, config: Config, sub: Subscriber):
    for topic in ("https://elsewhere.example/feed.atom", ROOT + "/sections/sport/feed.atom"):
        await subscribe(hub, sub.url("d"), topic=topic)
    denials = await sub.await_(lambda: len(sub.seen("d")) == 2 and sub.seen("d"), what="denials")
    assert {c.query["hub.mode"] for c in denials} == {"denied"}
    assert all(c.query["hub.reason"] for c in denials)
    assert subscriptions(config) == []


async def test_unsubscribe_stops_pushes(hub: Any, config: Config, sub: Subscriber):
    await subscribe(hub, sub.url("u"))
    await until_subscribed(sub, config)
    form = {"hub.mode": "unsubscribe", "hub.topic": TOPIC, "hub.callback": sub.url("u")}
    assert (await hub.post("/websub", data=form)).status == 202
    await sub.await_(lambda: subscriptions(config) == [], what="the unsubscription")
    assert sub.seen("u", "GET")[-1].query["hub.mode"] == "unsubscribe"
    publish(config, 101)
    await asyncio.sleep(1.0)
    assert sub.seen("u", "POST") == []


async def test_a_lease_is_clamped_and_expires(aiohttp_client: Any, config: Config, sub: Subscriber):
    clock = ManualClock(datetime.now(UTC))
    client = await leader(aiohttp_client, config, clock)
    await subscribe(client, sub.url("short"), **{"hub.lease_seconds": "5"})
    await subscribe(client, sub.url("long"), **{"hub.lease_seconds": "600"})
    await until_subscribed(sub, config, 2)
    leases = {s.callback: s.expires_at - s.since for s in subscriptions(config)}
    assert leases == {sub.url("short"): 60, sub.url("long"): 600}  # lease_min is 60
    # Subscribing again renews the lease from now, keeping the subscription.
    clock.advance(30)
    before = {s.callback: s for s in subscriptions(config)}
    await subscribe(client, sub.url("long"), **{"hub.lease_seconds": "600"})
    await sub.await_(
        lambda: any(s.expires_at > before[s.callback].expires_at for s in subscriptions(config)),
        what="the renewal",
    )
    renewed = {s.callback: s for s in subscriptions(config)}[sub.url("long")]
    assert renewed.since == before[sub.url("long")].since
    assert renewed.expires_at == before[sub.url("long")].expires_at + 30
    clock.advance(90)
    publish(config, 102, clock.now())
    await sub.await_(lambda: sub.seen("long", "POST"), what="the push to the live lease")
    await asyncio.sleep(0.5)
    assert sub.seen("short", "POST") == []


async def test_a_failing_subscriber_is_retried_while_others_get_theirs(
    aiohttp_client: Any, config: Config, sub: Subscriber
):
    sub.behaviours["flaky"] = Behaviour(statuses=[500, 503, 200])
    sub.behaviours["hangs"] = Behaviour(hang=30)
    sub.behaviours["gone"] = Behaviour(statuses=[410])
    client = await leader(aiohttp_client, config)
    for name in ("flaky", "hangs", "gone", "ok"):
        await subscribe(client, sub.url(name))
    await until_subscribed(sub, config, 4)
    publish(config, 103)
    started = time.monotonic()
    ok = await sub.await_(lambda: sub.seen("ok", "POST"), what="the healthy push")
    assert ok[0].at - started < 1.0, "the healthy subscriber waited"
    flaky = await sub.await_(
        lambda: len(sub.seen("flaky", "POST")) == 3 and sub.seen("flaky", "POST"),
        what="three tries",
    )
    assert flaky[2].at - flaky[0].at < 1.0  # backoff from 0.05 s, doubled
    # 410: the subscriber is forgotten; the hanging one is retried until retry_for.
    await sub.await_(
        lambda: sub.url("gone") not in [s.callback for s in subscriptions(config)],
        what="the 410 subscription removed",
    )
    counts = client.app[COUNTS].deliveries
    assert counts["delivered"] == 2
    assert counts["gone"] == 1
    await sub.await_(
        lambda: any(
            s.callback == sub.url("flaky") and s.last_status == "HTTP 200"
            for s in subscriptions(config)
        ),
        what="the flaky subscriber's last status recorded",
    )


async def test_feeds_other_than_page_one_are_not_topics():
    assert topic_key(ROOT, ROOT + "/feed.atom") is not None
    assert topic_key(ROOT, ROOT + "/tags/gaza/feed.json") is not None
    for url in (
        ROOT + "/feed.atom?page=2",
        ROOT + "/feed.xml",
        ROOT + "/feeds.opml",
        ROOT + "/latest-news.json",
        ROOT + "/sections//feed.atom",
        "http://other.example/feed.atom",
        ROOT + "/nothing/news/feed.atom",
    ):
        assert topic_key(ROOT, url) is None, url


# -- what editors and operators see ---------------------------------------------------

PASSWORD = "correct horse battery staple"


async def admin_page(client: Any, config: Config) -> str:
    with Store.open(config.store_path) as store:
        Accounts(store).add_editor("alice", PASSWORD, datetime.now(UTC))
    form = await client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', await form.text())
    assert csrf
    data = {"csrf": csrf.group(1), "name": "alice", "password": PASSWORD}
    response = await client.post("/admin/login", data=data, allow_redirects=False)
    assert response.status == 303
    page = await client.get("/admin/websub")
    assert page.status == 200
    return await page.text()


async def test_admin_and_metrics_show_subscribers(hub: Any, config: Config, sub: Subscriber):
    await subscribe(hub, sub.url("seen"), **{"hub.secret": "kept-out-of-sight"})
    await until_subscribed(sub, config)
    publish(config, 104)
    await sub.await_(lambda: sub.seen("seen", "POST"), what="the push")
    await sub.await_(lambda: subscriptions(config)[0].last_status, what="the outcome recorded")
    text = await admin_page(hub, config)
    assert TOPIC in text
    assert urlsplit(sub.root).netloc in text
    assert "/cb/seen" not in text  # the host only
    assert "kept-out-of-sight" not in text
    assert "HTTP 200" in text
    metrics = await (await hub.get("/metrics")).text()
    assert 'syndicate_websub_verifications_total{outcome="verified"} 1' in metrics
    assert 'syndicate_websub_deliveries_total{outcome="delivered"} 1' in metrics


async def test_an_outside_hub_is_told_of_each_changed_feed(
    aiohttp_client: Any, tmp_path: Path, sub: Subscriber
):
    sub.behaviours["hub"] = Behaviour(statuses=[500, 204])
    config = make_config(
        tmp_path, SETTINGS.replace("[websub]", f'[websub]\nhub = "{sub.url("hub")}"')
    )
    client = await leader(aiohttp_client, config)
    publish(config, 105)
    wanted = {ROOT + p for p in ("/feed.atom", "/feed.rss", "/feed.json")}

    def announced() -> set[str]:
        forms = [dict(urllib.parse.parse_qsl(c.body.decode())) for c in sub.seen("hub", "POST")]
        assert all(f["hub.mode"] == "publish" and f["hub.url"] == f["hub.topic"] for f in forms)
        return {f["hub.topic"] for f in forms}

    # The first try failed (500) and was retried; every changed first page is announced.
    await sub.await_(
        lambda: wanted <= announced() and len(sub.seen("hub", "POST")) > len(announced())
    )
    counts = client.app[COUNTS].announcements
    await sub.await_(lambda: counts["sent"] >= len(announced()), what="every announcement sent")
    assert counts["retry"] >= 1
    text = await admin_page(client, config)
    assert "Announcements to the outside hub" in text
    assert "HTTP 204" in text
    metrics = await (await client.get("/metrics")).text()
    assert 'syndicate_websub_announcements_total{outcome="retry"}' in metrics


async def test_callbacks_on_private_addresses_are_refused_by_default(
    aiohttp_client: Any, tmp_path: Path, sub: Subscriber
):
    """The fetcher's SSRF guard: a loopback callback is never called unless config allows it."""
    config = make_config(tmp_path, SETTINGS.replace("allow_private_addresses = true", ""))
    client = await leader(aiohttp_client, config)
    for callback in (sub.url("private"), "http://0x7f000001:9/cb", "http://[::1]:9/cb"):
        await subscribe(client, callback)
    counts = client.app[COUNTS].verifications
    await sub.await_(lambda: counts["failed"] == 3, what="three refused verifications")
    assert sub.seen("private") == []
    assert subscriptions(config) == []
