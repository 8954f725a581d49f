"""The shipped caches in front of syndicate, warm, against nginx serving the same bytes as files.

    python bench/bench_front.py --duration 5 --rounds 4

One run, in a temp dir: a demo store, `syndicate serve --workers 1`, and in
front of it deploy/nginx/syndicate.conf and deploy/varnish/default.vcl exactly
as shipped (only the origin's address, the port and the cache folder replaced,
as tests/test_front_caches.py does; varnishd with -p http_gzip_support=off as
the VCL says), and a reference nginx serving the bytes syndicate sent as
static files (gzip_static, etag), with as many workers as the caching nginx
(one per core, Debian's "auto"; --nginx-workers).
Every front is checked first (identical bytes and gzip bytes, a 304 for its
ETag, a cache hit on the second request), then each mode (plain 200, gzip 200,
304) is loaded with wrk, the three servers in a different order each round;
the verdict per mode is the median of the rounds' own front/static ratios,
and beside it the ratio of server CPU per request (static's / the front's),
which the other jobs of a shared machine move less.
Requests that reach the origin during the load are counted from its /metrics.

Needs wrk, nginx, varnish and varnish-modules (Debian). Loopback only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_http as bh  # noqa: E402
from benchlib import children_of, free_port, machine, revision  # noqa: E402

from syndicate.config import load_config  # noqa: E402
from syndicate.demo import generate_demo  # noqa: E402
from tests.fronts import Front, Origin, binary, start_nginx, start_varnish  # noqa: E402

MODES = ("plain", "gzip", "304")
FRONTS = ("nginx-cache", "varnish")
SERVERS = ("static", *FRONTS)
ORDERS = (
    ("static", "nginx-cache", "varnish"),
    ("varnish", "static", "nginx-cache"),
    ("nginx-cache", "varnish", "static"),
)
#: The issue's figures, from hand-made configs in front of syndicate (plain / gzip / 304).
HAND_MADE = {"nginx-cache": (1.11, 0.62, 0.56), "varnish": (0.97, 0.76, 0.40)}

STATIC_CONF = """\
daemon off;
master_process on;
worker_processes {workers};
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{
        application/atom+xml atom;
        application/rss+xml rss;
        application/feed+json json;
    }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types application/atom+xml application/rss+xml application/feed+json;
    access_log off;
    sendfile on;
    tcp_nopush off;
    keepalive_requests 1000000;
    etag on;
    gzip_static on;
    gzip_vary on;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/root;
    }}
}}
"""


def as_server(front: Front) -> bh.Server:
    """bench_http's view of a process (for wrk and CPU accounting), children included."""
    server = bh.Server(front.name, front.port, front.proc, front.log)
    server.workers = children_of(front.proc.pid)
    return server


def is_hit(name: str, reply: bh.Reply) -> bool:
    if name == "varnish":
        return len(reply.headers.get("x-varnish", "").split()) == 2
    if name == "nginx-cache":
        return reply.headers.get("x-cache-status") == "HIT"
    return True


def check(
    name: str, server: bh.Server, paths: list[str], reference: dict[str, bytes]
) -> dict[str, str]:
    """Warm every coding (twice), then bytes, gzip, 304 and a hit, as bench_http verifies."""
    for path in paths:
        for coding in ("identity", "gzip", "br"):
            headers = {} if coding == "identity" else {"Accept-Encoding": coding}
            for _ in range(2):
                reply = bh.get(server.port, path, headers)
                if reply.status != 200:
                    bh.fail(f"{name} {path} ({coding}): HTTP {reply.status}")
            if not is_hit(name, reply):
                bh.fail(
                    f"{name} {path} ({coding}): not a cache hit the second time: {reply.headers}"
                )
    return bh.verify(server, paths, reference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2400)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--config", type=Path, default=ROOT / "config.toml")
    parser.add_argument(
        "--nginx-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes of both nginx (Debian's 'auto': one per core); Varnish's "
        "threads use every core anyway",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    for tool in ("wrk", "nginx", "varnishd"):
        if binary(tool) is None:
            parser.error(f"{tool} not found (apt-get install -y wrk nginx varnish varnish-modules)")

    print(f"machine:  {machine()}")
    print(f"revision: {revision()}")
    print(f"loadavg:  {Path('/proc/loadavg').read_text().strip()} (before the run)")
    print(
        f"load:     wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency, "
        f"{args.rounds} rounds per mode, servers in turn; syndicate 1 worker, "
        f"nginx {args.nginx_workers} worker(s)"
    )
    folder = Path(tempfile.mkdtemp(prefix="syndicate-front-"))
    folder.chmod(0o755)
    origin: Origin | None = None
    fronts: list[Front] = []
    static: bh.Server | None = None
    try:
        port = free_port()
        config_path = folder / "config.toml"
        config_path.write_text(
            bh.bench_config(args.config.read_text(encoding="utf-8"), "data/syndicate.db", port),
            encoding="utf-8",
        )
        config = load_config(config_path)
        report = generate_demo(
            config.store_path, config, articles=args.articles, now=datetime.now(UTC)
        )
        print(f"store:    {report.articles:,} articles made in {report.seconds:.1f} s")
        origin = Origin(config_path, port)
        origin.start()
        listed = bh.opml_paths(bh.get(port, "/feeds.opml").body)
        paths = bh.pick_load_paths(listed)
        print(f"feeds:    under load: {', '.join(paths)}")

        reference: dict[str, bytes] = {}
        site = folder / "root"
        for path in paths:
            plain = bh.get(port, path)
            packed = bh.get(port, path, {"Accept-Encoding": "gzip"})
            reference[path] = plain.body
            target = site / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(plain.body)
            target.with_name(target.name + ".gz").write_bytes(packed.body)
        (folder / "tmp").mkdir()
        for dirpath, _, _ in os.walk(folder):
            Path(dirpath).chmod(0o755)

        static_port = free_port()
        (folder / "nginx.conf").write_text(
            STATIC_CONF.format(
                workers=args.nginx_workers, user=bh.nginx_user(), dir=folder, port=static_port
            )
        )
        nginx_bin = binary("nginx") or "nginx"
        argv = [nginx_bin, "-p", str(folder), "-c", str(folder / "nginx.conf")]
        argv += ["-e", str(folder / "error.log")]
        static = bh.start("static", argv, static_port, folder / "static.log")
        static.wait_ready(paths[0])
        static.find_workers(args.nginx_workers)

        fronts.append(start_nginx(folder / "nginx-cache", port, workers=args.nginx_workers))
        fronts[-1].name = "nginx-cache"
        fronts.append(start_varnish(folder / "varnish", port, memory="256m"))
        servers = {"static": static, **{f.name: as_server(f) for f in fronts}}
        etags = {name: check(name, s, paths, reference) for name, s in servers.items()}
        print("verified: all three send identical bytes, gzip bytes and 304s; fronts hit")

        results: dict[str, dict[str, list[bh.Sample]]] = {
            m: {n: [] for n in SERVERS} for m in modes
        }
        origin_hits: dict[str, float] = {}
        for mode in modes:
            before = origin.metric("syndicate_feed_responses_total")
            for r in range(args.rounds):
                for name in ORDERS[r % len(ORDERS)]:
                    server = servers[name]
                    script = folder / f"{name}-{mode}.lua"
                    script.write_text(bh.lua_script(server.port, paths, mode, etags[name]))
                    sample = bh.run_wrk(args, server, script)
                    results[mode][name].append(sample)
                    print(
                        f"  {mode:5s} round {r + 1} {name:11s} {sample.rps:9.0f} req/s  "
                        f"p50 {sample.p50:6.2f} ms  p99 {sample.p99:6.2f} ms  "
                        f"cpu {sample.cpu_us:5.1f} us/req  others {sample.others:.2f} cores",
                        flush=True,
                    )
            origin_hits[mode] = origin.metric("syndicate_feed_responses_total") - before

        print("\nresults (median of rounds; ratio = median of each round's front/static)")
        print(
            f"  {'mode':5s} {'server':11s} {'req/s':>9s} {'p99 ms':>8s} {'cpu us':>7s} "
            f"{'ratio':>6s} {'issue':>6s} {'by cpu':>6s}"
        )
        for mode in modes:
            statics = results[mode]["static"]
            for name in SERVERS:
                samples = results[mode][name]
                rps = statistics.median(s.rps for s in samples)
                p99 = statistics.median(s.p99 for s in samples)
                cpu = statistics.median(s.cpu_us for s in samples)
                if name == "static":
                    ratio = issue = by_cpu = ""
                else:
                    by_cpu = f"{statistics.median(s.cpu_us for s in statics) / cpu:.2f}x"
                    paired = statistics.median(
                        a.rps / b.rps for a, b in zip(samples, statics, strict=True)
                    )
                    ratio = f"{paired:.2f}x"
                    issue = f"{HAND_MADE[name][MODES.index(mode)]:.2f}x"
                print(
                    f"  {mode:5s} {name:11s} {rps:9.0f} {p99:8.2f} {cpu:7.1f} "
                    f"{ratio:>6s} {issue:>6s} {by_cpu:>6s}"
                )
            reached = origin_hits[mode]
            print(f"  {mode:5s} requests that reached syndicate during the load: {reached:.0f}")
    finally:
        for front in reversed(fronts):
            front.stop()
        if static is not None:
            static.stop()
        if origin is not None:
            origin.stop()
        time.sleep(0.1)
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
