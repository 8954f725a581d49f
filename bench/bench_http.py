"""Serving speed of `syndicate serve` against nginx and a bare aiohttp app, same bytes.

    python bench/bench_http.py --duration 5 --rounds 6

One run builds everything in a temp dir: a copy of config.toml pointing at a
fresh demo store and a free port, `syndicate serve` with one worker per core,
nginx (gzip_static, etag) serving the exact bytes syndicate sent for a set of
feeds, and bench/bare_app.py (aiohttp, a dict of bytes, nothing else) with
the same number of workers. Every server is checked first: 200 with
identical bytes, identical gzip bytes, 304 for its own ETag; then each mode
(plain 200, gzip 200, 304) is loaded with wrk for several rounds, syndicate
and bare back to back in every round (which goes first alternates), and the
verdict is the median of the rounds' own syndicate/bare ratios. Before the
load every feed listed in /feeds.opml is requested from every syndicate
worker in all three formats and all three codings, and each worker's peak
memory (VmHWM) is reported.

Needs `wrk` and `nginx` (apt-get install -y wrk nginx-light). Loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import children_of, free_port, machine, revision, status_kb  # noqa: E402

from syndicate.config import load_config  # noqa: E402
from syndicate.demo import generate_demo  # noqa: E402

HOST = "127.0.0.1"
FORMATS = ("atom", "rss", "json")
CODINGS = ("identity", "gzip", "br")
MODES = ("plain", "gzip", "304")
SERVERS = ("syndicate", "bare", "nginx")
#: Kinds of feed put under load, in the order they appear in /feeds.opml.
KINDS = ("site", "sections", "authors", "tags", "issues")

# -- small helpers -------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 60) -> Reply:
    """One GET on a fresh connection; the body exactly as sent (no decoding)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        conn.close()


def fail(message: str) -> NoReturn:
    raise SystemExit(f"bench_http: FAILED: {message}")


# -- processes -------------------------------------------------------------------


def start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat: when the process started, in clock ticks after boot."""
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    return None


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    workers: list[int] = field(default_factory=list)
    #: Start time of each worker, so a pid reused after it exited is never signalled.
    started: dict[int, str | None] = field(default_factory=dict)

    def stop(self) -> None:
        """SIGTERM the process we started, then its workers if any outlive it (by pid)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for pid in self.workers:
            if start_time(pid) is not None and start_time(pid) == self.started.get(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    def wait_ready(self, path: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail(f"{self.name} exited ({self.proc.returncode}):\n{tail(self.log)}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if get(self.port, path, timeout=2).status == 200:
                    return
            time.sleep(0.1)
        fail(f"{self.name} not answering {path} after {timeout} s:\n{tail(self.log)}")

    def find_workers(self, count: int) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.workers = children_of(self.proc.pid)
            if len(self.workers) >= count:
                self.started = {pid: start_time(pid) for pid in self.workers}
                return
            time.sleep(0.1)
        fail(f"{self.name}: expected {count} workers, found {self.workers}")

    def memory(self) -> list[tuple[int, int | None, int | None]]:
        """(pid, VmHWM kB, VmRSS kB) of each worker."""
        return [(p, status_kb(p, "VmHWM"), status_kb(p, "VmRSS")) for p in self.workers]


def tail(path: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def start(
    name: str, argv: Sequence[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Server:
    with log.open("wb") as out:  # cwd: `python -m` must not pick up ./syndicate
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=log.parent,
        )
    return Server(name, port, proc, log)


# -- setting up ------------------------------------------------------------------


def bench_config(text: str, store: str, port: int) -> str:
    """config.toml with [store] path and [server] port replaced, everything else as is.

    Addresses of the demo's own port (base_url, icon, the sidebar sources the
    fetcher polls) follow the port, so the demo is self-contained as with
    `make serve` and nothing is fetched from whatever else listens on 8080.
    """
    out, section = [], ""
    old_port = re.search(r"(?ms)^\[server\].*?^port\s*=\s*(\d+)", text)
    if old_port:
        text = text.replace(f"{HOST}:{old_port.group(1)}", f"{HOST}:{port}")
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        elif section == "[store]" and re.match(r"path\s*=", stripped):
            line = f'path = "{store}"'
        elif section == "[server]" and re.match(r"port\s*=", stripped):
            line = f"port = {port}"
        out.append(line)
    return "\n".join(out) + "\n"


def opml_paths(opml: bytes) -> list[str]:
    """Every feed path listed in /feeds.opml, in order."""
    paths = []
    for outline in ET.fromstring(opml).iter("outline"):
        url = outline.get("xmlUrl")
        if url:
            paths.append(urlsplit(url).path)
    return paths


def with_format(path: str, fmt: str) -> str:
    return path.rsplit(".", 1)[0] + "." + fmt


def pick_load_paths(listed: Sequence[str]) -> list[str]:
    """The first feed of each kind (site, a section, an author...) in every format."""
    chosen = []
    for kind in KINDS:
        match = next(
            (
                p
                for p in listed
                if (p.count("/") == 1 if kind == "site" else p.startswith(f"/{kind}/"))
            ),
            None,
        )
        if match is None:
            fail(f"no {kind} feed in /feeds.opml")
        chosen += [with_format(match, fmt) for fmt in FORMATS]
    return chosen


NGINX_CONF = """\
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
    tcp_nopush on;
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
        listen {host}:{port} reuseport;
        root {dir}/root;
    }}
}}
"""


def nginx_user() -> str:
    """As root, nginx drops its workers to a user; nobody can read the 0755 temp tree."""
    if os.geteuid() != 0:
        return ""
    import grp
    import pwd

    nobody = pwd.getpwnam("nobody")
    return f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};"


# -- pinning connections to workers (to warm every worker's cache) ---------------------


def socket_inode(server_port: int, client_port: int) -> str | None:
    """The server-side socket inode of an established loopback connection."""
    want_local = f"0100007F:{server_port:04X}"
    want_remote = f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        if cols[1] == want_local and cols[2] == want_remote:
            return cols[9]
    return None


def owner(pids: Iterable[int], inode: str) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == target:
                        return pid
    return None


def pinned_connections(
    server: Server, per_worker: int
) -> dict[int, list[http.client.HTTPConnection]]:
    """Keep-alive connections, ``per_worker`` to each worker, found via /proc."""
    pinned: dict[int, list[http.client.HTTPConnection]] = {p: [] for p in server.workers}
    for _ in range(100 * len(server.workers) * per_worker):
        if all(len(c) >= per_worker for c in pinned.values()):
            return pinned
        conn = http.client.HTTPConnection(HOST, server.port, timeout=120)
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        inode = socket_inode(server.port, conn.sock.getsockname()[1])
        pid = owner(server.workers, inode) if inode else None
        if pid is not None and len(pinned[pid]) < per_worker:
            pinned[pid].append(conn)
        else:
            conn.close()
    fail(f"could not open {per_worker} connections to each worker of {server.name}")


def warm(server: Server, paths: Sequence[str], per_worker: int = 2) -> dict[str, int]:
    """Request every path in every coding from every worker; bytes per coding (one copy)."""
    pinned = pinned_connections(server, per_worker)
    jobs = [(p, c) for p in paths for c in CODINGS]
    sizes = dict.fromkeys(CODINGS, 0)
    errors: list[str] = []
    lock = threading.Lock()

    def run(conn: http.client.HTTPConnection, share: list[tuple[str, str]], count: bool) -> None:
        try:
            for path, coding in share:
                headers = {} if coding == "identity" else {"Accept-Encoding": coding}
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path} ({coding}): HTTP {response.status}")
                if count:
                    with lock:
                        sizes[coding] += len(body)
        except Exception as exc:
            errors.append(str(exc))
        finally:
            conn.close()

    threads = []
    for index, conns in enumerate(pinned.values()):
        for k, conn in enumerate(conns):
            share = jobs[k::per_worker]
            threads.append(threading.Thread(target=run, args=(conn, share, index == 0)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        fail(f"warming {server.name}: {errors[:3]}")
    return sizes


# -- verification ----------------------------------------------------------------


def verify(server: Server, paths: Sequence[str], reference: dict[str, bytes]) -> dict[str, str]:
    """200 with the reference bytes, gzip that inflates to them, 304 for its ETag."""
    etags = {}
    for path in paths:
        plain = get(server.port, path)
        if plain.status != 200 or plain.body != reference[path]:
            fail(f"{server.name} {path}: HTTP {plain.status}, {len(plain.body)} bytes differ")
        etag = plain.headers.get("etag")
        if not etag:
            fail(f"{server.name} {path}: no ETag")
        packed = get(server.port, path, {"Accept-Encoding": "gzip"})
        if (
            packed.status != 200
            or packed.headers.get("content-encoding") != "gzip"
            or gzip.decompress(packed.body) != reference[path]
        ):
            fail(f"{server.name} {path}: gzip answer wrong (HTTP {packed.status})")
        again = get(server.port, path, {"If-None-Match": etag})
        if again.status != 304 or again.body:
            fail(f"{server.name} {path}: If-None-Match {etag} gave HTTP {again.status}")
        etags[path] = etag
    return etags


# -- wrk -------------------------------------------------------------------------------


def lua_script(port: int, paths: Sequence[str], mode: str, etags: dict[str, str]) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    rows = []
    for path in paths:
        headers = {"Host": f"{HOST}:{port}"}
        if mode == "gzip":
            headers["Accept-Encoding"] = "gzip"
        elif mode == "304":
            headers["If-None-Match"] = etags[path]
        table = ", ".join(f"[{quote(k)}] = {quote(v)}" for k, v in headers.items())
        rows.append(f"  {{{quote(path)}, {{{table}}}}},")
    return (
        "local specs = {\n" + "\n".join(rows) + "\n}\n"
        "local reqs = {}\n"
        "local i = 0\n"
        "init = function(args)\n"
        "  for k, s in ipairs(specs) do reqs[k] = wrk.format('GET', s[1], s[2]) end\n"
        "end\n"
        "request = function()\n"
        "  i = i % #reqs + 1\n"
        "  return reqs[i]\n"
        "end\n"
    )


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unparsed wrk latency {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


@dataclass
class Sample:
    rps: float
    p50: float
    p99: float
    transfer: str
    errors: str
    requests: int = 0
    #: Server CPU (all its processes) per request, in microseconds.
    cpu_us: float = 0.0
    #: Cores kept busy by processes other than the server and wrk during the run.
    others: float = 0.0


def parse_wrk(output: str) -> Sample:
    rps = re.search(r"Requests/sec:\s*([\d.]+)", output)
    p50 = re.search(r"^\s*50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.M)
    transfer = re.search(r"Transfer/sec:\s*(\S+)", output)
    if not (rps and p50 and p99 and transfer):
        fail(f"cannot read wrk output:\n{output}")
    non_ok = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    if non_ok:
        fail(f"wrk saw {non_ok.group(1)} non-2xx/3xx responses:\n{output}")
    socket_errors = re.search(r"Socket errors:(.*)", output)
    total = re.search(r"(\d+) requests in", output)
    return Sample(
        float(rps.group(1)),
        to_ms(p50.group(1)),
        to_ms(p99.group(1)),
        transfer.group(1),
        socket_errors.group(1).strip() if socket_errors else "",
        int(total.group(1)) if total else 0,
    )


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Iterable[int]) -> float:
    """utime + stime of processes, in seconds (0 for ones that are gone)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (all cores)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / TICK


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(args: argparse.Namespace, server: Server, script: Path) -> Sample:
    port = server.port
    pids = [server.proc.pid, *server.workers]
    for pid in server.workers:  # e.g. the fetcher's parser process
        pids += children_of(pid)
    argv = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
        f"http://{HOST}:{port}/",
    ]
    before = (cpu_seconds(pids), busy_seconds(), children_cpu(), time.monotonic())
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=args.duration + 60, check=False
    )
    after = (cpu_seconds(pids), busy_seconds(), children_cpu(), time.monotonic())
    if done.returncode != 0:
        fail(f"wrk exited {done.returncode}: {done.stderr}")
    sample = parse_wrk(done.stdout)
    served, busy, wrk = (a - b for a, b in zip(after[:3], before[:3], strict=True))
    sample.cpu_us = served / max(sample.requests, 1) * 1e6
    sample.others = max(0.0, busy - served - wrk) / (after[3] - before[3])
    return sample


# -- report ------------------------------------------------------------------------


def mib(kb: int | None) -> str:
    return "?" if kb is None else f"{kb / 1024:.1f} MiB"


def report_memory(label: str, server: Server) -> None:
    rows = ", ".join(f"pid {p}: peak {mib(h)}, now {mib(r)}" for p, h, r in server.memory())
    print(f"  {label:28s} {rows}")
    extra = [p for w in server.workers for p in children_of(w)]
    if extra:
        rows = ", ".join(
            f"pid {p}: peak {mib(status_kb(p, 'VmHWM'))}, now {mib(status_kb(p, 'VmRSS'))}"
            for p in extra
        )
        print(f"  {'  their children:':28s} {rows}")


def report_mode(mode: str, results: dict[str, list[Sample]]) -> None:
    print(f"\nmode {mode}")
    print(
        f"  {'server':10s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} "
        f"{'worst p99':>9s} {'cpu us/req':>10s} {'others':>6s} {'transfer':>9s}  rounds req/s"
    )
    medians, cpus = {}, {}
    for name, samples in results.items():
        rps = statistics.median(s.rps for s in samples)
        medians[name] = rps
        p50 = statistics.median(s.p50 for s in samples)
        p99 = statistics.median(s.p99 for s in samples)
        worst = max(s.p99 for s in samples)
        cpu = cpus[name] = statistics.median(s.cpu_us for s in samples)
        others = statistics.median(s.others for s in samples)
        rounds = " ".join(f"{s.rps:.0f}" for s in samples)
        errors = "; ".join(sorted({s.errors for s in samples if s.errors}))
        print(
            f"  {name:10s} {rps:9.0f} {p50:8.2f} {p99:8.2f} {worst:9.2f} {cpu:10.1f} "
            f"{others:6.2f} {samples[-1].transfer:>9s}  {rounds}"
            + (f"  socket errors: {errors}" if errors else "")
        )
    ours = medians["syndicate"]
    # Each round runs syndicate and bare back to back, so a round's own ratio is
    # measured under the same conditions; the median of those ratios resists the
    # drift of a shared machine, which moves both medians by 10-20% over minutes.
    paired = statistics.median(
        a.rps / b.rps for a, b in zip(results["syndicate"], results["bare"], strict=True)
    )
    verdict = "meets" if paired >= 0.85 else "MISSES"
    p99 = statistics.median(s.p99 for s in results["syndicate"])
    print(
        f"  req/s: syndicate/bare {paired:.2f}x, the median of each round's ratio "
        f"({verdict} the 0.85x target; ratio of the medians {ours / medians['bare']:.2f}x), "
        f"syndicate/nginx {ours / medians['nginx']:.2f}x; syndicate p99 {p99:.1f} ms "
        f"({'meets' if p99 < 20 else 'MISSES'} the 20 ms target)"
    )
    print(
        f"  cpu-bound estimate (steadier than req/s on a shared machine): "
        f"syndicate/bare {cpus['bare'] / cpus['syndicate']:.2f}x, "
        f"syndicate/nginx {cpus['nginx'] / cpus['syndicate']:.2f}x "
        "(server CPU per request of the other / syndicate's)"
    )


# -- main --------------------------------------------------------------------------


def syndicate_argv(source: Path | None) -> list[str]:
    script = Path(sys.executable).with_name("syndicate")
    if source is None and script.exists():
        return [str(script)]
    return [sys.executable, "-m", "syndicate"]


#: Server orders, round after round: syndicate and bare always back to back (so
#: each round's ratio of the two is measured under the same conditions), each
#: first half the time, and nginx at either end.
ORDERS = (
    ("syndicate", "bare", "nginx"),
    ("nginx", "bare", "syndicate"),
    ("bare", "syndicate", "nginx"),
    ("nginx", "syndicate", "bare"),
)


def rotations(rounds: int) -> Iterator[tuple[int, list[str]]]:
    for r in range(rounds):
        yield r, list(ORDERS[r % len(ORDERS)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2400)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset")
    parser.add_argument("--config", type=Path, default=ROOT / "config.toml")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, conf)")
    parser.add_argument(
        "--syndicate-src",
        type=Path,
        help="run syndicate from this folder (holding a syndicate/ package) instead, "
        "e.g. a scratch copy with a fix to measure",
    )
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown modes {sorted(unknown)}")
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            parser.error(f"{tool} not found (apt-get install -y wrk nginx-light)")

    print(f"machine:  {machine()}")
    print(f"revision: {revision()}")
    print(f"loadavg:  {Path('/proc/loadavg').read_text().strip()} (before the run)")
    print(
        f"load:     wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency, "
        f"{args.rounds} rounds per mode, servers alternating; {args.workers} workers each"
    )
    folder = Path(tempfile.mkdtemp(prefix="syndicate-http-"))
    folder.chmod(0o755)
    servers: list[Server] = []
    try:
        port = free_port()
        config_path = folder / "config.toml"
        config_path.write_text(
            bench_config(args.config.read_text(encoding="utf-8"), "data/syndicate.db", port),
            encoding="utf-8",
        )
        config = load_config(config_path)
        if folder not in config.store_path.parents:
            fail(f"store path {config.store_path} is not in {folder}")
        report = generate_demo(
            config.store_path, config, articles=args.articles, now=datetime.now(UTC)
        )
        print(f"store:    {report.articles:,} articles made in {report.seconds:.1f} s")

        argv = [*syndicate_argv(args.syndicate_src), "--config", str(config_path), "serve"]
        argv += ["--port", str(port), "--workers", str(args.workers)]
        env = None
        if args.syndicate_src:
            env = {**os.environ, "PYTHONPATH": str(args.syndicate_src.resolve())}
            print(f"syndicate from {args.syndicate_src.resolve()}")
        ours = start("syndicate", argv, port, folder / "syndicate.log", env)
        servers.append(ours)
        ours.wait_ready("/healthz")
        ours.find_workers(args.workers)

        listed = opml_paths(get(port, "/feeds.opml").body)
        every = [with_format(p, fmt) for p in listed for fmt in FORMATS]
        paths = pick_load_paths(listed)
        print(f"feeds:    {len(listed)} in /feeds.opml; under load: {', '.join(paths)}")

        report_memory("syndicate workers, idle:", ours)
        started = time.monotonic()
        sizes = warm(ours, every)
        took = time.monotonic() - started
        total = sum(sizes.values())
        print(
            f"warm:     {len(every)} feeds x {len(CODINGS)} codings through each of "
            f"{len(ours.workers)} workers in {took:.1f} s; one copy of everything = "
            + ", ".join(f"{c} {n / 2**20:.1f} MiB" for c, n in sizes.items())
            + f" (total {total / 2**20:.1f} MiB)"
        )
        report_memory("syndicate workers, warmed:", ours)

        # The reference bytes and their gzip form, exactly as syndicate sends them.
        reference: dict[str, bytes] = {}
        site = folder / "root"
        for path in paths:
            plain = get(port, path)
            packed = get(port, path, {"Accept-Encoding": "gzip"})
            if plain.status != 200 or packed.status != 200:
                fail(f"syndicate {path}: HTTP {plain.status}/{packed.status}")
            reference[path] = plain.body
            target = site / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(plain.body)
            target.with_name(target.name + ".gz").write_bytes(packed.body)
        for sub in ("tmp", "root"):
            (folder / sub).mkdir(exist_ok=True)
        for dirpath, _, _ in os.walk(folder):
            Path(dirpath).chmod(0o755)

        nginx_port = free_port()
        (folder / "nginx.conf").write_text(
            NGINX_CONF.format(
                workers=args.workers, user=nginx_user(), dir=folder, host=HOST, port=nginx_port
            )
        )
        nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
        argv = [nginx_bin, "-p", str(folder), "-c", str(folder / "nginx.conf")]
        argv += ["-e", str(folder / "error.log")]
        nginx = start("nginx", argv, nginx_port, folder / "nginx.log")
        servers.append(nginx)
        nginx.wait_ready(paths[0])
        nginx.find_workers(args.workers)

        bare_port = free_port()
        argv = [sys.executable, str(Path(__file__).with_name("bare_app.py")), str(site)]
        argv += ["--port", str(bare_port), "--workers", str(args.workers)]
        bare = start("bare", argv, bare_port, folder / "bare.log")
        servers.append(bare)
        bare.wait_ready(paths[0])
        bare.find_workers(args.workers)

        by_name = {s.name: s for s in servers}
        etags = {s.name: verify(s, paths, reference) for s in servers}
        print("verified: all three servers send identical bytes and gzip bytes, and 304s")

        results: dict[str, dict[str, list[Sample]]] = {m: {n: [] for n in SERVERS} for m in modes}
        for mode in modes:
            for r, order in rotations(args.rounds):
                for name in order:
                    server = by_name[name]
                    script = folder / f"{name}-{mode}.lua"
                    script.write_text(lua_script(server.port, paths, mode, etags[name]))
                    sample = run_wrk(args, server, script)
                    results[mode][name].append(sample)
                    print(
                        f"  {mode:5s} round {r + 1} {name:9s} {sample.rps:9.0f} req/s  "
                        f"p50 {sample.p50:6.2f} ms  p99 {sample.p99:6.2f} ms  "
                        f"server cpu {sample.cpu_us:5.1f} us/req  others {sample.others:.2f} cores",
                        flush=True,
                    )

        for path in paths:  # a rebuild mid-run would have changed what we measured
            if get(port, path).headers.get("etag") != etags["syndicate"][path]:
                print(f"WARNING: the ETag of {path} changed during the run")

        print("\nresults (median of rounds; p99 target < 20 ms)")
        for mode in modes:
            report_mode(mode, results[mode])
        print("\npeak memory per worker (VmHWM) after warm-up and load; target <= 200 MB")
        for server in servers:
            report_memory(f"{server.name}:", server)
    finally:
        for server in reversed(servers):
            server.stop()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
