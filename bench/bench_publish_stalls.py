"""Where a publish's slow feed requests fall: per publish, the slowest and when.

    python bench/bench_publish_stalls.py --subscribers 1000 --publishes 6
    python bench/bench_publish_stalls.py --subscribers 0 --publishes 12

bench_websub.py's setup (the demo store, `syndicate serve --workers 2`, a
subscriber process, 200 gzip feed requests/s throughout), then
``--subscribers`` subscribers of /feed.atom (0: none, the publish alone) and
``--publishes`` articles through the API, two seconds apart. For each
publish: the first and last delivery after the 201, the p99 of the requests
begun in the 0.8 s after it (or until the last delivery), and the five
slowest with how long after the 201 each began. A stall shows as several
slow requests begun together; their offset against the first delivery tells
a rebuild (before it) from the push (after it). This is how the stalls of
issue 13 were found (README, WebSub).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_websub import Bench
from benchlib import machine, revision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--publishes", type=int, default=6)
    args = parser.parse_args()
    print(f"machine:  {machine()}")
    print(f"revision: {revision()}")
    folder = Path(tempfile.mkdtemp(prefix="syndicate-stalls-"))
    bench = Bench(folder, 200.0, None)
    names = [f"s{i}" for i in range(args.subscribers)]
    try:
        bench.setup()
        atom = f"{bench.root}/feed.atom"
        if names:
            asyncio.run(bench.subscribe([(atom, n) for n in names]))
        time.sleep(15)  # the leader's census: changes are reported once it is done
        for i in range(args.publishes):
            started = bench.put(f"stall-{i}", ["bench-other"])
            if names:
                times = bench.arrivals(started, set(names))
                first, end = f"{times[0] - started:.3f}", times[-1]
                last = f"{end - started:.3f}"
            else:
                first = last = "-"
                end = started + 0.8
                time.sleep(1.0)
            time.sleep(0.3)
            rows = []
            for line in (folder / "load.txt").read_text().splitlines():
                began, ms = (float(x) for x in line.split())
                if started <= began <= max(end, started + 0.8):
                    rows.append((ms, began - started))
            p99 = statistics.quantiles([r[0] for r in rows], n=100)[98] if len(rows) > 1 else 0
            slow = ", ".join(f"{ms:.0f} ms at +{at:.2f} s" for ms, at in sorted(rows)[::-1][:5])
            print(
                f"publish {i:>2}: first delivery {first} s, last {last} s; "
                f"p99 {p99:.1f} ms of {len(rows)}; slowest: {slow}",
                flush=True,
            )
            time.sleep(1.5)
    finally:
        bench.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
