"""What surrogate keys cost a response: the same answer with and without them, alternating.

    python bench/bench_keys.py

A 2,400-article demo store; each load path of bench_http.py built twice with
build_document, once with ``[cache] key_headers = ["xkey"]`` and once with
none (the default when no purge address is set). Then, alternating A and B in
many short rounds, the part of an answer that the keys can touch:
``web.Response`` made from the kept headers (what syndicate.web.respond.answer
does) and aiohttp's serialisation of the status line and headers (what it
writes to the socket). The figure is the median over rounds of (with keys -
without) per response. A 304 carries no keys, so it is measured as a check
that it costs nothing. Pure CPU in one process: steadier than wrk on a shared
machine, where bench_http.py's before/after figures drift by 10-20%.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from aiohttp.http_writer import _serialize_headers  # noqa: E402
from benchlib import machine, revision  # noqa: E402

from syndicate.catalog import FORMATS, feed_key  # noqa: E402
from syndicate.config import load_config  # noqa: E402
from syndicate.demo import generate_demo  # noqa: E402
from syndicate.documents.build import build_document  # noqa: E402
from syndicate.documents.rendered import Rendered  # noqa: E402
from syndicate.models import SITE, Scope  # noqa: E402
from syndicate.store import Store  # noqa: E402

ROUNDS = 40
PER_ROUND = 2000


def answer_cost(docs: list[Rendered], coding: str, not_modified: bool) -> float:
    """Seconds for PER_ROUND answers cycling over ``docs``: Response + header bytes."""
    heads = [d.head_for(coding, not_modified=not_modified) for d in docs]
    bodies = [b"" if not_modified else d.body_for(coding) for d in docs]
    count = len(docs)
    started = time.perf_counter()
    for i in range(PER_ROUND):
        k = i % count
        response = web.Response(body=bodies[k], headers=heads[k])
        _serialize_headers("HTTP/1.1 200 OK", response.headers)
    return time.perf_counter() - started


def main() -> None:
    print(f"machine:  {machine()}")
    print(f"revision: {revision()}")
    folder = Path(tempfile.mkdtemp(prefix="syndicate-keys-"))
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('path = "data/syndicate.db"', f'path = "{folder}/store.db"')
    (folder / "config.toml").write_text(text, encoding="utf-8")
    config = load_config(folder / "config.toml")
    now = datetime.now(UTC)
    generate_demo(config.store_path, config, articles=2400, now=now)
    bare = replace(config, cache=replace(config.cache, key_headers=()))
    config = replace(config, cache=replace(config.cache, key_headers=("xkey",)))
    with Store.open(config.store_path) as store:
        scopes = [SITE, Scope("section", "news")]
        scopes += [
            Scope(k, key)
            for k in ("author", "tag", "issue")
            for key, _, _ in store.directory(k)[:1]
        ]
        keys = [feed_key(s, f) for s in scopes for f in FORMATS]
        with_keys = [build_document(config, store, k, now) for k in keys]
        without = [build_document(bare, store, k, now) for k in keys]
    sizes = [len(d.headers.get("xkey", "")) for d in with_keys]
    print(
        f"feeds:    {len(keys)} (site, a section, author, tag, issue x 3 formats); xkey header "
        f"{min(sizes)}-{max(sizes)} bytes, median {statistics.median(sizes):.0f}"
    )
    for label, coding, not_modified in (
        ("plain 200", "identity", False),
        ("gzip 200", "gzip", False),
        ("304", "gzip", True),
    ):
        a_times, b_times = [], []
        for r in range(ROUNDS):
            pair = [(with_keys, a_times), (without, b_times)]
            for docs, out in pair if r % 2 else reversed(pair):
                out.append(answer_cost(docs, coding, not_modified) / PER_ROUND * 1e6)
        extra = statistics.median(a - b for a, b in zip(a_times, b_times, strict=True))
        print(
            f"  {label:9s} with keys {statistics.median(a_times):6.2f} us, without "
            f"{statistics.median(b_times):6.2f} us: +{extra:.2f} us per response"
        )


if __name__ == "__main__":
    main()
