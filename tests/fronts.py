"""Real Varnish and nginx in front of a real syndicate, from the shipped files.

Used by tests/test_front_caches.py and bench/bench_front.py. Each runs
deploy/varnish/default.vcl or deploy/nginx/syndicate.conf exactly as shipped,
with only the origin's address (and for nginx the listen port and cache
folder) replaced; a replacement that does not happen exactly once is an
error, so the files cannot drift away from what is tested.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VCL = ROOT / "deploy" / "varnish" / "default.vcl"
NGINX_SITE = ROOT / "deploy" / "nginx" / "syndicate.conf"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def binary(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for d in ("/usr/sbin", "/sbin") if (p := Path(d) / name).exists()), None
    )


def replace_once(text: str, pattern: str, new: str) -> str:
    out, count = re.subn(pattern, new, text, flags=re.M)
    if count != 1:
        raise AssertionError(f"{pattern!r} found {count} times in a shipped file, not once")
    return out


def varnish_vcl(origin_port: int) -> str:
    """The shipped VCL with the backend's host and port replaced, nothing else."""
    text = VCL.read_text(encoding="utf-8")
    text = replace_once(text, r'^(\s*\.host = )"127\.0\.0\.1";', rf'\g<1>"{HOST}";')
    return replace_once(text, r'^(\s*\.port = )"8080";', rf'\g<1>"{origin_port}";')


def nginx_site(origin_port: int, port: int, cache: Path) -> str:
    """The shipped nginx file with upstream, listen port and cache folder replaced."""
    text = NGINX_SITE.read_text(encoding="utf-8")
    text = replace_once(text, r"^(\s*server) 127\.0\.0\.1:8080;", rf"\1 {HOST}:{origin_port};")
    text = replace_once(text, r"^(\s*listen) 80;", rf"\1 {HOST}:{port};")
    text = replace_once(text, r"^\s*listen \[::\]:80;\n", "")
    return replace_once(
        text, r"^proxy_cache_path /var/cache/nginx/syndicate", f"proxy_cache_path {cache}"
    )


#: The http {} around the shipped file: Debian's defaults (tcp_nopush on among
#: them, which the shipped file turns off), every path inside the folder.
NGINX_MAIN = """\
daemon off;
master_process on;
worker_processes {workers};
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    default_type application/octet-stream;
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    include {dir}/syndicate.conf;
}}
"""


@dataclass
class Front:
    """A cache we started, on a loopback port; stopped by its own pid only."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.log.read_text(errors='replace')}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                try:
                    conn.request("GET", "/healthz")
                    conn.getresponse().read()
                    return
                finally:
                    conn.close()
            time.sleep(0.05)
        raise AssertionError(f"{self.name} not answering after {timeout} s")


def _start(name: str, argv: list[str], port: int, folder: Path) -> Front:
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    front = Front(name, port, proc, log)
    try:
        front.wait_ready()
    except BaseException:
        front.stop()
        raise
    return front


def start_varnish(
    folder: Path, origin_port: int, *, port: int | None = None, memory: str = "64m"
) -> Front:
    """varnishd in the foreground (-F), its work dir in ``folder``, as README says to run it."""
    varnishd = binary("varnishd")
    assert varnishd, "varnishd not installed"
    folder.mkdir(parents=True, exist_ok=True)
    vcl = folder / "default.vcl"
    vcl.write_text(varnish_vcl(origin_port), encoding="utf-8")
    port = port or free_port()
    argv = [varnishd, "-F", "-n", str(folder / "work"), "-a", f"{HOST}:{port}"]
    argv += ["-f", str(vcl), "-s", f"malloc,{memory}", "-T", "none"]
    argv += ["-p", "http_gzip_support=off"]  # as the VCL's header comment says
    if os.geteuid() == 0:
        argv += ["-j", "none"]  # no privilege drop: the temp dir is root's
    return _start("varnish", argv, port, folder)


def start_nginx(
    folder: Path, origin_port: int, *, port: int | None = None, workers: int = 1
) -> Front:
    nginx = binary("nginx")
    assert nginx, "nginx not installed"
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("tmp", "cache"):
        (folder / sub).mkdir(exist_ok=True)
    port = port or free_port()
    (folder / "syndicate.conf").write_text(
        nginx_site(origin_port, port, folder / "cache"), encoding="utf-8"
    )
    user = "user root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        NGINX_MAIN.format(workers=workers, user=user, dir=folder), encoding="utf-8"
    )
    argv = [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")]
    argv += ["-e", str(folder / "error.log")]
    return _start("nginx", argv, port, folder)


@contextlib.contextmanager
def running(front: Front) -> Iterator[Front]:
    try:
        yield front
    finally:
        front.stop()


class Origin:
    """`syndicate serve` on a fixed loopback port, which can be stopped and started again."""

    def __init__(self, config: Path, port: int, *, workers: int = 1) -> None:
        self.config = config
        self.port = port
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        argv = [sys.executable, "-m", "syndicate", "--config", str(self.config), "serve"]
        argv += ["--port", str(self.port), "--workers", str(self.workers), "--no-fetch"]
        log = self.config.with_name(f"origin-{self.port}.log")
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.config.parent,
            )
        front = Front("syndicate", self.port, self.proc, log)
        try:
            front.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc is not None:
            Front("syndicate", self.port, self.proc, Path()).stop()
            self.proc = None

    def metric(self, name: str) -> float:
        """The sum of a /metrics series over its labels; ``name`` may end with some
        of them (``syndicate_x{status="304"``)."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " ", ",", "}")
        )
