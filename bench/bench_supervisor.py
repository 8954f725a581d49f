"""Serving speed of `syndicate serve --workers 2` against gunicorn running the same app.

    python bench/bench_supervisor.py --duration 5 --rounds 3

The issue: "gunicorn with aiohttp's GunicornWebWorker is the ecosystem's
usual way to run aiohttp on several processes; measure bench_http with
each". One run builds a demo store in a temp dir (as bench_http.py does),
starts `syndicate serve --workers 2 --no-fetch` and gunicorn with
aiohttp.GunicornWebWorker and 2 workers on the same store
(bench/bench_supervisor_app.py: the same app, the leader chosen by an
flock), checks that both send identical bytes, gzip bytes and 304s, warms
every worker of both, and loads each mode (plain 200, gzip 200, 304) with
wrk for several rounds, the two servers back to back in every round (which
goes first alternates). The verdict per mode is the median of the rounds'
own gunicorn/syndicate ratios.

Then, unless --no-kill, one wrk run per server during which a non-leader
worker is killed with SIGKILL: wrk's socket errors and non-2xx answers, and
how long until the server has two workers serving again.

Needs `wrk` and gunicorn (`pip install gunicorn`). Loopback only; about
2 x modes x rounds x duration seconds of load, plus set-up.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_http as bh  # noqa: E402
from benchlib import free_port, machine, revision  # noqa: E402

from syndicate.config import load_config  # noqa: E402
from syndicate.demo import generate_demo  # noqa: E402

SERVERS = ("syndicate", "gunicorn")
ORDERS = (("syndicate", "gunicorn"), ("gunicorn", "syndicate"))


def start_syndicate(folder: Path, config: Path, port: int, workers: int) -> bh.Server:
    argv = [*bh.syndicate_argv(None), "--config", str(config), "serve"]
    argv += ["--port", str(port), "--workers", str(workers), "--no-fetch"]
    return bh.start("syndicate", argv, port, folder / "syndicate.log")


def start_gunicorn(folder: Path, config: Path, port: int, workers: int) -> bh.Server:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    argv = [str(gunicorn) if gunicorn.exists() else "gunicorn", "bench_supervisor_app:app"]
    argv += ["--chdir", str(HERE), "--bind", f"{bh.HOST}:{port}", "--workers", str(workers)]
    argv += ["--worker-class", "aiohttp.GunicornWebWorker", "--graceful-timeout", "8"]
    env = {**os.environ, "SYNDICATE_CONFIG": str(config)}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
    return bh.start("gunicorn", argv, port, folder / "gunicorn.log", env)


def leader_pid(server: bh.Server) -> int | None:
    text = server.log.read_text(errors="replace")
    found = re.findall(r"leader: worker pid (\d+)|worker pid (\d+): leader=True", text)
    return int(next(p for p in found[-1] if p)) if found else None


def kill_round(args: argparse.Namespace, server: bh.Server, script: Path) -> str:
    """wrk for ``duration`` s with a non-leader worker SIGKILLed after a third of it."""
    leader = leader_pid(server)
    victim = next((p for p in server.workers if p != leader), server.workers[-1])
    argv = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
    argv += ["--timeout", "5s", "-s", str(script), f"http://{bh.HOST}:{server.port}/"]
    wrk = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(args.duration / 3)
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        back = None
        for _ in range(400):  # at most 8 s
            alive = [p for p in bh.children_of(server.proc.pid) if p != victim]
            if len(alive) >= len(server.workers):
                with contextlib.suppress(OSError, http.client.HTTPException):
                    if bh.get(server.port, "/healthz", timeout=1).status == 200:
                        back = time.monotonic() - killed
                        break
            time.sleep(0.02)
        out, _ = wrk.communicate(timeout=args.duration + 60)
    finally:
        if wrk.poll() is None:
            wrk.kill()
            wrk.wait()
    server.find_workers(len(server.workers))  # the new pid, for stop()
    total = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Socket errors:(.*)", out)
    non_ok = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    return (
        f"{total.group(1) if total else '?'} requests, "
        f"socket errors: {errors.group(1).strip() if errors else 'none'}, "
        f"non-2xx/3xx: {non_ok.group(1) if non_ok else 0}, "
        f"two workers again after {'?' if back is None else f'{back * 1000:.0f} ms'} "
        "(a new pid answering beside the other)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=64, help="wrk -c")
    parser.add_argument("--modes", default=",".join(bh.MODES), help="comma-separated subset")
    parser.add_argument("--config", type=Path, default=HERE.parent / "config.toml")
    parser.add_argument("--no-kill", action="store_true", help="skip the worker-kill runs")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if unknown := set(modes) - set(bh.MODES):
        parser.error(f"unknown modes {sorted(unknown)}")
    if shutil.which("wrk") is None:
        parser.error("wrk not found (apt-get install -y wrk)")
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        parser.error("gunicorn not installed (pip install gunicorn)")

    print(f"machine:  {machine()}")
    print(f"revision: {revision()}")
    print(
        f"load:     wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency, "
        f"{args.rounds} rounds per mode, servers alternating; {args.workers} workers each"
    )
    folder = Path(tempfile.mkdtemp(prefix="syndicate-supervisor-"))
    servers: list[bh.Server] = []
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

        ours = start_syndicate(folder, config_path, port, args.workers)
        servers.append(ours)
        ours.wait_ready("/healthz")
        ours.find_workers(args.workers)
        theirs = start_gunicorn(folder, config_path, free_port(), args.workers)
        servers.append(theirs)
        theirs.wait_ready("/healthz")
        theirs.find_workers(args.workers)

        listed = bh.opml_paths(bh.get(port, "/feeds.opml").body)
        every = [bh.with_format(p, fmt) for p in listed for fmt in bh.FORMATS]
        paths = bh.pick_load_paths(listed)
        print(f"feeds:    {len(listed)} in /feeds.opml; under load: {', '.join(paths)}")
        for server in servers:
            started = time.monotonic()
            bh.warm(server, every)
            print(
                f"warm:     {server.name}: every feed, every coding, every worker in "
                f"{time.monotonic() - started:.1f} s"
            )
        reference = {path: bh.get(port, path).body for path in paths}
        etags = {s.name: bh.verify(s, paths, reference) for s in servers}
        print("verified: both send identical bytes and gzip bytes, and 304s")
        print(f"leaders:  syndicate pid {leader_pid(ours)}, gunicorn pid {leader_pid(theirs)}")

        by_name = {s.name: s for s in servers}
        results = {m: {n: [] for n in SERVERS} for m in modes}
        for mode in modes:
            for r in range(args.rounds):
                for name in ORDERS[r % len(ORDERS)]:
                    server = by_name[name]
                    script = folder / f"{name}-{mode}.lua"
                    script.write_text(bh.lua_script(server.port, paths, mode, etags[name]))
                    sample = bh.run_wrk(args, server, script)
                    results[mode][name].append(sample)
                    print(
                        f"  {mode:5s} round {r + 1} {name:9s} {sample.rps:9.0f} req/s  "
                        f"p50 {sample.p50:6.2f} ms  p99 {sample.p99:6.2f} ms  "
                        f"server cpu {sample.cpu_us:5.1f} us/req",
                        flush=True,
                    )

        print("\nresults (median of rounds)")
        print(
            f"  {'mode':5s} {'syndicate req/s (p99)':>24s} {'gunicorn req/s (p99)':>24s}"
            f" {'gunicorn/syndicate':>19s}  cpu us/req s/g"
        )
        for mode in modes:
            row = results[mode]
            cells = []
            for name in SERVERS:
                rps = statistics.median(s.rps for s in row[name])
                p99 = statistics.median(s.p99 for s in row[name])
                cells.append(f"{rps:,.0f} ({p99:.1f} ms)")
            paired = statistics.median(
                g.rps / s.rps for s, g in zip(row["syndicate"], row["gunicorn"], strict=True)
            )
            cpu = [statistics.median(s.cpu_us for s in row[n]) for n in SERVERS]
            print(
                f"  {mode:5s} {cells[0]:>24s} {cells[1]:>24s} {paired:18.2f}x"
                f"  {cpu[0]:.1f}/{cpu[1]:.1f}"
            )

        if not args.no_kill:
            print("\nkill -9 of one non-leader worker under load (plain 200s)")
            for server in servers:
                script = folder / f"{server.name}-plain.lua"
                script.write_text(bh.lua_script(server.port, paths, "plain", etags[server.name]))
                print(f"  {server.name:9s} {kill_round(args, server, script)}", flush=True)
    finally:
        for server in reversed(servers):
            server.stop()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
