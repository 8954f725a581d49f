"""WebSub push speed of the built-in hub: subscribers on loopback, a publish through the API.

    python bench/bench_websub.py

One run builds everything in a temp dir: the demo store (2,400 articles),
`syndicate serve --workers 2 --no-fetch`, a subscriber process (one aiohttp
server answering every callback: it echoes challenges and notes the arrival
time of each push) and a load process that polls feeds at a steady pace
(--rate requests/s, gzip, as aggregators do) and notes each latency. Then:

1. 100 feeds changing at once (34 tags, in all three formats, 100 of those
   topics), 10 subscribers each: one article carrying the 34 tags.
2. 10, then 100, then 1,000 subscribers to /feed.atom: each step publishes
   one article through the API and times its 201 to the last delivery.
3. One more subscriber that hangs for 30 s on each push, then a publish: how
   much later the others get theirs than in the step without it.

Each step publishes --repeat times (default 5), a second apart. For each:
time from the API's 201 to the first delivery (the change door noticing the
write, up to its 0.2 s tick, and rebuilding the changed feeds) and to the
last (medians, and the range of the last), deliveries per second, the
origin's feed p99 over every publish's window together (one window holds
too few requests for a p99 of its own; the worst window's is shown too), and
the memory of the leader and of its push process.

The anchor (issue 13): flask-websub's hub with Celery (2 worker processes)
and Redis on this machine kind delivered to 1,000 subscribers in 1.57 s (10
in 0.03 s, 100 in 0.17 s), and a subscriber hanging 30 s delayed the others
by 0.65 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import free_port, machine, revision, status_kb  # noqa: E402

HOST = "127.0.0.1"
HANG = 30.0

# -- the subscriber process -------------------------------------------------------


def run_subscribers(port: int) -> None:
    from aiohttp import web

    arrivals: list[tuple[float, str]] = []

    async def callback(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if request.method == "GET":
            return web.Response(text=request.query.get("hub.challenge", ""))
        await request.read()
        arrivals.append((time.time(), name))
        if name.startswith("hang"):
            await asyncio.sleep(HANG)
        return web.Response(status=204)

    async def stats(request: web.Request) -> web.Response:
        since = float(request.query.get("since", "0"))
        return web.json_response([a for a in arrivals if a[0] >= since])

    app = web.Application()
    app.router.add_route("*", "/cb/{name}", callback)
    app.router.add_get("/stats", stats)
    web.run_app(app, host=HOST, port=port, print=None, access_log=None, backlog=4096)


# -- the load process -----------------------------------------------------------------


def run_load(port: int, rate: float, out: Path, paths: list[str]) -> None:
    import aiohttp

    async def main() -> None:
        connections = 8
        interval = connections / rate
        with out.open("w") as sink:

            async def worker(i: int, session: aiohttp.ClientSession) -> None:
                n = 0
                start = time.monotonic() + i * interval / connections
                while True:
                    due = start + n * interval
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    n += 1
                    began = time.time()
                    t0 = time.monotonic()
                    path = paths[n % len(paths)]
                    async with session.get(path, headers={"Accept-Encoding": "gzip"}) as r:
                        await r.read()
                    sink.write(f"{began:.4f} {(time.monotonic() - t0) * 1000:.3f}\n")
                    sink.flush()

            connector = aiohttp.TCPConnector(limit=connections)
            base = f"http://{HOST}:{port}"
            async with aiohttp.ClientSession(base, connector=connector) as session:
                await asyncio.gather(*(worker(i, session) for i in range(connections)))

    asyncio.run(main())


# -- the bench ------------------------------------------------------------------------


def request(url: str, data: bytes | None = None, **kwargs: Any) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, **kwargs)
    with urllib.request.urlopen(req, timeout=30) as response:
        return response.status, response.read()


class Bench:
    def __init__(self, folder: Path, rate: float, concurrency: int | None, repeat: int = 5) -> None:
        self.folder = folder
        self.repeat = repeat
        self.rate = rate
        self.concurrency = concurrency
        self.port = free_port()
        self.root = f"http://{HOST}:{self.port}"
        self.sub_port = free_port()
        self.procs: list[subprocess.Popen[bytes]] = []
        self.leader = 0
        self.token = ""
        self.subscribed = 0

    def spawn(self, *args: str, log: str) -> subprocess.Popen[bytes]:
        handle = (self.folder / log).open("wb")
        proc = subprocess.Popen([*args], stdout=handle, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def setup(self) -> None:
        from syndicate.config import load_config
        from syndicate.demo import generate_demo
        from syndicate.passwords import new_token
        from syndicate.store import Store
        from syndicate.store.accounts import Accounts

        text = (ROOT / "config.toml").read_text(encoding="utf-8")
        text = re.sub(r"(?m)^base_url\s*=.*$", f'base_url = "{self.root}"', text, count=1)
        text = re.sub(r'(?m)^path\s*=\s*"data/[^"]*"', 'path = "store.db"', text, count=1)
        text += "\n[websub]\ntimeout = 60\n"
        if self.concurrency:
            text += f"concurrency = {self.concurrency}\n"
        if "[fetcher]" in text:
            text = re.sub(r"(?m)^allow_private_addresses\s*=.*$", "", text)
            text = text.replace("[fetcher]", "[fetcher]\nallow_private_addresses = true", 1)
        else:
            text += "\n[fetcher]\nallow_private_addresses = true\n"
        path = self.folder / "config.toml"
        path.write_text(text, encoding="utf-8")
        config = load_config(path)
        generate_demo(config.store_path, config, articles=2400, now=datetime.now(UTC))
        self.token = new_token()
        with Store.open(config.store_path) as store:
            Accounts(store).add_token("bench", self.token, datetime.now(UTC))
        here = str(Path(__file__).resolve())
        self.spawn(sys.executable, here, "--role", "subscribers", str(self.sub_port), log="sub.log")
        serve = [sys.executable, "-m", "syndicate", "--config", str(path), "serve"]
        self.syndicate = self.spawn(
            *serve, "--port", str(self.port), "--workers", "2", "--no-fetch", log="serve.log"
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"leader: worker pid (\d+)", (self.folder / "serve.log").read_text())
            if found:
                self.leader = int(found.group(1))
                break
            time.sleep(0.1)
        assert self.leader, "no leader started"
        time.sleep(3)  # the leader's census
        paths = ["/feed.atom", "/feed.rss", "/feed.json", "/sections/news/feed.atom"]
        self.spawn(
            sys.executable,
            here,
            "--role",
            "load",
            str(self.port),
            str(self.rate),
            str(self.folder / "load.txt"),
            *paths,
            log="load.log",
        )

    def put(self, slug: str, tags: list[str]) -> float:
        published = (datetime.now(UTC) - timedelta(seconds=5)).replace(microsecond=0)
        record = {
            "slug": slug,
            "title": f"Bench {slug}",
            "standfirst": "A pushed story",
            "body": "<p>Pushed.</p>",
            "section": "news",
            "published": published.isoformat(),
            "authors": ["Bench Writer"],
            "tags": tags,
        }
        status, _ = request(
            f"{self.root}/api/articles/{slug}",
            json.dumps(record).encode(),
            method="PUT",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        assert status == 201, status
        return time.time()

    async def subscribe(self, pairs: list[tuple[str, str]]) -> None:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            sem = asyncio.Semaphore(32)

            async def one(topic: str, name: str) -> None:
                form = {
                    "hub.mode": "subscribe",
                    "hub.topic": topic,
                    "hub.callback": f"http://{HOST}:{self.sub_port}/cb/{name}",
                }
                async with sem, session.post(f"{self.root}/websub", data=form) as r:
                    assert r.status == 202, await r.text()

            await asyncio.gather(*(one(t, n) for t, n in pairs))
        self.subscribed += len(pairs)
        self.wait_subscribed()

    def wait_subscribed(self) -> None:
        import sqlite3

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with sqlite3.connect(self.folder / "store.db") as db:
                count = db.execute("SELECT COUNT(*) FROM websub_subscriptions").fetchone()[0]
            if count >= self.subscribed:
                return
            time.sleep(0.1)
        raise SystemExit(f"only {count} of {self.subscribed} subscriptions verified")

    def arrivals(self, since: float, names: set[str], timeout: float = 60) -> list[float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, body = request(f"http://{HOST}:{self.sub_port}/stats?since={since}")
            seen = {name: at for at, name in json.loads(body) if name in names}
            if len(seen) >= len(names):
                return sorted(seen.values())
            time.sleep(0.05)
        raise SystemExit(f"only {len(seen)} of {len(names)} deliveries arrived")

    def latencies(self, start: float, end: float) -> list[float]:
        """The load's request latencies (ms) of requests begun between ``start`` and ``end``."""
        rows = []
        for line in (self.folder / "load.txt").read_text().splitlines():
            began, ms = (float(x) for x in line.split())
            if start <= began <= end:
                rows.append(ms)
        return rows

    def memory(self) -> str:
        """Resident and peak memory of the leader and of the push process it started."""
        found = re.findall(
            r"WebSub push process (\d+) started", (self.folder / "serve.log").read_text()
        )
        parts = []
        for name, pid in (("leader", self.leader), ("push", int(found[-1]) if found else 0)):
            if pid:
                rss = (status_kb(pid, "VmRSS") or 0) / 1024
                hwm = (status_kb(pid, "VmHWM") or 0) / 1024
                parts.append(f"{name} {rss:.0f} MiB (peak {hwm:.0f})")
        return ", ".join(parts)

    def step(self, what: str, publish: Any, names: set[str]) -> float:
        """Publish ``repeat`` times, one line of figures; the median last delivery.

        Each publish is timed from its 201 to the first and the last delivery
        to ``names``; the feed p99 is taken over the requests of every
        publish's window together (and the worst single window's is shown),
        since one publish's window holds too few requests for a p99 of its own.
        """
        firsts, lasts, rates, windows = [], [], [], []
        rows: list[float] = []
        for i in range(self.repeat):
            started = publish(i)
            times = self.arrivals(started, names)
            firsts.append(times[0] - started)
            lasts.append(times[-1] - started)
            spread = times[-1] - times[0]
            rates.append(len(times) / spread if spread > 0 else float("inf"))
            time.sleep(0.3)
            window = self.latencies(started, times[-1])
            rows += window
            if len(window) >= 2:
                windows.append(statistics.quantiles(window, n=100)[98])
            time.sleep(1.0)  # the next publish's window starts quiet
        p99 = statistics.quantiles(rows, n=100)[98] if len(rows) >= 2 else float("nan")
        last = statistics.median(lasts)
        print(
            f"  {what:<30} {len(names):>5} subscribers x {self.repeat}: first "
            f"{statistics.median(firsts):5.3f} s, last {last:5.3f} s after the 201 "
            f"(median; last {min(lasts):.3f}-{max(lasts):.3f} s), "
            f"{statistics.median(rates):,.0f} deliveries/s; feed p99 {p99:6.1f} ms "
            f"({len(rows)} requests; worst publish {max(windows, default=float('nan')):.1f} ms); "
            f"{self.memory()}",
            flush=True,
        )
        return last

    async def run(self) -> None:
        # The leader reports changes once its census (every document's ETag) is done:
        # wait for a first push before timing anything.
        # A change made while the census runs is seen by it, not announced: try again.
        await self.subscribe([(f"{self.root}/sections/news/feed.json", "warm")])
        for attempt in range(120):
            warmed = self.put(f"bench-warm-{attempt}", ["bench-other"])
            try:
                self.arrivals(warmed, {"warm"}, timeout=5)
                break
            except SystemExit:
                continue
        tags = [f"bench-{i:02d}" for i in range(34)]
        self.put("bench-seed", tags)
        time.sleep(1.0)
        topics = [
            f"{self.root}/tags/{tag}/feed.{fmt}" for tag in tags for fmt in ("atom", "rss", "json")
        ][:100]
        pairs = [(t, f"f{i}-{j}") for i, t in enumerate(topics) for j in range(10)]
        await self.subscribe(pairs)
        self.step(
            "100 feeds x 10 subscribers",
            lambda i: self.put(f"bench-burst-{i}", tags),
            {n for _, n in pairs},
        )

        atom = f"{self.root}/feed.atom"
        names: list[str] = []
        for count, label in ((10, "10"), (100, "100"), (1000, "1,000")):
            fresh = [f"s{i}" for i in range(len(names), count)]
            await self.subscribe([(atom, n) for n in fresh])
            names += fresh
            last = self.step(
                f"{label} subscribers to /feed.atom",
                lambda i, count=count: self.put(f"bench-{count}-{i}", ["bench-other"]),
                set(names),
            )
            if count == 100:
                # One more that hangs HANG seconds on every push (still hanging below).
                await self.subscribe([(atom, "hang")])
                hung = self.step(
                    "100 + 1 hanging 30 s",
                    lambda i: self.put(f"bench-hang-{i}", ["bench-other"]),
                    set(names),
                )
                print(f"  a hanging subscriber delays the other 100 by {hung - last:+.3f} s")

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=200.0, help="feed requests/s meanwhile")
    parser.add_argument("--concurrency", type=int, help="websub.concurrency (default: config's)")
    parser.add_argument("--repeat", type=int, default=5, help="publishes per step (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = parser.parse_args()
    if args.role:
        role, port, *rest = args.role
        if role == "subscribers":
            run_subscribers(int(port))
        else:
            run_load(int(port), float(rest[0]), Path(rest[1]), rest[2:])
        return
    print(f"machine:  {machine()}")
    print(f"revision: {revision()}")
    print(f"loadavg:  {os.getloadavg()[0]:.2f} (before the run)")
    print(f"load:     {args.rate:.0f} feed requests/s (gzip, 8 connections) throughout")
    folder = Path(tempfile.mkdtemp(prefix="syndicate-websub-"))
    bench = Bench(folder, args.rate, args.concurrency, args.repeat)
    if args.concurrency:
        print(f"websub:   concurrency = {args.concurrency}")
    try:
        bench.setup()
        asyncio.run(bench.run())
    finally:
        bench.close()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(
        "anchor:   flask-websub 0.4.1 hub (Celery, 2 worker processes, Redis), issue 13: "
        "10 in 0.03 s, 100 in 0.17 s, 1,000 in 1.57 s (about 640/s); a subscriber "
        "hanging 30 s delayed the others by 0.65 s"
    )


if __name__ == "__main__":
    main()
