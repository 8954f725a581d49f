"""Cold build time of one feed page at 10,000 and at 1,000,000 articles, and compression levels.

    python bench/bench_build.py                         # 10k and 1M, 50 repetitions
    python bench/bench_build.py --sizes 10000 --reps 20 # quick look

A cold build is what a worker does when a feed is not in its cache: the
store query, the render and the hashing, i.e.
``syndicate.documents.feeds.build_feed(config, store, feed_key(scope, fmt), now)``,
called directly (no feed cache) many times. Two kinds are timed:

* rebuild: the feed is not cached, but the entries of its articles are
  (syndicate.formats.fragments keeps each article's cleaned entry and its XML,
  since one article sits in a dozen feeds). This is what every change to the
  store costs, and what the targets are checked against.
* from nothing: every kept entry is dropped first (``render.forget()``), as
  in a worker that has just started. It happens once per article per
  process, and is reported beside the rebuild.

Both are timed for the site, a section, the busiest author, the busiest tag
and a full recent print issue, in every format, with the query (``collect``)
and the render timed apart as well, so a slow build says where its time
goes. Each store is made with generate_demo in a temp dir (1M takes about a
minute).

Then gzip levels and brotli qualities are timed on the site Atom feed, so
GZIP_LEVEL and BROTLI_QUALITY in syndicate/web/cache.py rest on figures.

Targets (issue): a plain-bytes cold build <= 5 ms at 1M articles, and the
1M/10k ratio <= 1.5.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import gzip
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parent.parent


def source() -> Path:
    """--syndicate-src DIR, read before the imports below, which it redirects."""
    for index, arg in enumerate(sys.argv):
        if arg == "--syndicate-src" and index + 1 < len(sys.argv):
            return Path(sys.argv[index + 1]).resolve()
        if arg.startswith("--syndicate-src="):
            return Path(arg.split("=", 1)[1]).resolve()
    return ROOT


sys.path.insert(0, str(source()))

from benchlib import machine, revision  # noqa: E402

from syndicate.config import Config, load_config  # noqa: E402
from syndicate.demo import generate_demo  # noqa: E402
from syndicate.store import SITE, Scope, Store  # noqa: E402

try:  # the documents layer (since the catalog and change-door restructuring)
    from syndicate.catalog import feed_key as FeedKey
    from syndicate.documents import rendered as web_cache
    from syndicate.documents.feeds import build_feed, collect, parse_format
    from syndicate.formats.render import forget, render
except ImportError:  # an older checkout given with --syndicate-src, to compare with
    from syndicate.build.render import forget, render  # type: ignore[no-redef]
    from syndicate.web.cache import FeedKey  # type: ignore[no-redef]
    from syndicate.web.feedspecs import collect, parse_format  # type: ignore[no-redef]

    from syndicate.web import cache as web_cache  # type: ignore[no-redef]
    from syndicate.web.feeds import build_feed  # type: ignore[no-redef]

FORMATS = ("atom", "rss", "json")
GZIP_LEVELS = (1, 5, 6, 9)
BROTLI_QUALITIES = (1, 4, 5, 6, 8, 11)
TARGET_MS = 5.0
TARGET_RATIO = 1.5


def samples(fn: Callable[[], object], reps: int, cpu: list[float] | None = None) -> list[float]:
    """Wall milliseconds of ``reps`` calls (after one untimed call, which warms SQLite's pages).

    With ``cpu``, the thread's CPU milliseconds of each call are appended to
    it too: on a machine shared with other work, wall time includes the
    moments this process waited for a core, CPU time does not.
    """
    fn()
    out = []
    for _ in range(reps):
        started, started_cpu = time.perf_counter(), time.thread_time()
        fn()
        out.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - started_cpu) * 1000)
    return out


def cold_samples(fn: Callable[[], object], reps: int) -> list[float]:
    """Wall milliseconds of ``reps`` calls, each after every kept entry was dropped."""
    out = []
    for _ in range(reps):
        forget()
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def scopes_of(store: Store, config: Config) -> dict[str, Scope]:
    """Site, the first section, the busiest author and tag, a full recent issue."""
    conn = store.conn
    author = conn.execute(
        "SELECT au.slug FROM article_authors JOIN authors AS au ON au.id = author_id "
        "GROUP BY author_id ORDER BY COUNT(*) DESC LIMIT 1"
    ).fetchone()[0]
    tag = conn.execute(
        "SELECT t.slug FROM article_tags JOIN tags AS t ON t.id = tag_id "
        "GROUP BY tag_id ORDER BY COUNT(*) DESC LIMIT 1"
    ).fetchone()[0]
    # The fullest of the newest issues (the current week's may hold only a few).
    issue = conn.execute(
        "SELECT issue FROM (SELECT issue FROM articles WHERE issue IS NOT NULL "
        "ORDER BY issue DESC LIMIT 200) GROUP BY issue ORDER BY COUNT(*) DESC, issue DESC LIMIT 1"
    ).fetchone()[0]
    return {
        "site": SITE,
        "section": Scope("section", config.sections[0].slug),
        "author": Scope("author", author),
        "tag": Scope("tag", tag),
        "issue": Scope("issue", str(issue)),
    }


@dataclass(frozen=True)
class Row:
    first: float  # ms, the first build on a freshly opened store
    cold: float  # ms, median wall of builds with no entry kept
    median: float  # ms, wall (rebuilds: entries kept)
    p95: float  # ms, wall
    cpu: float  # ms, median thread CPU time
    query: float  # ms, median of collect()
    render: float  # ms, median of render()
    size: int  # bytes
    items: int  # entries in the feed


def time_store(
    config: Config, store: Store, now: datetime, reps: int
) -> dict[tuple[str, str], Row]:
    results: dict[tuple[str, str], Row] = {}
    for name, scope in scopes_of(store, config).items():
        for fmt in FORMATS:
            key = FeedKey(scope, fmt)
            started = time.perf_counter()
            body = build_feed(config, store, key, now).body
            first = (time.perf_counter() - started) * 1000
            cpu: list[float] = []
            cold = cold_samples(lambda key=key: build_feed(config, store, key, now), reps)
            whole = samples(lambda key=key: build_feed(config, store, key, now), reps, cpu)
            feed_format = parse_format(fmt)
            built = collect(config, store, scope, feed_format, 1, now)
            query = samples(
                lambda s=scope, f=feed_format: collect(config, store, s, f, 1, now), reps
            )
            rendering = samples(
                lambda b=built, f=feed_format, s=scope: render(
                    f, b.spec, b.articles, enclosures=s.kind == "issue"
                ),
                reps,
            )
            row = Row(
                first=first,
                cold=statistics.median(cold),
                median=statistics.median(whole),
                p95=p95(whole),
                cpu=statistics.median(cpu),
                query=statistics.median(query),
                render=statistics.median(rendering),
                size=len(body),
                items=len(built.articles),
            )
            results[(name, fmt)] = row
            label = f"{name}:{scope.key}" if scope.key else name
            print(
                f"  {label[:24]:24s} {fmt:4s} first {first:6.2f}  from nothing {row.cold:6.2f}"
                f"  rebuild {row.median:6.2f}"
                f"  p95 {row.p95:6.2f}  cpu {row.cpu:6.2f}  (query {row.query:5.2f}"
                f" + render {row.render:5.2f})  {row.items} items, {row.size:,} bytes",
                flush=True,
            )
    return results


def compression_table(body: bytes, reps: int) -> None:
    print(
        f"\ncompression of the site Atom feed ({len(body):,} bytes), median of {reps}; "
        f"syndicate uses gzip {web_cache.GZIP_LEVEL}, brotli {web_cache.BROTLI_QUALITY}"
    )
    print(f"  {'coding':12s} {'bytes':>9s} {'ratio':>6s} {'ms':>8s}")
    rows: list[tuple[str, Callable[[], bytes], bool]] = []
    for level in GZIP_LEVELS:
        rows.append(
            (
                f"gzip -{level}",
                lambda lv=level: gzip.compress(body, compresslevel=lv, mtime=0),
                level == web_cache.GZIP_LEVEL,
            )
        )
    for quality in BROTLI_QUALITIES:
        rows.append(
            (
                f"br q{quality}",
                lambda q=quality: bytes(brotli.compress(body, quality=q)),
                quality == web_cache.BROTLI_QUALITY,
            )
        )
    for label, fn, chosen in rows:
        packed = fn()
        ms = statistics.median(samples(fn, reps))
        mark = "  <- syndicate" if chosen else ""
        print(f"  {label:12s} {len(packed):9,d} {len(body) / len(packed):6.2f} {ms:8.2f}{mark}")


def profile_build(config: Config, store: Store, now: datetime, reps: int) -> None:
    key = FeedKey(SITE, "atom")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(reps):
        build_feed(config, store, key, now)
    profiler.disable()
    print(f"\ncProfile of {reps} site Atom builds, top 25 by own time:")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated article counts")
    parser.add_argument("--reps", type=int, default=50, help="timed builds per scope and format")
    parser.add_argument("--compress-reps", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="cProfile site Atom builds")
    parser.add_argument("--config", type=Path, default=ROOT / "config.toml")
    parser.add_argument(
        "--syndicate-src",
        type=Path,
        help="import syndicate from this folder (holding a syndicate/ package) instead, "
        "e.g. a scratch copy with a fix to measure",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]

    config = load_config(args.config)
    now = datetime.now(UTC).replace(microsecond=0)
    print(f"machine: {machine()}")
    print(f"revision: {revision()} (git describe of {ROOT})")
    if args.syndicate_src:
        print(f"source:  {Path(sys.modules['syndicate'].__file__ or '').parent}")
    print(f"builds:  build_feed(config, store, FeedKey(scope, fmt), now), {args.reps} reps, ms")
    print(f"loadavg: {Path('/proc/loadavg').read_text().strip()} (other work skews wall times)")
    folder = Path(tempfile.mkdtemp(prefix="syndicate-build-"))
    by_size: dict[int, dict[tuple[str, str], Row]] = {}
    site_atom = b""
    try:
        for size in sizes:
            path = folder / f"demo-{size}.db"
            report = generate_demo(path, config, articles=size, now=now)
            print(f"\n{report.articles:,} articles (made in {report.seconds:.1f} s)")
            # Making a million articles leaves this process a heap no server
            # has; collected now, its garbage does not slow the first timings
            # with full collections (seen: 3.5 ms builds that take 2.0).
            gc.collect()
            with Store.open(path, create=False) as store:
                by_size[size] = time_store(config, store, now, args.reps)
                if not site_atom:
                    site_atom = build_feed(config, store, FeedKey(SITE, "atom"), now).body
                if args.profile and size == sizes[-1]:
                    profile_build(config, store, now, args.reps)
            path.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    small, large = sizes[0], sizes[-1]
    if len(sizes) > 1:
        print(
            f"\nsummary: rebuild, median wall ms (p95) [median CPU ms] at {small:,} and "
            f"{large:,} articles; targets: <= {TARGET_MS:g} ms at {large:,}, ratio <= "
            f"{TARGET_RATIO:g}; then the build from nothing (no entry kept), median wall ms"
        )
        print(
            f"  {'scope':8s} {'format':6s} {small:>22,d} {large:>24,d} {'ratio':>6s} {'cpu':>5s}"
            f"        {'from nothing':>12s} {small:>8,d} {large:>9,d} {'ratio':>6s}"
        )
        misses = 0
        for (name, fmt), row in by_size[large].items():
            base = by_size[small][(name, fmt)]
            ratio, cpu_ratio = row.median / base.median, row.cpu / base.cpu
            # Ratios compare like with like only when both feeds hold as many entries.
            same = row.items == base.items
            ok = row.median <= TARGET_MS and (ratio <= TARGET_RATIO or not same)
            misses += not ok
            note = "" if same else f"  (ratio n/a: {base.items} vs {row.items} items)"
            print(
                f"  {name:8s} {fmt:6s} {base.median:6.2f} ({base.p95:5.2f}) [{base.cpu:5.2f}] "
                f"{row.median:7.2f} ({row.p95:6.2f}) [{row.cpu:5.2f}] {ratio:6.2f} "
                f"{cpu_ratio:5.2f}   {'ok' if ok else 'MISS'}"
                f"                {base.cold:8.2f} {row.cold:9.2f} "
                f"{row.cold / base.cold:6.2f}{note}"
            )
        print(f"  {misses} of {len(by_size[large])} scope/format rebuilds miss a target")
        slow = [f"{n} {f}" for (n, f), row in by_size[large].items() if row.cold > TARGET_MS]
        print(
            f"  from nothing: {len(slow)} of {len(by_size[large])} over {TARGET_MS:g} ms at "
            f"{large:,}" + (f" ({', '.join(slow)})" if slow else "")
        )
    compression_table(site_atom, args.compress_reps)


if __name__ == "__main__":
    main()
