"""What a digest costs: freezing an edition, and building its feed and pages.

    python bench/bench_digest.py                   # 100,000-article demo store
    python bench/bench_digest.py --articles 2400   # the demo's usual size

On a demo store (made with generate_demo in a temp dir) it times, as medians
of ``--runs`` calls, each beside the site's own Atom feed built the same way
in the same run (the reference: what any change to the store already costs):

* the period's query (``period_articles``: one walk down the articles index);
* composing one edition of 30 articles (HTML summary, email page, plain text);
* freezing it (compose and the INSERT, in its own transaction);
* a digest feed page (10 editions of 30 articles) in each format, and one edition page.

The clerk freezes one edition per digest per cut-off, so the freeze is paid
once a day; the feed is rebuilt only when an edition is added.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import machine, revision  # noqa: E402

from syndicate.catalog import edition_key, feed_key  # noqa: E402
from syndicate.clock import SYSTEM  # noqa: E402
from syndicate.config import load_config  # noqa: E402
from syndicate.cutoffs import cutoffs_until, previous_cutoff  # noqa: E402
from syndicate.demo import generate_demo  # noqa: E402
from syndicate.documents.build import build_document  # noqa: E402
from syndicate.documents.editions import compose  # noqa: E402
from syndicate.models import SITE, Scope  # noqa: E402
from syndicate.store import Store  # noqa: E402
from syndicate.store.digests import freeze, period_articles  # noqa: E402


def median_ms(call: Callable[[], object], runs: int) -> float:
    call()  # warm: page cache, kept entries
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--config", type=Path, default=ROOT / "config.toml")
    args = parser.parse_args()
    config = load_config(args.config)
    digest = config.digests[0]
    now = SYSTEM.now().replace(microsecond=0)
    print(f"machine: {machine()}")
    print(f"revision: {revision()}; {args.articles:,} articles; medians of {args.runs} runs")
    folder = Path(tempfile.mkdtemp(prefix="syndicate-bench-"))
    try:
        path = folder / "demo.db"
        generate_demo(path, config, articles=args.articles, now=now)
        with Store.open(path) as store:
            site = median_ms(
                lambda: build_document(
                    config, store, feed_key(SITE, "atom"), now, compressed=False
                ),
                args.runs,
            )
            print(f"reference: site Atom feed, 50 items, uncompressed: {site:.2f} ms")
            cut = cutoffs_until(digest, now, 1)[0]
            start = cut.at - timedelta(days=30)  # a wide period: always 30 articles
            found = period_articles(store, start, cut.at, digest.sections, digest.max_articles)
            query = median_ms(
                lambda: period_articles(store, start, cut.at, digest.sections, 30), args.runs
            )
            made = median_ms(lambda: compose(config, digest, cut, start, found), args.runs)
            print(f"period query (30 articles): {query:.2f} ms ({query / site:.2f}x the reference)")
            print(f"compose one edition of {len(found)}: {made:.2f} ms ({made / site:.2f}x)")
            cuts = cutoffs_until(digest, now, args.runs + 51)
            kept = iter(cuts)

            def freeze_one() -> None:
                one = next(kept)
                edition = compose(config, digest, one, previous_cutoff(digest, one).at, found)
                freeze(store, edition, now)

            frozen = median_ms(freeze_one, args.runs)
            for _ in range(50):  # more than a page of editions for the feed
                freeze_one()
            print(f"freeze one edition (compose + write): {frozen:.2f} ms ({frozen / site:.2f}x)")
            scope = Scope("digest", digest.slug)
            for fmt in ("atom", "rss", "json"):
                size = len(build_document(config, store, feed_key(scope, fmt), now).body)
                took = median_ms(
                    lambda fmt=fmt: build_document(  # type: ignore[misc]
                        config, store, feed_key(scope, fmt), now, compressed=False
                    ),
                    args.runs,
                )
                print(
                    f"digest feed page, {fmt}, {size:,} bytes: {took:.2f} ms ({took / site:.2f}x)"
                )
            page = edition_key(digest.slug, cuts[0].edition.isoformat())
            took = median_ms(lambda: build_document(config, store, page, now), args.runs)
            print(f"edition page, compressed: {took:.2f} ms ({took / site:.2f}x)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
