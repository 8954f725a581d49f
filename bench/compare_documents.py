"""Every document syndicate serves, fingerprinted, to prove a refactoring changes none of them.

    python bench/compare_documents.py make-store --out /tmp/docs-store/demo.db
    python bench/compare_documents.py snapshot --store /tmp/docs-store/demo.db --out before.json
    python bench/compare_documents.py compare before.json after.json

`make-store` writes the 2,400-article demo publication with the demo's fixed
seed and a fixed `now`, moves the articles scheduled after that moment ten
years ahead, and fills the Latest News sidebar with fixed entries: the same
file every time.

`snapshot` builds the app in-process (`make_app(config)` on a temporary copy of
the store, served by aiohttp's TestClient on loopback) and requests every
document: the site, section, author, issue and tag feeds in Atom, RSS and
JSON, every page of each, /feeds, /feeds.opml, /latest-news(.json), every
article page, the demo feeds, /api/openapi.json, /healthz, and 400/404/405
cases; each in several modes (identity, gzip, br, and conditional requests
with the 200's validators). For each it records the status, the headers that
matter and the sha256 of the body exactly as sent, sorted by URL and mode.

While it runs, the process clock (``time.time`` and ``datetime.now``) is
frozen at `--now` (the demo's own moment by default), so scheduled articles,
"5 minutes ago" in the sidebar and "This article is over N years old" come
out the same however far apart two snapshots are taken. `--real-clock` turns
that off; then relative times in the sidebar and article pages drift.

`compare` prints every difference and a one-line verdict; exit status 1 if
anything differs.

syndicate is reached only through load_config, make_app, generate_demo and
HTTP; `--syndicate-src DIR` imports it from DIR (a folder holding a
`syndicate/` package), e.g. a checkout of the code before a refactoring.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as datetime_module
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent

#: The demo's `now` and the frozen clock of a snapshot: a fixed moment, so the
#: store and every document are the same whenever they are made.
DEMO_NOW = "2026-12-01T12:00:00Z"
#: How far ahead the articles scheduled after DEMO_NOW are moved.
SCHEDULED_SHIFT = datetime_module.timedelta(days=3653)
STORE_TIME = "%Y-%m-%dT%H:%M:%SZ"
FORMATS = ("atom", "rss", "json")
#: Scope folders; the first feed of each also gets the out-of-range page requests.
KINDS = ("sections", "authors", "tags", "issues")
#: Response headers recorded (besides status and body); absent ones are left out.
HEADERS = (
    "Content-Type",
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Vary",
    "Content-Encoding",
    "X-Content-Type-Options",
    "Access-Control-Allow-Origin",
    "Content-Security-Policy",
    "Referrer-Policy",
    "X-Frame-Options",
    "Allow",
    "Location",
)
ATOM = "{http://www.w3.org/2005/Atom}"

# -- the clock -------------------------------------------------------------------


def freeze_clock(moment: float) -> None:
    """Make ``time.time()`` and ``datetime.now()`` answer ``moment`` in this process.

    Must run before syndicate (or anything that binds ``datetime`` by name) is
    imported. The stand-in class only changes ``now``/``today``/``utcnow``:
    whatever it constructs is a real ``datetime``, and isinstance checks
    against it accept real ones, so the rest of the program cannot tell.
    """
    real = datetime_module.datetime

    class Meta(type):
        def __instancecheck__(cls, obj: object) -> bool:
            return isinstance(obj, real)

        def __subclasscheck__(cls, sub: type) -> bool:
            return issubclass(sub, real)

    class FrozenDatetime(real, metaclass=Meta):
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            return real(*args, **kwargs)

        @classmethod
        def now(cls, tz: datetime_module.tzinfo | None = None) -> Any:
            return real.fromtimestamp(moment, tz)

        @classmethod
        def today(cls) -> Any:
            return real.fromtimestamp(moment)

        @classmethod
        def utcnow(cls) -> Any:
            return real.fromtimestamp(moment, datetime_module.UTC).replace(tzinfo=None)

    datetime_module.datetime = FrozenDatetime  # type: ignore[misc]
    time.time = lambda: moment
    time.time_ns = lambda: int(moment * 1_000_000_000)


def parse_moment(text: str) -> datetime_module.datetime:
    moment = datetime_module.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise SystemExit(f"compare_documents: --now {text!r} needs a time zone (e.g. Z)")
    return moment.astimezone(datetime_module.UTC)


# -- setting up ------------------------------------------------------------------


def use_source(source: Path | None) -> Path:
    """Put the folder holding the ``syndicate/`` package to test first on sys.path."""
    folder = (source or ROOT).resolve()
    if not (folder / "syndicate" / "__init__.py").exists():
        raise SystemExit(f"compare_documents: no syndicate/ package in {folder}")
    sys.path.insert(0, str(folder))
    return folder


def imported_from(folder: Path) -> str:
    """Where syndicate was imported from; fails loudly if not from ``folder``."""
    import syndicate

    where = Path(syndicate.__file__).resolve().parent
    if where.parent != folder:
        raise SystemExit(f"compare_documents: syndicate imported from {where}, not {folder}")
    return str(where)


def describe(folder: Path) -> str:
    """``git describe`` of the checkout holding ``folder``."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["git", "-C", str(folder), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return out.stdout.strip()
    return "unknown"


def temp_config(source: Path, store: Path, folder: Path) -> tuple[Path, Path | None]:
    """``source`` copied into ``folder`` with [store] path set to ``store``; (it, demo feeds).

    A relative [server] demo_feeds keeps pointing where it did (it is taken
    from the config file's folder); everything else is as written.
    """
    out, section, demo_feeds = [], "", None
    for line in source.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        elif section == "[store]" and re.match(r"path\s*=", stripped):
            line = f"path = {json.dumps(str(store))}"
        elif section == "[server]" and (found := re.match(r'demo_feeds\s*=\s*"(.+)"', stripped)):
            demo_feeds = source.parent.resolve() / found.group(1)
            line = f"demo_feeds = {json.dumps(str(demo_feeds))}"
        out.append(line)
    path = folder / "config.toml"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path, demo_feeds


def sha256_file(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        if path.exists():
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def companions(store: Path) -> list[Path]:
    """The store file and its -wal and -shm, as far as they exist."""
    return [p for p in (store, Path(f"{store}-wal"), Path(f"{store}-shm")) if p.exists()]


# -- make-store ------------------------------------------------------------------

#: Fixed Latest News entries, per configured source in order: (minutes before
#: now, title, link). Some titles are hostile on purpose: they must show as text.
SIDEBAR_ENTRIES: tuple[tuple[tuple[int, str, str], ...], ...] = (
    (
        (4, "Bus drivers walk out across three depots", "https://wire.example/bus-drivers"),
        (52, "Nurses' ballot opens: 'We can't go on like this'", "https://wire.example/nurses"),
        (185, "Dockers win 9% after a week out", "https://wire.example/dockers?a=1&b=2"),
        (1500, "Teachers vote to escalate", "https://wire.example/teachers"),
    ),
    (
        (11, "Protesters fill Plaza de Mayo", "https://dispatch.example/plaza"),
        (95, "مسيرة حاشدة في القاهرة", "https://dispatch.example/cairo"),
        (3000, "Général strike closes Marseille port", "https://dispatch.example/marseille"),
        (9000, "Farmers block the A1", "https://dispatch.example/a1"),
    ),
    (
        (30, "Save our library: rally on Saturday", "https://bulletin.example/library"),
        (400, "Petition passes 100,000 & counting", "https://bulletin.example/petition"),
        (2000, "Meeting moved to <the> town hall", "https://bulletin.example/meeting"),
    ),
    (
        (2, '<script>alert("sidebar")</script> Totally normal', "https://hostile.example/x"),
        (70, "<b>Bold</b> claims &amp; <i>markup</i>", "https://hostile.example/y"),
        (60 * 24 * 400, "An old story from last year", "https://hostile.example/old"),
    ),
)


def later(text: str) -> str:
    """A store time moved SCHEDULED_SHIFT ahead."""
    moment = datetime_module.datetime.strptime(text, STORE_TIME)
    return (moment + SCHEDULED_SHIFT).strftime(STORE_TIME)


def prepare_store(path: Path, config_text: str, now: datetime_module.datetime) -> tuple[int, int]:
    """Move scheduled articles far ahead and fill the sidebar; (moved, entries)."""
    sources = tomllib.loads(config_text).get("sidebar", {}).get("sources", [])
    conn = sqlite3.connect(path)
    try:
        with conn:
            cutoff = now.strftime(STORE_TIME)
            moved = 0
            rows = conn.execute(
                "SELECT id, published, updated FROM articles WHERE published > ?", (cutoff,)
            ).fetchall()
            for article_id, published, updated in rows:
                conn.execute(
                    "UPDATE articles SET published = ?, updated = ? WHERE id = ?",
                    (later(published), later(updated) if updated > cutoff else updated, article_id),
                )
                moved += 1
            entries = 0
            for source, fixed in zip(sources, SIDEBAR_ENTRIES, strict=False):
                conn.execute(
                    "INSERT INTO sources (url, name) VALUES (?, ?) "
                    "ON CONFLICT (url) DO UPDATE SET name = excluded.name, configured = 1",
                    (source["url"], source["name"]),
                )
                (source_id,) = conn.execute(
                    "SELECT id FROM sources WHERE url = ?", (source["url"],)
                ).fetchone()
                for minutes, title, link in fixed:
                    when = (now - datetime_module.timedelta(minutes=minutes)).strftime(STORE_TIME)
                    conn.execute(
                        "INSERT INTO sidebar_entries (source_id, key, title, link, published, "
                        "first_seen, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (source_id, link, title, link, when, when, when),
                    )
                    entries += 1
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return moved, entries


def make_store(args: argparse.Namespace) -> None:
    now = parse_moment(args.now)
    out = args.out.resolve()
    if out.exists() and not args.replace:
        raise SystemExit(f"compare_documents: {out} exists; pass --replace to overwrite it")
    folder = use_source(args.syndicate_src)
    from syndicate.config import load_config
    from syndicate.demo import generate_demo

    print(f"syndicate from {imported_from(folder)} ({describe(folder)})")
    with tempfile.TemporaryDirectory(prefix="syndicate-docs-") as temp:
        work = Path(temp) / "demo.db"
        config_text = args.config.read_text(encoding="utf-8")
        config = load_config(temp_config(args.config, work, Path(temp))[0])
        report = generate_demo(work, config, articles=args.articles, now=now, seed=args.seed)
        moved, entries = prepare_store(work, config_text, now)
        out.parent.mkdir(parents=True, exist_ok=True)
        for extra in (Path(f"{out}-wal"), Path(f"{out}-shm")):
            extra.unlink(missing_ok=True)
        partial = out.with_name(out.name + ".partial")
        shutil.copyfile(work, partial)
        partial.replace(out)
    print(
        f"store:    {out}: {report.articles:,} articles (seed {args.seed}, now {args.now}), "
        f"{moved} scheduled moved {SCHEDULED_SHIFT.days} days ahead, {entries} sidebar entries"
    )
    print(f"sha256:   {sha256_file(out)}")


# -- snapshot --------------------------------------------------------------------


def opml_feed_paths(opml: bytes) -> list[str]:
    return [
        urlsplit(url).path
        for outline in ET.fromstring(opml).iter("outline")
        if (url := outline.get("xmlUrl"))
    ]


def last_page(atom: bytes) -> int:
    """The page number of an Atom feed's rel="last" link (1 when it has none)."""
    with contextlib.suppress(ET.ParseError):
        for link in ET.fromstring(atom).iter(f"{ATOM}link"):
            if link.get("rel") == "last":
                page = parse_qs(urlsplit(link.get("href", "")).query).get("page", ["1"])[0]
                return int(page) if page.isdigit() else 1
    return 1


def feed_base(path: str) -> str:
    """/tags/x/feed.rss -> /tags/x/feed"""
    return path.rsplit(".", 1)[0]


def store_inventory(path: Path) -> tuple[list[str], list[str]]:
    """(feed bases of every author, tag and issue in the store, every article slug)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        bases = [f"/authors/{s}/feed" for (s,) in conn.execute("SELECT slug FROM authors")]
        bases += [f"/tags/{s}/feed" for (s,) in conn.execute("SELECT slug FROM tags")]
        bases += [f"/issues/{n}/feed" for (n,) in conn.execute("SELECT number FROM print_issues")]
        slugs = [s for (s,) in conn.execute("SELECT slug FROM articles ORDER BY slug")]
    finally:
        conn.close()
    return bases, slugs


class Recorder:
    """Requests documents through a TestClient and keeps one record per (URL, mode)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.count = 0

    async def request(
        self, url: str, mode: str, headers: dict[str, str], method: str = "GET"
    ) -> tuple[dict[str, Any], bytes]:
        async with self.client.request(
            method,
            url,
            headers=headers,
            skip_auto_headers=("Accept-Encoding", "User-Agent"),
            allow_redirects=False,
        ) as response:
            body = await response.read()
        self.count += 1
        record: dict[str, Any] = {"status": response.status}
        kept = {}
        for name in HEADERS:
            values = response.headers.getall(name, [])
            if values:
                kept[name] = values[0] if len(values) == 1 else values
        record["headers"] = kept
        record["bytes"] = len(body)
        record["sha256"] = hashlib.sha256(body).hexdigest()
        self.records.setdefault(url, {})[mode] = record
        return record, body

    async def document(self, url: str) -> bytes:
        """GET ``url`` in every mode; the identity body."""
        first, body = await self.request(url, "identity", {"Accept-Encoding": "identity"})
        gzipped, _ = await self.request(url, "gzip", {"Accept-Encoding": "gzip"})
        await self.request(url, "br", {"Accept-Encoding": "br"})
        if etag := first["headers"].get("ETag"):
            await self.request(
                url, "304", {"Accept-Encoding": "identity", "If-None-Match": str(etag)}
            )
        if etag := gzipped["headers"].get("ETag"):
            await self.request(
                url, "304-gzip", {"Accept-Encoding": "gzip", "If-None-Match": str(etag)}
            )
        if since := first["headers"].get("Last-Modified"):
            await self.request(
                url, "304-ims", {"Accept-Encoding": "identity", "If-Modified-Since": str(since)}
            )
        return body


async def crawl(app: Any, store_copy: Path, demo_feeds: Path | None) -> Recorder:
    from aiohttp.test_utils import TestClient, TestServer

    extra_bases, slugs = store_inventory(store_copy)
    async with TestClient(TestServer(app, host="127.0.0.1"), auto_decompress=False) as client:
        rec = Recorder(client)
        for url in ("/feeds", "/latest-news", "/latest-news.json", "/api/openapi.json"):
            await rec.document(url)
        await rec.request("/healthz", "identity", {"Accept-Encoding": "identity"})
        listed = opml_feed_paths(await rec.document("/feeds.opml"))
        bases = sorted({feed_base(p) for p in listed} | set(extra_bases))
        lasts: dict[str, int] = {}
        for base in bases:
            for fmt in FORMATS:
                body = await rec.document(f"{base}.{fmt}")
                if fmt == "atom":
                    lasts[base] = last_page(body)
            for page in range(2, lasts[base] + 1):
                for fmt in FORMATS:
                    await rec.document(f"{base}.{fmt}?page={page}")
        for slug in slugs:
            await rec.document(f"/articles/{slug}")
        if demo_feeds is not None and demo_feeds.is_dir():
            for file in sorted(demo_feeds.iterdir()):
                if file.is_file():
                    await rec.document(f"/demo-feeds/{file.name}")

        # Things that must not be found, or not be allowed.
        firsts = [next((b for b in bases if b.startswith(f"/{k}/")), None) for k in KINDS]
        for base in ["/feed", *(b for b in firsts if b)]:
            await rec.document(f"{base}.atom?page={lasts.get(base, 1) + 1}")
            await rec.document(f"{base}.rss?page=abc")
        for url in (
            "/feed.atom?page=0",
            "/feed.atom?page=1",
            "/feed.json?page=-1",
            "/feed.rss?page=99999999",
            "/feed.xml",
            "/sections/no-such-section/feed.atom",
            "/sections/no-such-section/feed.rss?page=2",
            "/authors/no-such-author/feed.json",
            "/tags/no-such-tag/feed.atom",
            "/issues/999999/feed.rss",
            "/issues/abc/feed.atom",
            "/articles/no-such-article",
            "/no-such-page",
        ):
            await rec.document(url)
        for url in ("/feed.atom", "/feeds.opml", "/latest-news", f"/articles/{slugs[0]}"):
            await rec.request(url, "post", {"Accept-Encoding": "identity"}, method="POST")
    return rec


def snapshot(args: argparse.Namespace) -> None:
    started = time.monotonic()
    now = parse_moment(args.now)
    store = args.store.resolve()
    if not store.is_file():
        raise SystemExit(f"compare_documents: no store file {store}")
    if not args.real_clock:
        freeze_clock(now.timestamp())
    folder = use_source(args.syndicate_src)
    from syndicate.config import load_config
    from syndicate.web.app import make_app

    where = imported_from(folder)
    print(f"syndicate from {where} ({describe(folder)})")
    clock = "real" if args.real_clock else f"frozen at {args.now}"
    print(f"clock:    {clock}")
    with tempfile.TemporaryDirectory(prefix="syndicate-docs-") as temp:
        copy = Path(temp) / "store" / store.name
        copy.parent.mkdir()
        for original in companions(store):
            shutil.copyfile(original, copy.parent / original.name)
        config_path, demo_feeds = temp_config(args.config, copy, Path(temp))
        config = load_config(config_path)
        app = make_app(config)
        rec = asyncio.run(crawl(app, copy, demo_feeds))
    took = time.monotonic() - started
    manifest = {
        "meta": {
            "syndicate": where,
            "revision": describe(folder),
            "store": str(store),
            "store_sha256": sha256_file(store, Path(f"{store}-wal")),
            "config": str(args.config.resolve()),
            "config_sha256": sha256_file(args.config),
            "clock": clock,
            "requests": rec.count,
            "urls": len(rec.records),
        },
        "requests": rec.records,
    }
    args.out.write_text(json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    statuses: dict[int, int] = {}
    for modes in rec.records.values():
        for record in modes.values():
            statuses[record["status"]] = statuses.get(record["status"], 0) + 1
    print(
        f"snapshot: {rec.count:,} requests for {len(rec.records):,} URLs in {took:.1f} s "
        f"(statuses: {', '.join(f'{s} x{n:,}' for s, n in sorted(statuses.items()))}) "
        f"-> {args.out}"
    )


# -- compare ---------------------------------------------------------------------


def differences(a: dict[str, Any], b: dict[str, Any]) -> Iterator[str]:
    """Each way record ``b`` differs from record ``a``."""
    if a["status"] != b["status"]:
        yield f"status {a['status']} -> {b['status']}"
    ha, hb = a["headers"], b["headers"]
    for name in sorted(set(ha) | set(hb)):
        if ha.get(name) != hb.get(name):
            yield f"header {name}: {ha.get(name, '(absent)')!r} -> {hb.get(name, '(absent)')!r}"
    if a["sha256"] != b["sha256"]:
        yield (
            f"body sha256 {a['sha256'][:16]} ({a['bytes']:,} bytes) -> "
            f"{b['sha256'][:16]} ({b['bytes']:,} bytes)"
        )


def compare(args: argparse.Namespace) -> int:
    a = json.loads(args.a.read_text(encoding="utf-8"))
    b = json.loads(args.b.read_text(encoding="utf-8"))
    for key in ("syndicate", "revision", "store_sha256", "config_sha256", "clock"):
        va, vb = a["meta"].get(key), b["meta"].get(key)
        note = "" if key in ("syndicate", "revision") else "  <- not a like-for-like run"
        print(f"{key:14} A {va}" + ("" if va == vb else f"\n{'':14} B {vb}{note}"))
    ra, rb = a["requests"], b["requests"]
    total = differ = 0
    for url in sorted(set(ra) | set(rb)):
        modes_a, modes_b = ra.get(url, {}), rb.get(url, {})
        for mode in sorted(set(modes_a) | set(modes_b)):
            total += 1
            if mode not in modes_a or mode not in modes_b:
                differ += 1
                print(f"{url} [{mode}]: missing in {'A' if mode not in modes_a else 'B'}")
                continue
            found = list(differences(modes_a[mode], modes_b[mode]))
            if found:
                differ += 1
                for line in found:
                    print(f"{url} [{mode}]: {line}")
    if differ:
        print(f"compare: {total:,} requests, {differ:,} differ")
        return 1
    print(f"compare: {total:,} requests, all identical")
    return 0


# -- main ------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--syndicate-src", type=Path, help="import syndicate from DIR/syndicate")
        p.add_argument("--config", type=Path, default=ROOT / "config.toml")
        p.add_argument("--now", default=DEMO_NOW, help=f"the demo's moment (default {DEMO_NOW})")

    make = sub.add_parser("make-store", help="write the fixed demo store")
    common(make)
    make.add_argument("--out", type=Path, required=True)
    make.add_argument("--articles", type=int, default=2400)
    make.add_argument("--seed", type=int, default=2094)
    make.add_argument("--replace", action="store_true")

    snap = sub.add_parser("snapshot", help="request every document, write a manifest")
    common(snap)
    snap.add_argument("--store", type=Path, required=True)
    snap.add_argument("--out", type=Path, required=True)
    snap.add_argument("--real-clock", action="store_true", help="do not freeze the clock")

    comp = sub.add_parser("compare", help="compare two manifests")
    comp.add_argument("a", type=Path)
    comp.add_argument("b", type=Path)

    args = parser.parse_args()
    if args.mode == "make-store":
        make_store(args)
    elif args.mode == "snapshot":
        snapshot(args)
    else:
        return compare(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
