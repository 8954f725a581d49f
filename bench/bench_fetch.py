"""The fetcher at scale: 1,000 outside feeds served from loopback.

    .venv/bin/python bench/bench_fetch.py --sources 1000

1. Writes N realistic RSS feeds (20-50 entries, 30-90 KB each) into a temp
   folder and serves them with bench/bare_app.py (ETag + 304) on 127.0.0.1.
2. `syndicate fetch --all` twice as a subprocess under /usr/bin/time: the
   first full refresh, then the all-304 pass. Prints wall time, peak memory
   (max RSS of the fetch process and its parser processes, from getrusage
   of the children) and the statuses from the summary table (every second-pass
   answer must be 304, which proves every request was conditional).
3. `syndicate serve --workers 2` with the same sources all due, and wrk on a
   cached feed while the server's own fetcher refreshes them: p50/p99.

Loopback only; every process is stopped by pid; every run is bounded by timeout.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from benchlib import free_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

WORDS = [
    "strike",
    "union",
    "council",
    "protest",
    "workers",
    "rent",
    "housing",
    "climate",
    "march",
    "court",
    "ballot",
    "pay",
    "nurses",
    "teachers",
    "dockers",
    "campaign",
    "hospital",
    "budget",
    "election",
    "refugees",
    "rally",
    "wages",
]


def feed(i: int, rng: random.Random, now: datetime) -> bytes:
    items = []
    for n in range(rng.randint(20, 50)):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 11))).capitalize()
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(120, 260)))
        when = format_datetime(now - timedelta(hours=n * 3 + rng.random()), usegmt=True)
        items.append(
            f"<item><title>{title}</title><link>http://source{i}.example/{n}</link>"
            f"<guid>http://source{i}.example/{n}</guid><pubDate>{when}</pubDate>"
            f"<description>{body}</description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Source {i}</title><link>http://source{i}.example/</link>"
        f"<description>Bench source {i}</description>{''.join(items)}</channel></rss>"
    ).encode()


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listening on {port}")


def run_fetch(config: Path) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    done = subprocess.run(
        [PYTHON, "-m", "syndicate", "--config", str(config), "fetch", "--all"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    seconds = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return seconds, max(peak, before) / 1024, done.stdout


def statuses(table: str) -> dict[str, int]:
    """Count the status column of `syndicate fetch`'s table (columns: 2+ spaces apart)."""
    counts: dict[str, int] = {}
    for line in table.splitlines()[1:-1]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) > 1:
            counts[cells[1]] = counts.get(cells[1], 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores"
    )
    work = Path(tempfile.mkdtemp(prefix="syndicate-fetch-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        rng = random.Random(7)
        now = datetime.now(UTC)
        docs = work / "feeds"
        docs.mkdir()
        sizes = []
        for i in range(args.sources):
            data = feed(i, rng, now)
            sizes.append(len(data))
            (docs / f"s{i}.rss").write_bytes(data)
        print(f"{args.sources} feeds, {min(sizes) // 1024}-{max(sizes) // 1024} KB each")
        port = free_port()
        procs.append(
            subprocess.Popen(
                [
                    PYTHON,
                    str(ROOT / "bench" / "bare_app.py"),
                    str(docs),
                    "--port",
                    str(port),
                    "--workers",
                    "1",
                ]
            )
        )
        wait_port(port)
        serve_port = free_port()
        text = (ROOT / "config.toml").read_text()
        text = text.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{serve_port}")
        text = re.sub(r'(?m)^path = "data/syndicate.db"', f'path = "{work / "store.db"}"', text)
        text = (
            text.split("[[sidebar.sources]]")[0]
            + "".join(
                f'[[sidebar.sources]]\nname = "Source {i}"\nurl = "http://127.0.0.1:{port}/s{i}.rss"\n\n'
                for i in range(args.sources)
            )
            + text[text.index("# --- The fetcher") :]
        )
        text = text.replace("concurrency = 10", "concurrency = 50").replace(
            "per_host = 2", "per_host = 20"
        )
        config = work / "config.toml"
        config.write_text(text)
        subprocess.run(
            [PYTHON, "-m", "syndicate", "--config", str(config), "demo"],
            check=True,
            capture_output=True,
            timeout=120,
            cwd=ROOT,
        )

        first, peak1, table1 = run_fetch(config)
        print(
            f"first refresh:  {first:6.2f} s, peak RSS {peak1:.0f} MiB, statuses {statuses(table1)}"
        )
        second, _, table2 = run_fetch(config)
        print(f"all-304 pass:   {second:6.2f} s, statuses {statuses(table2)}")

        # Serving while the server's own fetcher refreshes everything.
        import sqlite3

        conn = sqlite3.connect(work / "store.db")
        conn.execute("UPDATE sources SET next_fetch = NULL, etag = NULL, last_modified = NULL")
        conn.commit()
        conn.close()
        server = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "syndicate",
                "--config",
                str(config),
                "serve",
                "--workers",
                "2",
                "--port",
                str(serve_port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(work / "serve.log").open("w"),
            cwd=ROOT,
        )
        procs.append(server)
        try:
            wait_port(serve_port, timeout=60)
        except SystemExit:
            print((work / "serve.log").read_text()[-2000:])
            raise
        url = f"http://127.0.0.1:{serve_port}/feed.atom"
        subprocess.run(["curl", "-s", "-o", "/dev/null", url], timeout=30)
        if shutil.which("wrk") is None:
            print("wrk not installed: skipping the latency part (apt-get install wrk)")
            return
        out = subprocess.run(
            ["timeout", "60", "wrk", "-t1", "-c16", "-d20s", "--latency", url],
            capture_output=True,
            text=True,
        ).stdout
        p50 = re.search(r"50%\s+(\S+)", out)
        p99 = re.search(r"99%\s+(\S+)", out)
        rate = re.search(r"Requests/sec:\s+(\S+)", out)
        conn = sqlite3.connect(work / "store.db")
        fetched = conn.execute(
            "SELECT COUNT(*) FROM sources WHERE last_fetch IS NOT NULL"
        ).fetchone()[0]
        conn.close()
        print(
            f"serving /feed.atom during the refresh: {rate.group(1) if rate else '?'} req/s, "
            f"p50 {p50.group(1) if p50 else '?'}, p99 {p99.group(1) if p99 else '?'} "
            f"({fetched}/{args.sources} sources fetched by the server meanwhile)"
        )
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
