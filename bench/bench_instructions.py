"""CPU instructions per feed request, counted by valgrind: a figure the machine's noise cannot move.

    python bench/bench_instructions.py [--requests 400] [--syndicate-src DIR]

bench_http.py measures requests a second, which on this shared two-core
machine drift by 10-20% over minutes and by far more while anything else
runs. This counts what a request costs instead: syndicate (one worker) and
bench/bare_app.py run under ``valgrind --tool=callgrind`` with collection
off; after warming every feed up, collection is switched on
(``callgrind_control -i on``) for exactly N requests of one mode on one
keep-alive connection, then off, and the dump's total of executed
instructions (Ir) is divided by N. The same binary, store and requests give
the same count to within a fraction of a percent, whatever else the machine
is doing, so a change that adds work to the hot path shows up as a change
in this number. Run it with ``--syndicate-src`` on a checkout of an older
commit to compare two versions.

Needs valgrind (Debian: valgrind). Loopback only; each server stops at the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_http import bench_config, opml_paths, pick_load_paths, syndicate_argv  # noqa: E402
from benchlib import free_port, machine, revision  # noqa: E402

MODES = ("plain", "gzip", "304")


def request(
    conn: http.client.HTTPConnection, path: str, headers: dict[str, str]
) -> tuple[int, str]:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status, response.headers.get("ETag", "")


class Counted:
    """A server under callgrind, with collection switched on only around measured requests."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        port: int,
        folder: Path,
        env: dict[str, str] | None,
    ) -> None:
        self.name, self.port, self.folder = name, port, folder
        self.out = folder / f"{name}.callgrind"
        self.log = (folder / f"{name}.log").open("w")
        self.proc = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={self.out}.%p",
                *argv,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self.pid = self.proc.pid

    def wait_ready(self, path: str, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"{self.name} exited: see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if request(conn, path, {})[0] == 200:
                    conn.close()
                    break
                conn.close()
            except OSError:
                time.sleep(0.5)
        else:
            sys.exit(f"{self.name} never answered {path}")
        # Both serve in the process valgrind started (syndicate with one worker
        # does not fork; its children are helpers such as multiprocessing's
        # resource tracker), and callgrind_control reaches only that one.
        self.server_pid = self.pid

    def wait_idle(self, timeout: float = 900) -> float:
        """Wait until the server uses almost no CPU (its start-up census is done)."""
        started = time.monotonic()
        ticks = os.sysconf("SC_CLK_TCK")

        def cpu() -> float:
            fields = Path(f"/proc/{self.server_pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks

        quiet = 0
        while time.monotonic() - started < timeout:
            before = cpu()
            time.sleep(2.0)
            # Under 5% of a core for three windows in a row: a census paced
            # with short sleeps shows as busy in any one of them.
            quiet = quiet + 1 if cpu() - before < 0.1 else 0
            if quiet == 3:
                return time.monotonic() - started
        sys.exit(f"{self.name} never went idle")

    def control(self, *args: str) -> None:
        subprocess.run(
            ["callgrind_control", *args, str(self.server_pid)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def count(
        self,
        path: str,
        headers: dict[str, str],
        n: int,
        want: int,
        label: str,
    ) -> float:
        """Instructions per request over ``n`` requests for ``path``."""
        before = set(self.folder.glob(f"{self.out.name}.*"))
        # A fresh connection, used once before counting: an idle keep-alive
        # connection is closed by the server after 15 s (REQUEST_TIMEOUT).
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        request(conn, path, headers)
        self.control("-i", "on")
        for _ in range(n):
            status, _ = request(conn, path, headers)
            if status != want:
                sys.exit(f"{self.name} {path}: HTTP {status}, wanted {want}")
        self.control("-i", "off")
        conn.close()
        self.control("-d", label)
        for _ in range(1200):  # valgrind writes the dump when the process next runs
            new = set(self.folder.glob(f"{self.out.name}.*")) - before
            if new:
                break
            time.sleep(0.1)
        if not new:
            files = sorted(p.name for p in self.folder.iterdir())
            sys.exit(f"{self.name} (pid {self.server_pid}) wrote no dump; files: {files}")
        dump = max(new, key=lambda p: p.stat().st_mtime)
        total = 0
        for line in dump.read_text(errors="replace").splitlines():
            found = re.match(r"(?:summary|totals): (\d+)", line)
            if found:
                total = int(found.group(1))
        return total / n

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--articles", type=int, default=600, help="demo store size (the census at start is slow)"
    )
    parser.add_argument("--requests", type=int, default=400, help="measured requests per mode")
    parser.add_argument("--config", type=Path, default=ROOT / "config.toml")
    parser.add_argument("--syndicate-src", type=Path, help="run syndicate from this folder")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        parser.error("valgrind not found (apt-get install -y valgrind)")

    from syndicate.config import load_config
    from syndicate.demo import generate_demo

    print(f"machine:  {machine()}")
    print(
        f"revision: {revision()}"
        + (f" (syndicate from {args.syndicate_src})" if args.syndicate_src else "")
    )
    folder = Path(tempfile.mkdtemp(prefix="syndicate-instr-"))
    servers: list[Counted] = []
    try:
        port = free_port()
        config_path = folder / "config.toml"
        config_path.write_text(bench_config(args.config.read_text(), "data/syndicate.db", port))
        config = load_config(config_path)
        generate_demo(config.store_path, config, articles=args.articles, now=datetime.now(UTC))
        env = None
        if args.syndicate_src:
            env = {**os.environ, "PYTHONPATH": str(args.syndicate_src.resolve())}
        argv = [
            *syndicate_argv(args.syndicate_src),
            "--config",
            str(config_path),
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-fetch",
        ]
        ours = Counted("syndicate", argv, port, folder, env)
        servers.append(ours)
        print("starting syndicate under valgrind (a minute or two)...", flush=True)
        ours.wait_ready("/healthz")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("GET", "/feeds.opml")
        listed = opml_paths(conn.getresponse().read())
        paths = pick_load_paths(listed)[:3]
        site = folder / "root"
        etags: dict[str, str] = {}
        for path in paths:
            for _ in range(2):  # build, then answer from the cache
                _, etag = request(conn, path, {})
                request(conn, path, {"Accept-Encoding": "gzip"})
            etags[path] = etag
            conn.request("GET", path)
            body = conn.getresponse().read()
            conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
            packed = conn.getresponse().read()
            target = site / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            target.with_name(target.name + ".gz").write_bytes(packed)

        bare_port = free_port()
        # bare_app.py's own main() forks its workers; here its app serves in-process.
        serve_bare = (
            "import sys; from pathlib import Path; from aiohttp import web; import bare_app; "
            "web.run_app(bare_app.make_app(bare_app.load(Path(sys.argv[1]))), "
            "host='127.0.0.1', port=int(sys.argv[2]), access_log=None)"
        )
        bare_env = {**os.environ, "PYTHONPATH": str(ROOT / "bench")}
        bare = Counted(
            "bare",
            [sys.executable, "-c", serve_bare, str(site), str(bare_port)],
            bare_port,
            folder,
            bare_env,
        )
        servers.append(bare)
        print("starting the bare app under valgrind...", flush=True)
        bare.wait_ready(paths[0])
        bare_conn = http.client.HTTPConnection("127.0.0.1", bare_port, timeout=120)
        bare_etags = {p: request(bare_conn, p, {})[1] for p in paths}

        for server in servers:
            took = server.wait_idle()
            print(f"{server.name} idle after {took:.0f} s more (its start-up work done)")
        print(
            f"\ninstructions per request (callgrind Ir), {args.requests} requests per mode "
            f"and server, over {', '.join(paths)}:"
        )
        print(f"  {'mode':6} {'syndicate':>12} {'bare':>12} {'syndicate/bare':>15}")
        for mode in MODES:
            figures = []
            for server, tags in ((ours, etags), (bare, bare_etags)):
                per_path = []
                for path in paths:
                    headers = {"Accept-Encoding": "gzip"} if mode == "gzip" else {}
                    want = 200
                    if mode == "304":
                        headers = {"If-None-Match": tags[path]}
                        want = 304
                    n = max(1, args.requests // len(paths))
                    per_path.append(server.count(path, headers, n, want, f"mode-{mode}"))
                figures.append(sum(per_path) / len(per_path))
            print(
                f"  {mode:6} {figures[0]:>12,.0f} {figures[1]:>12,.0f} "
                f"{figures[0] / figures[1]:>14.2f}x"
            )
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
