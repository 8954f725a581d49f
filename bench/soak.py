"""Soak: ten minutes of everything at once against `syndicate serve --workers 2`.

    .venv/bin/python bench/soak.py                 # 600 s, the issue's run
    .venv/bin/python bench/soak.py --duration 120  # a shorter trial

What runs, all on 127.0.0.1, for ``--duration`` seconds:

- wrk (``-t2 -c16``, paced to about ``--rate`` requests a second, 2,000 by
  default, a tenth of what one origin serves flat out, so p99 measures stalls
  and not a queue of our own making) on feeds of every kind (site, sections,
  authors, tags, issues) in every format, with older pages, /feeds,
  /feeds.opml and the sidebar; its Lua script remembers each URL's ETag and
  sends it back on every other request, so the mix holds 200s and 304s, and a
  changed feed is fetched afresh;
- an API publish (PUT /api/articles/soak-N) every second;
- the server's own fetcher refreshing 200 outside feeds (bench/bare_app.py
  serving them with ETags; ``refresh_interval = 60``);
- a config reload every minute (a section's title edited in config.toml);
- at half time, ``kill -9`` of one worker (the leader by default: it also
  runs the fetcher and the change door).

It prints requests, failures (wrk's non-2xx/3xx answers and socket errors,
and failed publishes), p99, each worker's memory at minute 2 and at the end,
and the verdict on the targets: no failed request beyond those in flight on
the killed worker, p99 under 100 ms, memory growth under 10% from minute 2.
Every process it starts is stopped by pid; everything is bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from bench_fetch import feed, wait_port
from benchlib import children_of, free_port, machine, revision, status_kb

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

LUA = """
-- Cycle over the URLs; remember each one's ETag and send it back every other time.
local urls = {URLS}
local etags = {}
local i = 0
local turn = 0
request = function()
  i = (i % #urls) + 1
  turn = turn + 1
  local path = urls[i]
  local headers = {}
  if turn % 2 == 0 and etags[path] then headers["If-None-Match"] = etags[path] end
  if turn % 3 == 0 then headers["Accept-Encoding"] = "gzip" end
  last = path
  return wrk.format("GET", path, headers)
end
delay = function()
  return {DELAY}
end
response = function(status, headers, body)
  if status == 200 and headers["ETag"] then etags[last] = headers["ETag"] end
end
"""


def rss_mib(pid: int) -> float | None:
    found = status_kb(pid, "VmRSS")
    return found / 1024 if found is not None else None


def command_name(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def workers(server: int) -> list[int]:
    """The server's worker processes (not the fetcher's parser processes)."""
    return [p for p in children_of(server) if "multiprocessing" not in command_name(p)]


def urls_from_opml(root: str) -> list[str]:
    with urllib.request.urlopen(root + "/feeds.opml", timeout=30) as response:
        tree = ET.fromstring(response.read())
    groups: dict[str, list[str]] = {}
    for folder in tree.iter("outline"):
        kids = [o.get("xmlUrl", "") for o in folder if o.get("xmlUrl")]
        if kids:
            groups[folder.get("text", "")] = kids
    paths: list[str] = []
    for kids in groups.values():
        for url in kids[:4]:
            path = url.split("//", 1)[1].split("/", 1)[1]
            stem = "/" + path.rsplit(".", 1)[0]
            paths += [f"{stem}.{fmt}" for fmt in ("atom", "rss", "json")]
    paths += ["/feed.atom?page=2", "/feed.rss?page=3", "/feed.json?page=4"]
    paths += ["/feeds", "/feeds.opml", "/latest-news", "/latest-news.json"]
    return paths


class Publisher(threading.Thread):
    """PUT a new article every second; count the answers."""

    def __init__(self, root: str, token: str, until: float) -> None:
        super().__init__(daemon=True)
        self.root, self.token, self.until = root, token, until
        self.statuses: dict[int, int] = {}
        self.slowest = 0.0
        #: Seconds each publish took, 201 or not.
        self.took: list[float] = []

    def run(self) -> None:
        n = 0
        while time.monotonic() < self.until:
            n += 1
            when = datetime.now(UTC) - timedelta(minutes=1)
            body = {
                "title": f"Soak story {n}",
                "standfirst": "A story written during the soak",
                "body": f"<p>Paragraph {n}.</p>",
                "section": "news",
                "published": when.isoformat(),
                "authors": ["Simon Assaf"],
                "tags": ["Soak"],
            }
            request = urllib.request.Request(
                f"{self.root}/api/articles/soak-{n}",
                data=json.dumps(body).encode(),
                method="PUT",
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json",
                },
            )
            started = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.took.append(time.monotonic() - started)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=600, help="seconds")
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--kill", choices=("leader", "other", "none"), default="leader")
    parser.add_argument("--rate", type=int, default=2000, help="requests a second, about")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    print(f"machine:  {machine()}")
    print(f"revision: {revision()}")
    work = Path(tempfile.mkdtemp(prefix="syndicate-soak-"))
    procs: list[subprocess.Popen[Any]] = []
    try:
        rng = random.Random(11)
        docs = work / "outside"
        docs.mkdir()
        now = datetime.now(UTC)
        for i in range(args.sources):
            (docs / f"s{i}.rss").write_bytes(feed(i, rng, now))
        outside = free_port()
        procs.append(
            subprocess.Popen(
                [PYTHON, str(ROOT / "bench" / "bare_app.py"), str(docs), "--port", str(outside)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_port(outside)
        port = free_port()
        text = (ROOT / "config.toml").read_text()
        text = text.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{port}")
        text = re.sub(r'(?m)^path = "data/syndicate.db"', f'path = "{work / "store.db"}"', text)
        text = text.replace("refresh_interval = 900", "refresh_interval = 60")
        text = (
            text.split("[[sidebar.sources]]")[0]
            + "".join(
                f'[[sidebar.sources]]\nname = "Source {i}"\n'
                f'url = "http://127.0.0.1:{outside}/s{i}.rss"\n\n'
                for i in range(args.sources)
            )
            + text[text.index("# --- The fetcher") :]
        )
        config = work / "config.toml"
        config.write_text(text)
        run = [PYTHON, "-m", "syndicate", "--config", str(config)]
        subprocess.run([*run, "demo"], check=True, capture_output=True, timeout=300, cwd=ROOT)
        token = subprocess.run(
            [*run, "token", "add", "soak"], check=True, capture_output=True, text=True, timeout=60
        ).stdout.split()[0]
        log = (work / "serve.log").open("w")
        server = subprocess.Popen(
            [*run, "serve", "--workers", "2", "--port", str(port)],
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )
        procs.append(server)
        wait_port(port, timeout=60)
        root = f"http://127.0.0.1:{port}"
        time.sleep(3)  # the leader's first census and fetch round
        paths = urls_from_opml(root)
        script = work / "soak.lua"
        pause = max(0, round(1000 * args.connections / max(args.rate, 1)))
        lua = LUA.replace("{URLS}", "{" + ",".join(json.dumps(p) for p in paths) + "}")
        script.write_text(lua.replace("{DELAY}", str(pause)))
        print(f"{len(paths)} URLs, {args.sources} outside sources, {args.duration} s")
        started = time.monotonic()
        until = started + args.duration
        wrk = subprocess.Popen(
            [
                *("wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency"),
                *("--timeout", "10s", "-s", str(script), root),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(wrk)
        publisher = Publisher(root, token, until)
        publisher.start()
        memory: dict[str, dict[int, float | None]] = {}
        reloads = 0
        killed: int | None = None
        marks = {"minute 2": started + min(120, args.duration * 0.2)}
        kill_at = started + args.duration / 2
        next_reload = started + 60
        titles = ("News", "Breaking news")
        while time.monotonic() < until - 2:
            moment = time.monotonic()
            for name, at in list(marks.items()):
                if moment >= at:
                    memory[name] = {pid: rss_mib(pid) for pid in workers(server.pid)}
                    del marks[name]
            if moment >= next_reload:
                reloads += 1
                text = config.read_text()
                old, new = titles if reloads % 2 else titles[::-1]
                config.write_text(text.replace(f'title = "{old}"', f'title = "{new}"', 1))
                next_reload += 60
            if killed is None and args.kill != "none" and moment >= kill_at:
                alive = workers(server.pid)
                if alive:
                    killed = alive[0] if args.kill == "leader" else alive[-1]
                    signal_at = time.monotonic() - started
                    subprocess.run(["kill", "-9", str(killed)], check=False)
                    print(f"killed worker {killed} with -9 at {signal_at:.0f} s")
            time.sleep(0.5)
        memory["end"] = {pid: rss_mib(pid) for pid in workers(server.pid)}
        out, _ = wrk.communicate(timeout=args.duration + 60)
        publisher.join(timeout=60)
        with contextlib.closing(sqlite3.connect(work / "store.db")) as conn:
            fetched = conn.execute(
                "SELECT COUNT(*) FROM sources WHERE last_fetch IS NOT NULL AND configured = 1"
            ).fetchone()[0]
        report(
            out, publisher, memory, reloads, killed, str(fetched), args.sources, args.connections
        )
    finally:
        for proc in reversed(procs):
            with contextlib.suppress(OSError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    return int(found.group(1)) if found else 0


def _ms(text: str) -> float:
    """wrk's latency ("850.00us", "12.34ms", "1.20s") in milliseconds."""
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not found:
        return float("nan")
    value, unit = float(found.group(1)), found.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _median_ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:.0f}" if seconds else "-"


def _p95_ms(seconds: list[float]) -> str:
    return f"{statistics.quantiles(seconds, n=20)[18] * 1000:.0f}" if len(seconds) > 1 else "-"


def _mib(value: float | None) -> str:
    return f"{value:.1f}" if value else "-"


def report(
    out: str,
    publisher: Publisher,
    memory: dict[str, dict[int, float | None]],
    reloads: int,
    killed: int | None,
    fetched: str,
    sources: int,
    connections: int,
) -> None:
    requests = _number(r"(\d+) requests in", out)
    bad = _number(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    socket_errors = sum(int(g) for g in errors.groups()) if errors else 0
    # The row of wrk's latency distribution, not any figure ending in "99%" ("82.99%").
    p99_text = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    p99 = _ms(p99_text.group(1)) if p99_text else float("nan")
    failed_publishes = sum(
        n for status, n in publisher.statuses.items() if status not in (200, 201)
    )
    print()
    print(out.strip())
    print()
    print(f"requests:           {requests:,}")
    print(f"non-2xx/3xx:        {bad}")
    print(f"socket errors:      {socket_errors} ({errors.group(0) if errors else 'none'})")
    print(f"p99:                {p99:.1f} ms (target < 100 ms)")
    print(
        f"publishes:          {sum(publisher.statuses.values())} "
        f"{dict(sorted(publisher.statuses.items()))}, median {_median_ms(publisher.took)} ms, "
        f"p95 {_p95_ms(publisher.took)} ms, "
        f"slowest {publisher.slowest * 1000:.0f} ms"
    )
    print(f"config reloads:     {reloads}")
    print(f"sources fetched:    {fetched}/{sources}")
    print(f"killed worker:      {killed if killed else 'none'}")
    print("memory (VmRSS MiB):")
    start, end = memory.get("minute 2", {}), memory.get("end", {})
    growth_ok = True
    for pid in sorted(set(start) | set(end)):
        before, after = start.get(pid), end.get(pid)
        note = ""
        if before and after:
            change = (after - before) / before
            note = f"  growth {change * 100:+.1f}%"
            growth_ok = growth_ok and change < 0.10
        elif before and not after:
            note = "  (killed)"
        else:
            note = "  (started after minute 2)"
        print(f"  pid {pid}: minute 2 {_mib(before)}, end {_mib(after)}{note}")
    # A killed worker may drop what was in flight on it: at most one request per
    # connection wrk holds (the kernel may have handed it any of them).
    in_flight = connections if killed else 0
    failures = bad + socket_errors
    print()
    print(
        "verdict: "
        + ("ok" if failures <= in_flight else "FAIL")
        + f" failures {failures} (allowed {in_flight}, in flight on the killed worker); "
        + ("ok" if p99 < 100 else "FAIL")
        + f" p99 {p99:.1f} ms; "
        + ("ok" if growth_ok else "FAIL")
        + " memory growth; "
        + ("ok" if failed_publishes == 0 else "FAIL")
        + f" publishes failed {failed_publishes}"
    )


if __name__ == "__main__":
    main()
