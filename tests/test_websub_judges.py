"""Outside judges: flask-websub 0.4.1's subscriber and hub against syndicate, all on loopback.

(a) flask-websub's subscriber discovers a syndicate feed's hub from its Link
    header, subscribes with a secret through the built-in hub, is verified,
    and hears the push (its listener runs only when the signature matches)
    after an article is published through the API.
(b) syndicate configured with a flask-websub hub (Celery on Redis) announces
    a changed feed to it, and that hub delivers the feed to a subscriber.

The judges run as child processes (tests/flask_websub_apps.py), each stopped
by its pid; redis-server runs from a temp dir.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate.passwords import new_token
from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.store.accounts import Accounts
from tests.support import MINIMAL_CONFIG, fill_store, sample_record, stop_process, write_config
from tests.websub_support import free_port, serve, subscriber

pytest.importorskip("flask_websub", reason="flask-websub is not installed (test extra)")
pytest.importorskip("celery", reason="celery is not installed (test extra)")
pytestmark = pytest.mark.timeout(90)

APPS = Path(__file__).with_name("flask_websub_apps.py")
REDIS = shutil.which("redis-server")


@contextmanager
def child(*args: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [*args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        yield proc
    finally:
        stop_process(proc)


def listening(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
            continue
        return
    raise AssertionError(f"nothing listens on {port}")


def make_config(folder: Path, port: int, websub: str = "") -> Path:
    text = MINIMAL_CONFIG.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{port}")
    path = write_config(folder, text + "\n[fetcher]\nallow_private_addresses = true\n" + websub)
    fill_store(folder / "store.db", 12)
    return path


def put_article(root: str, token: str, slug: str) -> None:
    published = (datetime.now(UTC) - timedelta(seconds=5)).replace(microsecond=0)
    body = json.dumps(sample_record(900, slug=slug, published=published.isoformat())).encode()
    request = urllib.request.Request(
        f"{root}/api/articles/{slug}",
        data=body,
        method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def feed_bytes(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    with urllib.request.urlopen(request, timeout=5) as response:
        data: bytes = response.read()
        return data


def heard(out: Path, event: str) -> list[dict[str, Any]]:
    if not out.exists():
        return []
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    return [line for line in lines if line["event"] == event]


def wait(check: Any, timeout: float = 30, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_flask_websub_subscriber_through_the_built_in_hub(tmp_path: Path):
    port = free_port()
    config = make_config(tmp_path, port)
    token = new_token()
    with Store.open(tmp_path / "store.db") as store:
        Accounts(store).add_token("cms", token, datetime.now(UTC))
    out = tmp_path / "heard.jsonl"
    with serve(config, port=port) as (_, root):
        topic = f"{root}/feed.atom"
        sub_port = free_port()
        with child(sys.executable, str(APPS), "subscriber", str(sub_port), topic, str(out), "s3"):
            found = wait(lambda: heard(out, "discovered"), what="discovery")[0]
            assert found == {"event": "discovered", "hub_url": f"{root}/websub", "topic_url": topic}
            wait(lambda: heard(out, "verified"), what="the verification of intent")
            put_article(root, token, "judged-story")
            push = wait(lambda: heard(out, "push"), what="the signed push")[0]
            body = feed_bytes(topic)
            assert b"judged-story" in body
            assert push["sha256"] == hashlib.sha256(body).hexdigest()
            assert heard(out, "error") == []


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[str]:
    if REDIS is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    folder = tmp_path / "redis"
    folder.mkdir()
    with child(REDIS, *args, "--dir", str(folder)):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"


def test_an_outside_flask_websub_hub_is_announced_to_and_delivers(tmp_path: Path, redis: str):
    hub_port = free_port()
    folder = tmp_path / "hub"
    folder.mkdir()
    with child(sys.executable, str(APPS), "hub", str(hub_port), redis, str(folder)):
        listening(hub_port)
        hub = f"http://127.0.0.1:{hub_port}/hub"
        port = free_port()
        config = make_config(tmp_path, port, f'\n[websub]\nhub = "{hub}"\nretry_base = 0.2\n')
        with subscriber() as sub, serve(config, port=port) as (_, root):
            topic = f"{root}/feed.atom"
            with urllib.request.urlopen(topic, timeout=5) as response:
                assert response.headers["Link"].startswith(f'<{hub}>; rel="hub"')
            form = {"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": sub.url("fw")}
            request = urllib.request.Request(hub, data=urllib.parse.urlencode(form).encode())
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 202
            wait(lambda: sub.seen("fw", "GET"), what="the outside hub's verification")
            time.sleep(0.5)  # the hub stores the subscription after the answer
            now = datetime.now(UTC)
            record = sample_record(
                901, slug="hub-story", published=(now - timedelta(seconds=5)).isoformat()
            )
            with Store.open(tmp_path / "store.db") as store:
                store.upsert_articles([parse_record(record, ("news", "comment"))], now)
            post = wait(
                lambda: [c for c in sub.seen("fw", "POST") if b"hub-story" in c.body],
                what="the outside hub's delivery",
            )[0]
            assert post.body == feed_bytes(topic)
            assert "Content-Encoding" not in post.headers
            assert 'rel="self"' in post.headers["Link"]
