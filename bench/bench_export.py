"""`syndicate export`: a whole export, what one publish rewrites, and nginx serving it.

    .venv/bin/python bench/bench_export.py                      # the 2,400-article demo
    .venv/bin/python bench/bench_export.py --articles 1000000 --export-only --stop-after 600

1. Makes a demo store (`generate_demo`) in a temp dir and runs
   `syndicate export DIR` as a child process: wall time, documents, files,
   bytes on disk, and the child's peak memory (VmHWM, sampled, and
   ru_maxrss). `--stop-after S` stops the export after S seconds and reports
   the rate so far (for stores whose full export would not fit the disk or
   the time at hand; the figures then say "partial").
2. Starts `syndicate export DIR --watch`, publishes one article (a second
   connection, as the CMS would) three times, and reads what the exporter
   prints: files rewritten and the time from the commit to the last file.
3. nginx serving the export with deploy/nginx/export.conf, against nginx
   serving the same bytes as plain static files (gzip_static for the gzip
   mode), one worker each, the same sendfile, tcp_nopush off,
   open_file_cache and keepalive settings; wrk on the heads of five feeds
   (site, a section, an author, a tag, an issue) and a closed archive month,
   in three formats; modes 200, gzip and 304; rounds alternate which server
   goes first, and each round's ratio (export / static) is taken back to
   back. Target: at least 0.9x in every mode.

Needs `wrk` and `nginx` (apt-get install -y wrk nginx). Loopback only.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_http import bench_config, cpu_seconds, lua_script, nginx_user, parse_wrk  # noqa: E402
from benchlib import children_of, free_port, machine, revision, status_kb  # noqa: E402

from syndicate.catalog import FORMATS, archive_path, feed_path  # noqa: E402
from syndicate.config import load_config  # noqa: E402
from syndicate.demo import generate_demo  # noqa: E402
from syndicate.export.run import plan  # noqa: E402
from syndicate.models import SITE, Scope  # noqa: E402
from syndicate.records import parse_record  # noqa: E402
from syndicate.store import Store  # noqa: E402
from syndicate.store.archive import periods  # noqa: E402

HOST = "127.0.0.1"
SYNDICATE = [sys.executable, "-m", "syndicate"]

STATIC_CONF = """\
    types {{
        application/atom+xml atom;
        application/rss+xml rss;
        application/feed+json json;
    }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types application/atom+xml application/rss+xml application/feed+json;
    server {{
        listen {host}:{port};
        root {root};
        access_log off;
        sendfile on;
        tcp_nopush off;
        tcp_nodelay on;
        etag on;
        gzip_static on;
        gzip_vary on;
        keepalive_requests 100000;
        open_file_cache max=20000 inactive=60s;
        open_file_cache_valid 1s;
    }}
"""

MAIN_CONF = """\
daemon off;
master_process on;
worker_processes 1;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
{body}
}}
"""


def du(folder: Path) -> tuple[int, int]:
    files = total = 0
    for dirpath, _, names in os.walk(folder):
        for name in names:
            files += 1
            total += os.stat(os.path.join(dirpath, name)).st_size
    return files, total


def full_export(config_path: Path, target: Path, stop_after: float | None) -> None:
    config = load_config(config_path)
    with Store.open(config.store_path) as store:
        planned = plan(config, store, datetime.now(UTC))
    months = len({k.period for k in planned if k.period})
    print(f"plan:     {len(planned):,} documents ({months} months of archives)")
    argv = [*SYNDICATE, "--config", str(config_path), "export", str(target)]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    stopped = False
    while proc.poll() is None:
        peak = max(peak, status_kb(proc.pid, "VmHWM") or 0)
        if stop_after is not None and time.monotonic() - started > stop_after:
            # Counted first, then stopped: SIGINT would not do (a background job ignores it).
            stopped = True
            break
        time.sleep(0.2)
    took = time.monotonic() - started
    partial_files = du(target) if stopped else (0, 0)
    if stopped:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = max(peak, int(usage.ru_maxrss))
    cpu = usage.ru_utime + usage.ru_stime
    files, total = partial_files if stopped else du(target)
    if stopped:
        print(f"export:   PARTIAL, stopped after {took:.0f} s")
    elif proc.returncode != 0:
        raise SystemExit(f"export failed ({proc.returncode}): {err}")
    else:
        print(f"export:   {out.strip()}")
    identity = sum(
        os.stat(os.path.join(d, n)).st_size
        for d, _, names in os.walk(target)
        for n in names
        if not n.endswith((".gz", ".br"))
    )
    print(
        f"export:   {took:.1f} s wall ({cpu:.1f} s CPU), {files:,} files, "
        f"{total / 1e6:,.1f} MB on disk ({identity / 1e6:,.1f} MB uncompressed), "
        f"peak memory {peak / 1024:.0f} MiB, {files / took:,.0f} files/s"
    )
    if stopped:
        share = files / 3 / len(planned)
        print(
            f"partial:  {share:.1%} of the documents in {took:.0f} s; at this rate the whole "
            f"export takes {took / share / 3600:.1f} h and {total / share / 1e9:.0f} GB"
        )


def publish_and_watch(config_path: Path, target: Path, rounds: int = 3) -> None:
    config = load_config(config_path)
    argv = [*SYNDICATE, "--config", str(config_path), "export", str(target), "--watch"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        line = ""
        deadline = time.monotonic() + 3600
        while not line.startswith("watching") and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                raise SystemExit(f"exporter died: {proc.stderr.read() if proc.stderr else ''}")
        with Store.open(config.store_path) as store:
            author = store.directory("author")[0][1]
            tag = store.directory("tag")[0][1]
        for n in range(rounds):
            record = {
                "slug": f"bench-export-{n}-{int(time.time())}",
                "title": f"A late story number {n}",
                "standfirst": "Published while the exporter watches",
                "body": "<p>One paragraph.</p>",
                "section": config.sections[0].slug,
                "published": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
                "authors": [author],
                "tags": [tag],
            }
            sections = [s.slug for s in config.sections]
            committed = time.monotonic()
            with Store.open(config.store_path) as store:
                store.upsert_articles([parse_record(record, sections)], datetime.now(UTC))
            line = proc.stdout.readline().strip()
            took = (time.monotonic() - committed) * 1000
            print(f"publish {n + 1}: {line}; {took:.0f} ms from the commit to the printed line")
            time.sleep(1.0)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# -- nginx: the export against plain static files ------------------------------------


class Nginx:
    def __init__(self, folder: Path, body: str) -> None:
        self.folder = folder
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (folder / "tmp" / name).mkdir(parents=True, exist_ok=True)
        text = MAIN_CONF.format(user=nginx_user(), dir=folder, body=body)
        (folder / "nginx.conf").write_text(text)
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        argv = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf")]
        self.proc = subprocess.Popen(argv)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} never answered")


def head_etag(url: str) -> str:
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=5) as reply:
        return str(reply.headers["ETag"])


def wrk(server: Nginx, port: int, script: Path, duration: int) -> tuple[float, float]:
    """req/s, and the nginx worker's CPU microseconds per request (steadier on a busy box)."""
    argv = ["wrk", "-t1", "-c32", f"-d{duration}s", "--timeout", "5s", "--latency"]
    argv += ["-s", str(script), f"http://{HOST}:{port}/"]
    workers = children_of(server.proc.pid)
    before = cpu_seconds(workers)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=True)
    sample = parse_wrk(done.stdout)
    return sample.rps, (cpu_seconds(workers) - before) / max(sample.requests, 1) * 1e6


def serving(folder: Path, target: Path, config_path: Path, args: argparse.Namespace) -> None:
    config = load_config(config_path)
    with Store.open(config.store_path) as store:
        now = datetime.now(UTC)
        scopes = [SITE, Scope("section", config.sections[0].slug)]
        for kind in ("author", "tag", "issue"):
            scopes.append(Scope(kind, store.directory(kind)[0][0]))  # type: ignore[arg-type]
        months = periods(store, SITE, now)
    paths = [feed_path(s, fmt) for s in scopes for fmt in FORMATS]
    closed = months[1] if len(months) > 1 else months[0]
    paths += [archive_path(SITE, fmt, closed) for fmt in FORMATS]
    # The same bytes as plain files: identity and gzip (gzip_static), no brotli module.
    static = folder / "static"
    for path in paths:
        for suffix in ("", ".gz"):
            source = target / (path.lstrip("/") + suffix)
            copy = static / (path.lstrip("/") + suffix)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
    for dirpath, _, _ in os.walk(folder):
        Path(dirpath).chmod(0o755)
    export_port, static_port, origin_port = free_port(), free_port(), free_port()
    shipped = (ROOT / "deploy" / "nginx" / "export.conf").read_text()
    shipped = shipped.replace("/srv/syndicate/export", str(target))
    shipped = shipped.replace("127.0.0.1:8080", f"127.0.0.1:{origin_port}")
    shipped = shipped.replace("listen 8081;", f"listen {HOST}:{export_port};")
    servers = {
        "export": (Nginx(folder / "nginx-export", shipped), export_port),
        "static": (
            Nginx(
                folder / "nginx-static",
                STATIC_CONF.format(host=HOST, port=static_port, root=static),
            ),
            static_port,
        ),
    }
    try:
        for _, port in servers.values():
            wait_for(f"http://{HOST}:{port}{paths[0]}")
        print(f"load:     {len(paths)} documents: {', '.join(paths)}")
        print(f"wrk:      -t1 -c32, {args.duration} s per run, nginx 1 worker each")
        for mode in args.modes.split(","):
            ratios: list[float] = []
            rates: dict[str, list[float]] = {"export": [], "static": []}
            cpus: dict[str, list[float]] = {"export": [], "static": []}
            for n in range(args.rounds):
                order = ["export", "static"] if n % 2 == 0 else ["static", "export"]
                for name in order:
                    server, port = servers[name]
                    etags = {p: head_etag(f"http://{HOST}:{port}{p}") for p in paths}
                    script = folder / f"{name}-{mode}.lua"
                    script.write_text(
                        lua_script(port, paths, "plain" if mode == "200" else mode, etags)
                    )
                    rate, cpu = wrk(server, port, script, args.duration)
                    rates[name].append(rate)
                    cpus[name].append(cpu)
                ratios.append(rates["export"][-1] / rates["static"][-1])
            cpu_export = statistics.median(cpus["export"])
            cpu_static = statistics.median(cpus["static"])
            print(
                f"mode {mode:5s} export {statistics.median(rates['export']):8.0f} req/s, "
                f"static {statistics.median(rates['static']):8.0f} req/s, "
                f"export/static median of rounds {statistics.median(ratios):.2f}x "
                f"(rounds: {' '.join(f'{r:.2f}' for r in ratios)}); CPU per request "
                f"{cpu_export:.1f} / {cpu_static:.1f} us = {cpu_static / cpu_export:.2f}x"
            )
    finally:
        for server, _ in servers.values():
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2400)
    parser.add_argument("--stop-after", type=float, default=None)
    parser.add_argument("--export-only", action="store_true", help="Skip --watch and nginx.")
    parser.add_argument("--no-watch", action="store_true", help="Skip the publishes.")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--modes", default="200,gzip,304")
    parser.add_argument("--keep", action="store_true", help="Keep the temp dir.")
    parser.add_argument("--dir", type=Path, default=None, help="Work here instead of /tmp.")
    args = parser.parse_args()
    print(f"machine:  {machine()}")
    print(f"revision: {revision()}")
    folder = Path(tempfile.mkdtemp(prefix="syndicate-export-", dir=args.dir))
    folder.chmod(0o755)
    try:
        config_path = folder / "config.toml"
        text = (ROOT / "config.toml").read_text(encoding="utf-8")
        config_path.write_text(bench_config(text, "data/syndicate.db", free_port()))
        config = load_config(config_path)
        report = generate_demo(
            config.store_path, config, articles=args.articles, now=datetime.now(UTC)
        )
        print(f"store:    {report.articles:,} articles made in {report.seconds:.1f} s")
        target = folder / "export"
        full_export(config_path, target, args.stop_after)
        if args.export_only:
            return
        if not args.no_watch:
            publish_and_watch(config_path, target)
        serving(folder, target, config_path, args)
    finally:
        if args.keep:
            print(f"kept:     {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
