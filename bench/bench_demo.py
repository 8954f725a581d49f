"""How fast `syndicate demo` fills a store, and how fast feeds read from it.

The demo is our only way to see the store at sizes no paper reaches, so this
measures both sides: the bulk writer (it must do a million articles in well
under two minutes) and :meth:`Store.latest` for every feed scope at that
size, which must stay one index walk however big the store grows.

    python bench/bench_demo.py --articles 1000000
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import machine  # noqa: E402

from syndicate.clock import SYSTEM  # noqa: E402
from syndicate.config import load_config  # noqa: E402
from syndicate.demo import generate_demo  # noqa: E402
from syndicate.store import Scope, Store  # noqa: E402


def time_latest(store: Store, scope: Scope, now: datetime, limit: int, runs: int) -> str:
    """Median and worst of ``runs`` calls; the first call warms the page cache."""
    store.latest(scope, now, limit)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        found = store.latest(scope, now, limit)
        samples.append(time.perf_counter() - started)
    median = statistics.median(samples) * 1000
    worst = max(samples) * 1000
    return f"{len(found):3d} articles  median {median:7.2f} ms  worst {worst:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--limit", type=int, default=50, help="articles per feed page")
    parser.add_argument("--runs", type=int, default=20, help="timed calls per scope")
    parser.add_argument("--config", type=Path, default=ROOT / "config.toml")
    args = parser.parse_args()

    config = load_config(args.config)
    now = SYSTEM.now().replace(microsecond=0)
    print(f"machine: {machine()}")
    folder = Path(tempfile.mkdtemp(prefix="syndicate-bench-"))
    try:
        path = folder / "demo.db"
        written = 0

        def progress(n: int) -> None:
            nonlocal written
            written += n

        report = generate_demo(path, config, articles=args.articles, now=now, progress=progress)
        assert written == report.articles
        size = path.stat().st_size
        print(
            f"generate: {report.articles:,} articles, {report.authors} authors, "
            f"{report.issues} issues, {report.tags} tags"
        )
        print(
            f"          {report.seconds:.1f} s, "
            f"{report.articles / report.seconds:,.0f} articles/s, "
            f"{size / 1e9:.2f} GB ({size / report.articles:,.0f} bytes/article)"
        )

        started = time.perf_counter()
        with Store.open(path) as store:
            opened = time.perf_counter() - started
            print(f"open:     {opened * 1000:.1f} ms (version {store.version})")
            conn = store.conn
            section = config.sections[0].slug if config.sections else ""
            # The busiest author and tag are the worst case for their index walks.
            author = conn.execute(
                "SELECT au.slug FROM article_authors JOIN authors AS au ON au.id = author_id "
                "GROUP BY author_id ORDER BY COUNT(*) DESC LIMIT 1"
            ).fetchone()[0]
            tag = conn.execute(
                "SELECT t.slug FROM article_tags JOIN tags AS t ON t.id = tag_id "
                "GROUP BY tag_id ORDER BY COUNT(*) DESC LIMIT 1"
            ).fetchone()[0]
            issue = conn.execute("SELECT MAX(issue) FROM articles").fetchone()[0]
            scopes = [
                Scope("site"),
                Scope("section", section),
                Scope("author", author),
                Scope("tag", tag),
                Scope("issue", str(issue)),
            ]
            for scope in scopes:
                label = f"{scope.kind}:{scope.key}" if scope.key else scope.kind
                timing = time_latest(store, scope, now, args.limit, args.runs)
                print(f"latest {label[:40]:40s} {timing}")
            # A deep page is the one case that must walk: OFFSET skips row by row.
            offset = args.articles // 2
            started = time.perf_counter()
            store.latest(Scope("site"), now, args.limit, offset=offset)
            elapsed = (time.perf_counter() - started) * 1000
            print(f"latest site at offset {offset:,}: {elapsed:.1f} ms")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
