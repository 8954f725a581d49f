"""What counting subscribers costs a feed request: the handler with and without it.

    python bench/bench_subscribers.py --base /tmp/base [--requests 20000 --rounds 9]

bench_http.py measures whole servers under wrk, which on a shared 2-core
machine moves by more than this change could. This one times the feed
handler alone, in one process: the handler of ``syndicate/web/feeds.py`` as it
is here (with the set insertion of subscriber counting) and the one from an
older checkout (``--base``, e.g. ``git worktree add /tmp/base <commit>``),
loaded from its file against this checkout's modules. Both answer the same
warm cache hit for /feed.atom, each request a fresh aiohttp request object
(new path and User-Agent strings, as from the wire), alternating round by
round. Time is this thread's CPU time (time.thread_time), so moments when
other processes hold the CPU are not counted; the figure is the fastest round
of each, in CPU microseconds per request, and their difference.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer, make_mocked_request  # noqa: E402
from benchlib import machine, revision  # noqa: E402

from syndicate.config import load_config  # noqa: E402
from syndicate.demo import generate_demo  # noqa: E402
from syndicate.web import feeds  # noqa: E402
from syndicate.web.app import make_app  # noqa: E402
from syndicate.web.subscribers import SUBSCRIBERS  # noqa: E402

AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


class Transport:
    """What aiohttp asks of a transport for the client's address (a mock's answer costs
    far more to turn into a string than a real socket's tuple)."""

    def __init__(self, address: str) -> None:
        self.peer = (address, 40000)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peer if name == "peername" else default


def base_feeds(base: Path) -> Any:
    spec = importlib.util.spec_from_file_location("base_feeds", base / "syndicate/web/feeds.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def rounds(args: argparse.Namespace, folder: Path) -> None:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('path = "data/syndicate.db"', f'path = "{folder}/store.db"')
    (folder / "config.toml").write_text(text, encoding="utf-8")
    config = load_config(folder / "config.toml")
    generate_demo(config.store_path, config, articles=200, now=datetime.now(UTC))
    app = make_app(config)
    async with TestClient(TestServer(app)) as client:
        warm = await client.get("/feed.atom")
        assert warm.status == 200
        seen = app[SUBSCRIBERS].seen
        handlers = {
            "with counting": feeds._handler("site", seen),
            "without (base)": base_feeds(args.base)._handler("site"),
        }
        best: dict[str, float] = dict.fromkeys(handlers, float("inf"))
        for r in range(args.rounds):
            for name in handlers if r % 2 == 0 else reversed(list(handlers)):
                made = [
                    make_mocked_request(
                        "GET",
                        "/feed" + ".atom",
                        headers={"User-Agent": AGENT[: 60 + i % 5], "Accept-Encoding": "gzip"},
                        app=app,
                        transport=Transport(f"192.0.2.{i % 250}"),
                    )
                    for i in range(args.requests)
                ]
                for request in made:
                    request.match_info.update({"fmt": "atom"})
                handle = handlers[name]
                started = time.thread_time()
                for request in made:
                    await handle(request)
                took = (time.thread_time() - started) / args.requests * 1e6
                best[name] = min(best[name], took)
                seen.clear()
                print(f"  round {r + 1} {name:15} {took:6.2f} us/request", flush=True)
    print()
    for name, took in best.items():
        print(f"{name:15} best round {took:6.2f} us/request")
    extra = best["with counting"] - best["without (base)"]
    print(f"difference      {extra:+6.2f} us/request ({extra / best['without (base)']:+.1%})")


async def measured(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="syndicate-subs-"))
    try:
        await rounds(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="an older checkout")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    print(f"machine:  {machine()}")
    print(f"revision: {revision()} against {args.base}")
    print(f"loadavg:  {Path('/proc/loadavg').read_text().strip()} (before the run)")
    asyncio.run(measured(args))


if __name__ == "__main__":
    main()
