"""Processes of `syndicate serve` and `syndicate fetch`, killed and stopped for real.

Every test starts the real command (`python -m syndicate`) on loopback,
finds its processes in /proc, signals them by pid, and stops whatever it
started. The figures the issue asks for (requests failed while a worker was
killed under load, how long a restart took) are printed: run with -s.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.outside_server import SAMPLE_RSS
from tests.support import MINIMAL_CONFIG, fill_store, sample_record, write_config

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc, uses prctl")

HOST = "127.0.0.1"
SYNDICATE = (sys.executable, "-m", "syndicate")

# -- /proc -----------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(p) for p in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    for _ in range(1000):  # bounded: a process tree of this size is already a bug
        if not todo:
            break
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process, None once it is gone."""
    with contextlib.suppress(OSError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0], fields[19]
    return None


def running(pid: int) -> bool:
    """Alive and not a zombie (nothing here reaps orphans, so the dead may linger as Z)."""
    found = stat(pid)
    return found is not None and found[0] not in ("Z", "X")


def cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def parsers(pid: int) -> list[int]:
    """The parser processes (multiprocessing "spawn" children) under ``pid``."""
    return [p for p in descendants(pid) if "spawn_main" in cmdline(p)]


def wait_until(check, timeout: float, step: float = 0.02) -> float | None:
    """Seconds it took ``check()`` to hold, or None if it never did within ``timeout``."""
    started = time.monotonic()
    for _ in range(int(timeout / step) + 1):
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            break
        time.sleep(step)
    return None


class Reaper:
    """Every process a test saw, killed at the end if still running (by pid and start time)."""

    def __init__(self) -> None:
        self.seen: dict[int, str] = {}

    def note(self, *pids: int) -> None:
        for pid in pids:
            found = stat(pid)
            if found is not None:
                self.seen.setdefault(pid, found[1])

    def note_tree(self, pid: int) -> None:
        self.note(pid, *descendants(pid))

    def kill_all(self) -> None:
        for pid, started in self.seen.items():
            found = stat(pid)
            if found is not None and found[1] == started and found[0] not in ("Z", "X"):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def reaper() -> Iterator[Reaper]:
    found = Reaper()
    try:
        yield found
    finally:
        found.kill_all()


# -- HTTP --------------------------------------------------------------------------------


def get(port: int, path: str, timeout: float = 5) -> tuple[int, bytes]:
    """One GET on a fresh connection (so SO_REUSEPORT may send it to either worker)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def metrics_by_pid(port: int, want: set[int], tries: int = 60) -> dict[int, str]:
    """/metrics of each worker in ``want``, asked on fresh connections until each answered."""
    found: dict[int, str] = {}
    for _ in range(tries):
        status, body = get(port, "/metrics")
        text = body.decode()
        pid = re.search(r'syndicate_info\{[^}]*pid="(\d+)"', text)
        if status == 200 and pid:
            found[int(pid.group(1))] = text
        if want <= set(found):
            break
    return found


def counter(metrics: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.M)
    return float(found.group(1)) if found else 0.0


# -- a server of our own ------------------------------------------------------------------


class Serve:
    """`syndicate serve --port 0 --workers N` with its stderr in a file we can read."""

    def __init__(self, config: Path, reaper: Reaper, *extra: str) -> None:
        self.log = config.parent / f"serve-{len(list(config.parent.glob('serve-*')))}.log"
        self.reaper = reaper
        with self.log.open("wb") as err:
            self.proc = subprocess.Popen(
                [*SYNDICATE, "--config", str(config), "serve", "--port", "0", *extra],
                stdout=subprocess.PIPE,
                stderr=err,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        reaper.note(self.proc.pid)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the first line names the address
        found = re.search(r"on http://127\.0\.0\.1:(\d+)", line)
        assert found, f"no address in {line!r}: {self.stderr()}"
        self.port = int(found.group(1))
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()  # drain

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def serving(self) -> list[tuple[int, bool]]:
        """(pid, leader?) of every "serving" line so far, in order."""
        return [
            (int(m.group(2)), m.group(1) == "leader: ")
            for m in re.finditer(r"syndicate: (leader: )?worker pid (\d+) serving", self.stderr())
        ]

    def workers(self) -> list[int]:
        return [p for p in children(self.proc.pid) if running(p)]

    def leader(self) -> int:
        return [pid for pid, leader in self.serving() if leader][-1]

    def wait_ready(self, count: int, timeout: float = 20) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}: {self.stderr()}")
            up = {pid for pid, _ in self.serving()} & set(self.workers())
            return len(up) == count

        assert wait_until(ready, timeout) is not None, self.stderr()
        self.reaper.note_tree(self.proc.pid)

    def stop(self, timeout: float = 12) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=5)


@contextlib.contextmanager
def serving(config: Path, reaper: Reaper, *extra: str, workers: int = 2) -> Iterator[Serve]:
    server = Serve(config, reaper, "--workers", str(workers), *extra)
    try:
        server.wait_ready(workers)
        yield server
    finally:
        server.stop()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    config = write_config(tmp_path, MINIMAL_CONFIG)
    fill_store(tmp_path / "store.db", 40)
    return config


# -- an outside feed server: one quick feed, one that trickles ------------------------------


class Outside:
    """A threaded loopback server: /fast.xml answers at once, /slow.xml sends a byte
    every 0.2 s (for at most ``trickle`` seconds), so a fetch of it is in flight."""

    def __init__(self, trickle: float = 20.0) -> None:
        done = threading.Event()
        self.done = done

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/fast.xml":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/rss+xml")
                    self.send_header("Content-Length", str(len(SAMPLE_RSS)))
                    self.end_headers()
                    self.wfile.write(SAMPLE_RSS)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(SAMPLE_RSS) + 1000))
                self.end_headers()
                for _ in range(int(trickle / 0.2)):
                    if done.wait(0.2):
                        break
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        break

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.done.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def outside() -> Iterator[Outside]:
    server = Outside()
    try:
        yield server
    finally:
        server.close()


def with_sources(outside: Outside) -> str:
    return MINIMAL_CONFIG + (
        "\n[fetcher]\nallow_private_addresses = true\ntimeout = 30.0\n"
        f'\n[[sidebar.sources]]\nname = "Fast"\nurl = "{outside.url("/fast.xml")}"\n'
        f'\n[[sidebar.sources]]\nname = "Slow"\nurl = "{outside.url("/slow.xml")}"\n'
    )


# -- 7: a dead worker is replaced, the others keep serving ----------------------------------


def load(port: int, stop: threading.Event, results: list[int], count: int) -> None:
    """Requests on fresh connections (feeds and /healthz) until ``stop`` or ``count`` of them;
    each status kept, -1 for a request that failed."""
    paths = ["/feed.atom", "/healthz", "/sections/news/feed.rss", "/feed.json"]
    for i in range(count):
        if stop.is_set():
            return
        try:
            results.append(get(port, paths[i % len(paths)])[0])
        except (OSError, http.client.HTTPException):
            results.append(-1)


def test_a_killed_worker_is_replaced_at_once_while_the_others_serve(site: Path, reaper: Reaper):
    with serving(site, reaper, "--no-fetch") as server:
        victim = next(pid for pid in server.workers() if pid != server.leader())
        stop = threading.Event()
        results: list[list[int]] = [[] for _ in range(4)]  # four clients at once
        threads = [
            threading.Thread(target=load, args=(server.port, stop, r, 10_000), daemon=True)
            for r in results
        ]
        for thread in threads:
            thread.start()
        try:
            time.sleep(1.0)
            before = sum(map(len, results))
            os.kill(victim, signal.SIGKILL)

            def replaced() -> bool:
                new = [pid for pid, _ in server.serving() if pid not in reaper.seen]
                return bool(new) and all(running(p) for p in new)

            restart = wait_until(replaced, 5, step=0.005)
            assert restart is not None, server.stderr()
            at_restart = sum(map(len, results))
            time.sleep(1.5)  # the new worker takes its share of the load
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=20)
        statuses = [s for r in results for s in r]
        failed = [s for s in statuses if s != 200]
        new_worker = next(pid for pid, _ in server.serving() if pid not in reaper.seen)
        reaper.note(new_worker)
        served_by_new = metrics_by_pid(server.port, {new_worker})
        print(
            f"\nworker kill under load (4 clients, fresh connections): {len(statuses)} requests "
            f"({before} before the kill, {at_restart - before} while it was replaced), "
            f"{len(failed)} failed {sorted(set(failed))}; "
            f"new worker serving {restart * 1000:.0f} ms after the kill"
        )
        assert not running(victim)
        assert sorted(server.workers()) == sorted([server.leader(), new_worker])
        assert server.leader() != new_worker  # the leader was left alone
        assert new_worker in served_by_new
        assert len(statuses) >= 2000
        assert len(failed) <= 64, f"{len(failed)} requests failed"
        assert set(failed) <= {-1}, "a worker answered an error while another was killed"
        assert restart < 1.0
        assert "worker 1 died (killed by SIGKILL); restarting it now" in server.stderr()
        assert get(server.port, "/healthz")[0] == 200
        assert server.stop() == 0


def test_a_killed_leader_is_replaced_by_exactly_one_new_leader(site: Path, reaper: Reaper):
    with serving(site, reaper, "--no-fetch") as server:
        old = server.leader()
        other = next(pid for pid in server.workers() if pid != old)
        # An edit the restarted worker must pick up although it was forked from
        # a supervisor that loaded the config before it.
        site.write_text(MINIMAL_CONFIG.replace('title = "Comment"', 'title = "Opinion"'))
        os.kill(old, signal.SIGKILL)
        took = wait_until(lambda: server.leader() != old and running(server.leader()), 5, 0.005)
        assert took is not None, server.stderr()
        new = server.leader()
        reaper.note(new)
        print(f"\nleader kill: new leader serving {took * 1000:.0f} ms after the kill")
        assert took < 1.0
        assert not running(old)
        assert sorted(server.workers()) == sorted([new, other])
        assert [leader for _, leader in server.serving()].count(True) == 2  # old, then new

        # Only the new leader runs the change door: a write by another process
        # is announced once. /metrics sums every worker (syndicate.metrics), so
        # a second announcer would show as a total that grew by two.
        name = "syndicate_changes_announced_total"
        before = metrics_by_pid(server.port, {new, other})
        assert counter(before[other], name) == counter(before[new], name)
        from syndicate.records import parse_record
        from syndicate.store import Store

        with Store.open(site.parent / "store.db") as store:
            store.upsert_articles(
                [parse_record(sample_record(500), ("news", "comment"))], datetime.now(UTC)
            )

        def announced() -> bool:
            now = metrics_by_pid(server.port, {new})
            return counter(now.get(new, ""), name) > counter(before[new], name)

        assert wait_until(announced, 5, 0.1) is not None
        time.sleep(1.5)  # figures reach the shared totals within a second
        after = metrics_by_pid(server.port, {new, other})
        for pid in (new, other):
            assert counter(after[pid], name) == counter(before[new], name) + 1
        # The restarted leader reloaded the edited file when it started (the
        # other worker may have noticed the edit by itself meanwhile).
        assert counter(after[new], 'syndicate_config_reloads_total{trigger="file"}') >= 1
        # Both live workers are listed, the killed one no longer.
        assert f'pid="{old}"' not in after[new].split("syndicate_info")[0]

        # SIGHUP to the supervisor still reloads every worker, the new one too.
        os.kill(server.proc.pid, signal.SIGHUP)

        def everyone_reloaded() -> bool:
            now = metrics_by_pid(server.port, {new, other})
            return all('trigger="signal"} 2.0' in now.get(pid, "") for pid in (new, other))

        assert wait_until(everyone_reloaded, 5, 0.1) is not None
        assert b"<title>Opinion" in get(server.port, "/sections/comment/feed.atom")[1]
        assert server.stop() == 0


# -- 8: one server per store; nothing outlives a killed supervisor -------------------------


def test_a_killed_supervisor_takes_its_workers_and_parsers_along(
    tmp_path: Path, reaper: Reaper, outside: Outside
):
    config = write_config(tmp_path, with_sources(outside))
    fill_store(tmp_path / "store.db", 20)
    with serving(config, reaper) as server:
        # The leader fetched /fast.xml (a parser process now exists) and is
        # still waiting for /slow.xml.
        assert wait_until(lambda: parsers(server.leader()), 10, 0.05) is not None
        reaper.note_tree(server.proc.pid)
        family = [server.proc.pid, *descendants(server.proc.pid)]

        # A second server of the same store is refused while the first runs.
        second = subprocess.run(
            [*SYNDICATE, "--config", str(config), "serve", "--port", "0"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1
        assert (
            f"another syndicate serve (pid {server.proc.pid}) is serving this store on "
            f"127.0.0.1:{server.port}; stop it first"
        ) in second.stderr

        server.proc.kill()
        server.proc.wait(timeout=5)
        gone = wait_until(lambda: not any(running(p) for p in family), 5)
        assert gone is not None, [(p, cmdline(p)) for p in family if running(p)]
        print(f"\nsupervisor kill -9: its {len(family) - 1} processes gone in {gone * 1000:.0f} ms")
        assert gone < 2.0
        with contextlib.suppress(OSError):
            assert get(server.port, "/healthz", timeout=1)[0] != 200  # nobody serves it

    # The lock died with it: a new server of the same store starts.
    with serving(config, reaper) as again:
        assert get(again.port, "/healthz")[0] == 200
        assert again.stop() == 0, again.stderr()


def test_a_second_server_on_the_same_port_is_refused(site: Path, reaper: Reaper, tmp_path: Path):
    other = tmp_path / "other"
    other.mkdir()
    with serving(site, reaper, "--no-fetch") as server:
        config = write_config(other, MINIMAL_CONFIG)
        fill_store(other / "store.db", 1)
        second = subprocess.run(
            [*SYNDICATE, "--config", str(config), "serve", "--port", str(server.port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1
        assert f"127.0.0.1:{server.port} is in use by another process" in second.stderr
        assert server.stop() == 0


# -- 9: SIGTERM stops gracefully -------------------------------------------------------------


def add_token(store_path: Path) -> str:
    from syndicate.passwords import new_token
    from syndicate.store import Store
    from syndicate.store.accounts import Accounts

    secret = new_token()
    with Store.open(store_path) as store:
        Accounts(store).add_token("cms", secret, datetime.now(UTC))
    return secret


def test_sigterm_finishes_the_request_in_flight_stops_the_fetcher_and_exits_0(
    tmp_path: Path, reaper: Reaper, outside: Outside
):
    import json

    config = write_config(tmp_path, with_sources(outside))
    fill_store(tmp_path / "store.db", 20)
    token = add_token(tmp_path / "store.db")
    body = json.dumps(sample_record(900, slug="sent-slowly")).encode()
    with serving(config, reaper) as server:
        # The fetcher has recorded /fast.xml and is in the middle of /slow.xml
        # (which would take 20 s, and the fetcher's timeout is 30 s).
        assert wait_until(lambda: fetched(tmp_path / "store.db", "Fast"), 15, 0.1) is not None
        reaper.note_tree(server.proc.pid)
        # A PUT whose body is half sent: its handler is running, reading it.
        client = socket.create_connection((HOST, server.port), timeout=10)
        head = (
            f"PUT /api/articles/sent-slowly HTTP/1.1\r\nHost: {HOST}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        client.sendall(head + body[:100])
        time.sleep(0.3)
        server.proc.send_signal(signal.SIGTERM)
        sent_at = time.monotonic()

        def refusing() -> bool:
            try:
                socket.create_connection((HOST, server.port), timeout=1).close()
            except ConnectionRefusedError:
                return True
            return False

        assert wait_until(refusing, 3, 0.05) is not None, "still accepting after SIGTERM"
        client.sendall(body[100:])
        reply = b""
        for _ in range(100):
            chunk = client.recv(65536)
            if not chunk:
                break
            reply += chunk
        client.close()
        assert reply.startswith(b"HTTP/1.1 201"), reply[:200]
        code = server.proc.wait(timeout=10)
        took = time.monotonic() - sent_at
        print(f"\nSIGTERM with a request and a fetch in flight: exit {code} after {took:.2f} s")
        assert code == 0, server.stderr()
        assert took < 10
        assert "syndicate: stopped" in server.stderr()
        # The workers, the parser and multiprocessing's resource tracker (which
        # leaves once every process holding its pipe has) are all gone.
        assert wait_until(lambda: not any(running(p) for p in reaper.seen), 2) is not None

    # The source cut off by the stop was not recorded (it is fetched again next time).
    assert not fetched(tmp_path / "store.db", "Slow")


def fetched(store_path: Path, name: str) -> bool:
    from syndicate.store import Store
    from syndicate.store.sources import Sources

    with Store.open(store_path, create=False) as store:
        return any(row.name == name and row.last_fetch for row in Sources(store).all())


# -- 10: nothing outlives `syndicate fetch` -----------------------------------------------------


def test_a_killed_fetch_leaves_no_parser_process(tmp_path: Path, reaper: Reaper, outside: Outside):
    config = write_config(tmp_path, with_sources(outside))
    fill_store(tmp_path / "store.db", 1)
    proc = subprocess.Popen(
        [*SYNDICATE, "--config", str(config), "fetch", "--all"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    reaper.note(proc.pid)
    try:
        # /fast.xml is parsed (its parser process stays), /slow.xml still trickles in.
        assert wait_until(lambda: parsers(proc.pid), 15, 0.05) is not None
        reaper.note_tree(proc.pid)
        family = descendants(proc.pid)
        proc.kill()
        proc.wait(timeout=5)
        gone = wait_until(lambda: not any(running(p) for p in family), 5)
        print(
            f"\nfetch kill -9: {len(family)} child process(es) gone in {(gone or 0) * 1000:.0f} ms"
        )
        assert gone is not None, [(p, cmdline(p)) for p in family if running(p)]
        assert gone < 2.0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


# -- the pieces ---------------------------------------------------------------------------------


def test_a_child_whose_parent_is_already_gone_exits_at_once():
    script = (
        "from syndicate.lifetime import die_with_parent\n"
        "die_with_parent(1)\n"  # pid 1 is not our parent: as if ours had died
        "print('still here')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "still here" not in result.stdout


def test_a_worker_that_keeps_failing_to_start_is_retried_with_backoff_then_given_up():
    script = (
        "import sys\n"
        "from syndicate.web.supervise import BOOT_FAILED, Supervisor\n"
        "sys.exit(Supervisor(1, lambda index: BOOT_FAILED).run())\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    took = time.monotonic() - started
    assert result.returncode == 1
    delays = re.findall(r"restarting it (now|in \S+ s)", result.stderr)
    assert delays == ["now", "in 0.5 s", "in 1 s", "in 2 s"], result.stderr
    assert "failed to start 5 times in a row" in result.stderr
    assert 3.0 < took < 15


async def test_a_store_write_in_progress_finishes_before_a_stop_lands():
    import asyncio

    from syndicate.fetch.runner import _to_the_end

    written = threading.Event()

    def write() -> str:
        time.sleep(0.3)
        written.set()
        return "done"

    task = asyncio.create_task(_to_the_end(write))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert written.is_set(), "the stop landed in the middle of the write"
