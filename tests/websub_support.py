"""A loopback WebSub subscriber for tests: a real aiohttp server in a thread of its own.

Every callback is ``/cb/{name}``; how it behaves is set per name before the
hub calls it (``answer``), and everything it is sent is kept (``seen``), so a
test can run it beside an in-process app or a `syndicate serve` subprocess
alike and wait on what arrived.
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.support import stop_process


@dataclass
class Call:
    name: str
    method: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


@dataclass
class Behaviour:
    #: GET verification: "echo" the challenge, "wrong" echo, or answer "status" with it.
    verify: str = "echo"
    verify_status: int = 200
    #: POST deliveries: statuses to answer in turn (the last repeats); "hang" sleeps first.
    statuses: list[int] = field(default_factory=lambda: [200])
    hang: float = 0.0


class Subscriber:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.behaviours: dict[str, Behaviour] = {}
        self.lock = threading.Lock()
        self.root = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    # -- the server ------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        body = await request.read()
        behaviour = self.behaviours.get(name, Behaviour())
        with self.lock:
            self.calls.append(
                Call(name, request.method, dict(request.query), dict(request.headers), body)
            )
            posts = sum(1 for c in self.calls if c.name == name and c.method == "POST")
        if request.method == "GET":
            challenge = request.query.get("hub.challenge", "")
            if behaviour.verify == "wrong":
                challenge += "x"
            return web.Response(status=behaviour.verify_status, text=challenge)
        if behaviour.hang:
            await asyncio.sleep(behaviour.hang)
        statuses = behaviour.statuses
        return web.Response(status=statuses[min(posts - 1, len(statuses) - 1)])

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            app = web.Application()
            app.router.add_route("*", "/cb/{name}", self._handle)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.root = f"http://127.0.0.1:{port}"
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()

        asyncio.run(main())

    def start(self) -> Subscriber:
        self._thread.start()
        assert self._ready.wait(10), "the subscriber did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    # -- for tests -------------------------------------------------------------------

    def url(self, name: str) -> str:
        return f"{self.root}/cb/{name}"

    def seen(self, name: str, method: str | None = None) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.name == name and method in (None, c.method)]

    def wait(self, check: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
        """Poll ``check`` until it returns something true (returned), or fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what or check}")

    async def await_(self, check: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what or check}")


@contextmanager
def subscriber() -> Iterator[Subscriber]:
    running = Subscriber().start()
    try:
        yield running
    finally:
        running.stop()


@contextmanager
def serve(
    config: Path, workers: int = 1, port: int = 0
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`syndicate serve` (port 0: a free one): (its process, its root URL); stopped by pid."""
    command = [sys.executable, "-m", "syndicate", "--config", str(config), "serve"]
    proc = subprocess.Popen(
        [*command, "--port", str(port), "--workers", str(workers), "--no-fetch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        root = ""
        while not root and time.monotonic() < deadline:
            found = re.search(r"on (http://\S+)", proc.stdout.readline())
            root = found.group(1) if found else ""
            assert proc.poll() is None, "the server exited"
        assert root, "the server did not say where it listens"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(root + "/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.0)  # the leader's census: changes are reported from then on
        yield proc, root
    finally:
        stop_process(proc)


def free_port() -> int:
    """A port nothing listens on now (for servers whose URL must be known before they start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
