"""Running the app: worker processes sharing one port, or one request for debugging.

Several workers each own a listening socket on the same port (SO_REUSEPORT),
so the kernel spreads connections between them. They share nothing but the
SQLite file; every worker builds the same bytes for the same store, so their
ETags agree without any coordination.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Sequence

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from syndicate.catalog import (
    DIRECTORY_HTML,
    DIRECTORY_OPML,
    FORMATS,
    SIDEBAR_HTML,
    document_path,
    feed_path,
)
from syndicate.config import Config
from syndicate.models import SITE, Scope
from syndicate.store import Store
from syndicate.web.app import make_app
from syndicate.web.keys import LIVE


def startup_urls(config: Config, root: str) -> list[str]:
    """The URLs worth printing at start-up, so an editor can click them."""
    urls = [root + feed_path(SITE, fmt) for fmt in FORMATS]
    urls += [root + feed_path(Scope("section", s.slug), "atom") for s in config.sections]
    urls += [root + document_path(k) for k in (DIRECTORY_HTML, DIRECTORY_OPML, SIDEBAR_HTML)]
    urls += [f"{root}/admin"]
    urls += [f"{root}/healthz"]
    return urls


def _listen(host: str, port: int, *, listen: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(1024)
        sock.setblocking(False)
    return sock


async def _serve_worker(config: Config, sock: socket.socket, leader: bool, fetcher: bool) -> None:
    store = Store.open(config.store_path, create=False)
    app = make_app(config, store, fetcher=fetcher, leader=leader)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # SIGHUP: read config.toml again now (it is also checked every few seconds).
    loop.add_signal_handler(signal.SIGHUP, app[LIVE].reload)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        store.close()


def _tame_malloc() -> None:
    """Two malloc arenas, so that each build thread does not keep one of its own.

    The mmap threshold is left to glibc on purpose: a fixed low one (tried, to
    give each ~100 KB feed its own mapping) also puts every socket read
    through mmap, mremap and munmap, since CPython allocates recv's 256 KiB
    buffer before shrinking it. That cost a third of the throughput.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


def _worker(config: Config, host: str, port: int, leader: bool, fetcher: bool) -> None:
    _tame_malloc()
    sock = _listen(host, port, listen=True)
    asyncio.run(_serve_worker(config, sock, leader, fetcher))


def run_server(
    config: Config,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    *,
    fetch: bool = True,
) -> None:
    """Serve until SIGINT or SIGTERM, with ``workers`` processes (0: one per core).

    The first worker is the leader: it runs the change door, so whatever
    acts on a change (push, purge) acts once however many workers serve, and
    the sidebar's fetcher unless ``fetch`` is off. The supervisor picks it
    when it forks, so exactly one process ever holds the role.
    """
    host = host or config.server.host
    port = config.server.port if port is None else port
    count = workers if workers is not None else config.server.workers
    count = count or os.cpu_count() or 1
    Store.open(config.store_path, create=False).close()  # fail early, in the parent
    # A reload signal during start-up must not kill us (SIGHUP's default
    # action); the workers install their real handler once they serve.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # Hold the port (bound, not listening) so port 0 resolves once for every worker.
    holder = _listen(host, port, listen=False)
    port = holder.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    root = f"http://{shown}:{port}"
    print(f"syndicate: serving {config.site.title!r} on {root} with {count} worker(s)", flush=True)
    for url in startup_urls(config, root):
        print(f"  {url}", flush=True)
    if count == 1:
        _worker(config, host, port, True, fetch)
        return
    _supervise(config, host, port, count, fetch)


def _supervise(config: Config, host: str, port: int, count: int, fetch: bool) -> None:
    children: list[int] = []
    for index in range(count):
        pid = os.fork()
        if pid == 0:  # child
            code = 0
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                # Until the worker's own handler is in place, a reload signal
                # must not kill it (SIGHUP's default action).
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
                _worker(config, host, port, index == 0, fetch and index == 0)
            except BaseException as exc:  # a worker must never fall back into the parent loop
                print(f"syndicate worker: {exc}", file=sys.stderr, flush=True)
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    _wait_for(children)


def _wait_for(children: Sequence[int]) -> None:
    """Forward SIGINT/SIGTERM to the workers; if one dies, stop them all."""
    alive = set(children)

    def stop(signum: int, frame: object) -> None:
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def hangup(signum: int, frame: object) -> None:
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGHUP)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, hangup)
    failed = False
    while alive:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        alive.discard(pid)
        if os.waitstatus_to_exitcode(status) not in (0, -signal.SIGTERM):
            failed = True
            stop(signal.SIGTERM, None)
    print("syndicate: stopped", file=sys.stderr, flush=True)
    if failed:
        sys.exit(1)


def get_once(config: Config, path: str) -> tuple[int, str, bytes]:
    """Run one GET through the whole app on a loopback port; return status, head, body."""

    async def go() -> tuple[int, str, bytes]:
        store = Store.open(config.store_path, create=False)
        try:
            async with TestClient(TestServer(make_app(config, store))) as client:
                response = await client.get(path, allow_redirects=False)
                body = await response.read()
                head = f"HTTP/1.1 {response.status} {response.reason}\n" + "".join(
                    f"{k}: {v}\n" for k, v in response.headers.items()
                )
                return response.status, head, body
        finally:
            store.close()

    return asyncio.run(go())
