"""WebSub across real `syndicate serve` processes: restarts, kill -9, and two workers.

The subscriber runs in a thread of this process (tests/websub_support.py);
articles are written into the store by this process, as the CMS would.
"""

from __future__ import annotations

import os
import re
import signal
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicate.records import parse_record
from syndicate.store import Store
from syndicate.store.websub import WebSubStore
from tests.support import MINIMAL_CONFIG, fill_store, sample_record, write_config
from tests.websub_support import Behaviour, serve, subscriber

pytestmark = pytest.mark.timeout(120)

TOPIC = "http://127.0.0.1:8080/feed.atom"
SETTINGS = """
[fetcher]
allow_private_addresses = true

[websub]
retry_base = 0.1
retry_for = 60
timeout = 20
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, MINIMAL_CONFIG + SETTINGS)
    fill_store(tmp_path / "store.db", 12)
    return path


def subscribe(root: str, callback: str) -> None:
    form = {"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": callback}
    data = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(root + "/websub", data=data, timeout=5) as response:
        assert response.status == 202


def callbacks(config: Path) -> set[str]:
    with Store.open(config.parent / "store.db") as store:
        return {s.callback for s in WebSubStore(store).subscriptions()}


def recorded(config: Path, callback: str) -> bool:
    with Store.open(config.parent / "store.db") as store:
        return any(
            s.callback == callback and s.last_status == "HTTP 200"
            for s in WebSubStore(store).subscriptions()
        )


def publish(config: Path, i: int) -> None:
    now = datetime.now(UTC)
    record = sample_record(i, slug=f"fresh-{i}", published=(now - timedelta(seconds=5)).isoformat())
    with Store.open(config.parent / "store.db") as store:
        store.upsert_articles([parse_record(record, ("news", "comment"))], now)


def test_a_delivery_cut_by_kill_9_is_sent_after_the_restart(config: Path):
    with subscriber() as sub:
        sub.behaviours["slow"] = Behaviour(hang=8)
        with serve(config) as (proc, root):
            for name in ("quick", "slow"):
                subscribe(root, sub.url(name))
            sub.wait(lambda: len(callbacks(config)) == 2, what="two subscriptions")
            publish(config, 200)
            first = sub.wait(lambda: sub.seen("quick", "POST"), what="the quick push")
            sub.wait(lambda: sub.seen("slow", "POST"), what="the slow push to begin")
            # Outcomes are written every 50 ms; one cut short before that is sent again.
            sub.wait(lambda: recorded(config, sub.url("quick")), what="the quick push recorded")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        sub.behaviours["slow"] = Behaviour()
        with serve(config) as (_, root):
            # Owed before the kill, sent after the restart; the quick one is owed nothing.
            pushes = sub.wait(
                lambda: len(sub.seen("slow", "POST")) >= 2 and sub.seen("slow", "POST"),
                timeout=20,
                what="the owed push after the restart",
            )
            assert pushes[-1].body == first[0].body
            assert len(sub.seen("quick", "POST")) == 1
            # The subscriptions survived: a new change reaches both.
            publish(config, 201)
            for name in ("quick", "slow"):
                sub.wait(
                    lambda name=name: any(b"fresh-201" in c.body for c in sub.seen(name, "POST")),
                    what=f"the next push to {name}",
                )


def test_two_workers_push_each_change_once(config: Path):
    names = [f"s{i}" for i in range(6)]
    with subscriber() as sub, serve(config, workers=2) as (_, root):
        for name in names:  # the kernel spreads these over both workers
            subscribe(root, sub.url(name))
        sub.wait(lambda: len(callbacks(config)) == len(names), what="every subscription")
        for round_, i in enumerate((300, 301), start=1):
            publish(config, i)
            sub.wait(
                lambda round_=round_: all(len(sub.seen(n, "POST")) >= round_ for n in names),
                what="every subscriber's push",
            )
        time.sleep(1.5)  # a second worker pushing too would have done so by now
        for name in names:
            posts = sub.seen(name, "POST")
            assert len(posts) == 2, name
            assert b"fresh-301" in posts[1].body
            assert b"fresh-300" in posts[0].body


# -- the push process ------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc: children of children too)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: list[int] = []
    wanted = {pid}
    while wanted:
        below = [p for p, parent in parents.items() if parent in wanted]
        found += below
        wanted = set(below)
    return found


def pushers(pid: int) -> list[int]:
    """The push processes under ``pid``, by the name they give themselves."""
    named = []
    for child in descendants(pid):
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == "syndicate-push":
                named.append(child)
        except OSError:
            continue
    return named


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def metric(root: str, name: str, value: str, label: str = "outcome") -> float:
    with urllib.request.urlopen(root + "/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(rf'^{name}_total\{{{label}="{value}"\}} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_pushes_come_from_a_process_of_their_own_which_is_replaced_when_it_dies(config: Path):
    with subscriber() as sub, serve(config) as (proc, root):
        first = sub.wait(lambda: pushers(proc.pid), what="the push process")
        assert len(first) == 1
        assert first[0] != proc.pid
        subscribe(root, sub.url("a"))
        sub.wait(lambda: callbacks(config), what="the subscription")
        publish(config, 400)
        sub.wait(lambda: sub.seen("a", "POST"), what="the first push")
        # Its counts reach /metrics, which the worker answers.
        sub.wait(
            lambda: metric(root, "syndicate_websub_deliveries", "delivered") >= 1,
            what="the delivery counted in /metrics",
        )
        os.kill(first[0], signal.SIGKILL)
        sub.wait(lambda: not alive(first[0]), what="the push process to die")
        later = sub.wait(
            lambda: [p for p in pushers(proc.pid) if p != first[0]], what="another push process"
        )
        publish(config, 401)
        sub.wait(
            lambda: any(b"fresh-401" in c.body for c in sub.seen("a", "POST")),
            what="the push after the restart",
        )
        # The first process's count is kept: the total never goes backwards.
        sub.wait(
            lambda: metric(root, "syndicate_websub_deliveries", "delivered") >= 2,
            what="both deliveries counted",
        )
        assert proc.poll() is None  # the worker itself lived on
    assert sub.wait(lambda: not alive(later[0]), timeout=15, what="the push process to end")


def test_a_config_reload_reaches_the_push_process(config: Path):
    """The retry delay is read by the process: a reload to a long one must reach it."""
    with subscriber() as sub, serve(config) as (proc, root):
        sub.behaviours["a"] = Behaviour(statuses=[500, 200])
        subscribe(root, sub.url("a"))
        sub.wait(lambda: callbacks(config), what="the subscription")
        config.write_text(config.read_text().replace("retry_base = 0.1", "retry_base = 60"))
        os.kill(proc.pid, signal.SIGHUP)
        sub.wait(
            lambda: metric(root, "syndicate_config_reloads", "signal", label="trigger") >= 1,
            what="the reload in the worker",
        )
        time.sleep(0.5)  # the worker passes it on at once
        publish(config, 402)
        sub.wait(lambda: sub.seen("a", "POST"), what="the first try")
        time.sleep(2.0)  # with retry_base 0.1 the retry would have come by now
        assert len(sub.seen("a", "POST")) == 1


def test_no_push_process_while_the_hub_is_off_until_a_reload_turns_it_on(config: Path):
    config.write_text(config.read_text().replace("[websub]", '[websub]\nhub = "off"'))
    with subscriber() as sub, serve(config) as (proc, root):
        time.sleep(1.0)
        # Not even started: no process spawned (its name is set only once it runs).
        assert not [p for p in descendants(proc.pid) if b"spawn_main" in cmdline(p)]
        config.write_text(config.read_text().replace('hub = "off"\n', ""))
        os.kill(proc.pid, signal.SIGHUP)
        sub.wait(lambda: pushers(proc.pid), what="the push process after the reload")
        subscribe(root, sub.url("a"))
        sub.wait(lambda: callbacks(config), what="the subscription")
        publish(config, 403)
        sub.wait(lambda: sub.seen("a", "POST"), what="the push")
