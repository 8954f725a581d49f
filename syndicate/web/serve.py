"""Running the app: worker processes sharing one port, or one request for debugging.

Several workers each own a listening socket on the same port (SO_REUSEPORT),
so the kernel spreads connections between them. They share nothing but the
SQLite file; every worker builds the same bytes for the same store, so their
ETags agree without any coordination. syndicate.web.supervise keeps them
running; this module is what each of them runs.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from syndicate import logs
from syndicate.catalog import (
    DIRECTORY_HTML,
    DIRECTORY_OPML,
    FORMATS,
    SIDEBAR_HTML,
    document_path,
    feed_path,
)
from syndicate.config import Config
from syndicate.live import fingerprint
from syndicate.metrics import share_between_processes
from syndicate.models import SITE, Scope
from syndicate.store import Store
from syndicate.web.app import REQUEST_TIMEOUT, make_app
from syndicate.web.fetching import stop_fetching
from syndicate.web.keys import DOOR, LIVE
from syndicate.web.live import SUPERVISOR_ENV
from syndicate.web.supervise import BOOT_FAILED, StoreLock, Supervisor, claim_port


def startup_urls(config: Config, root: str) -> list[str]:
    """The URLs worth printing at start-up, so an editor can click them."""
    urls = [root + "/"] if config.site.pages else []
    urls += [root + feed_path(SITE, fmt) for fmt in FORMATS]
    urls += [root + feed_path(Scope("section", s.slug), "atom") for s in config.sections]
    urls += [root + feed_path(Scope("digest", d.slug), "atom") for d in config.digests]
    urls += [root + document_path(k) for k in (DIRECTORY_HTML, DIRECTORY_OPML, SIDEBAR_HTML)]
    urls += [f"{root}/admin"]
    urls += [f"{root}/healthz"]
    return urls


def _listen(host: str, port: int) -> socket.socket:
    """A worker's own socket on the shared port, bound but not yet listening:
    the kernel hands it connections only once the worker serves (aiohttp
    listens when the site starts), so none wait on a worker still starting."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


#: Seconds the requests in flight get to finish after SIGTERM (the supervisor
#: kills a worker still running STOP_TIMEOUT seconds after it)...
GRACE = 6.0
#: ...and then what aiohttp's own shutdown gives a handler still running
#: before it cancels it.
LAST_CALL = 2.0
#: Seconds between looks at the connections while they finish.
DRAIN_STEP = 0.05


async def _drain(runner: web.AppRunner, seconds: float) -> None:
    """Let the requests in flight finish, closing each connection once it is idle,
    until none is busy or ``seconds`` have passed.

    aiohttp's graceful shutdown (``runner.cleanup``) stops reading every
    connection at once, so a request whose body is still arriving (a PUT from
    the CMS on a slow link) would never get the rest of it; this comes first.
    """
    server = runner.server
    if server is None:
        return
    for _ in range(int(seconds / DRAIN_STEP)):
        busy = False
        for connection in server.connections:
            # aiohttp has no public word for "handling a request"; if the
            # attribute goes away, every connection counts as busy until it
            # closes or the time is up, which is safe.
            if getattr(connection, "_request_in_progress", True):
                busy = True
            else:
                connection.close()
        if not busy:
            return
        await asyncio.sleep(DRAIN_STEP)


async def _serve_worker(
    config: Config,
    store: Store,
    sock: socket.socket,
    *,
    leader: bool,
    fetcher: bool,
    seen: str,
    serving: Callable[[], None] = lambda: None,
) -> None:
    """Serve on ``sock`` until SIGTERM or SIGINT, then stop gracefully.

    Stopping: close the listening socket (no new connection is accepted),
    stop the fetcher between sources and meanwhile let the requests in
    flight finish (GRACE seconds, then LAST_CALL), then close the app.

    ``seen`` is the fingerprint of config.toml when the server started: a
    worker started later (a restart) reloads the file if it changed since, so
    it serves the config the other workers serve.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    app = make_app(config, store, fetcher=fetcher, leader=leader, push_process=True)
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=LAST_CALL,
        keepalive_timeout=REQUEST_TIMEOUT,
    )
    await runner.setup()
    try:
        live = app[LIVE]
        if live.seen != seen:
            live.reload("file")
        # SIGHUP: read config.toml again now (it is also checked every few seconds).
        loop.add_signal_handler(signal.SIGHUP, live.reload)
        if not stop.is_set():
            await web.SockSite(runner, sock).start()
            serving()
            _freeze_heap()
            door = app.get(DOOR)
            if door is not None:  # the leader: again once the census has built everything
                census = asyncio.create_task(door.ready.wait())
                census.add_done_callback(lambda _: _freeze_heap())
            role = "leader: worker" if leader else "worker"
            print(f"syndicate: {role} pid {os.getpid()} serving", file=sys.stderr, flush=True)
            await stop.wait()
        for site in list(runner.sites):
            await site.stop()
        await asyncio.gather(stop_fetching(app), _drain(runner, GRACE))
    finally:
        await runner.cleanup()


def _freeze_heap() -> None:
    """Leave what was made while starting out of the collector's full passes.

    A worker lives with tens of thousands of objects made at start (the
    modules' functions and classes, the app, the config) and, in the leader,
    as many more made by the change door's census (the builders' caches of
    articles, people, tags and entries). Each full (generation 2) collection
    walked them all, 50-95 ms with every thread held, at a moment nobody
    chose: a publish's rebuilds allocate enough to set one off now and then,
    and one publish in ten or so stalled every request in flight by 80-110 ms
    (a gc callback's timings matched each stall; bench/bench_websub.py).
    :func:`gc.freeze` moves them to a generation the collector never visits
    (as Instagram did for its Django workers), so a full pass walks only
    what was made since. They are still freed when nothing refers to them;
    only a reference cycle among them that became garbage later would stay
    (bench/soak.py watches a worker's memory for that).
    """
    gc.collect()
    gc.freeze()


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


def _worker(
    config: Config,
    host: str,
    port: int,
    *,
    leader: bool,
    fetcher: bool,
    seen: str,
    serving: Callable[[], None] = lambda: None,
) -> None:
    _tame_malloc()
    sock = _listen(host, port)
    store = Store.open(config.store_path, create=False)
    try:
        asyncio.run(
            _serve_worker(
                config, store, sock, leader=leader, fetcher=fetcher, seen=seen, serving=serving
            )
        )
    finally:
        # Only now: asyncio.run has waited for the build threads, which may
        # still be reading the store after their tasks were cancelled (the
        # change door's first census, a feed build); closing it under them
        # crashes SQLite.
        store.close()


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
    the sidebar's fetcher unless ``fetch`` is off. With several workers a
    supervisor (syndicate.web.supervise) forks them, restarts any that dies
    (a dead leader's slot is refilled by a new leader) and stops them
    gracefully; with one, this process serves alone.

    Refuses (ServeError) while another server holds the store or listens on
    the port.
    """
    logs.setup()
    host = host or config.server.host
    port = config.server.port if port is None else port
    count = workers if workers is not None else config.server.workers
    count = count or os.cpu_count() or 1
    Store.open(config.store_path, create=False).close()  # fail early, in the parent
    # A reload signal during start-up must not kill us (SIGHUP's default
    # action); the workers install their real handler once they serve.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    seen = fingerprint(config.source)
    lock = StoreLock.take(config.store_path)
    try:
        # Hold the port (bound, not listening) so port 0 resolves once for every worker.
        holder = claim_port(host, port)
        try:
            port = holder.getsockname()[1]
            shown = f"[{host}]" if ":" in host else host
            root = f"http://{shown}:{port}"
            lock.name(f"{shown}:{port}")
            print(
                f"syndicate: serving {config.site.title!r} on {root} with {count} worker(s)",
                flush=True,
            )
            for url in startup_urls(config, root):
                print(f"  {url}", flush=True)
            if count == 1:
                _worker(config, host, port, leader=True, fetcher=fetch, seen=seen)
                return

            def work(index: int) -> int:
                started = False

                def serving() -> None:
                    nonlocal started
                    started = True

                # Whom to ask for a reload of every worker (an admin edit; see adminedit).
                os.environ[SUPERVISOR_ENV] = str(os.getppid())
                try:
                    _worker(
                        config,
                        host,
                        port,
                        leader=index == 0,
                        fetcher=fetch and index == 0,
                        seen=seen,
                        serving=serving,
                    )
                except Exception as exc:
                    print(f"syndicate worker: {exc}", file=sys.stderr, flush=True)
                    return 1 if started else BOOT_FAILED
                return 0

            # /metrics must show the whole server whichever worker answers it.
            shared = Path(tempfile.mkdtemp(prefix="syndicate-metrics-"))
            share_between_processes(shared)
            supervisor = Supervisor(count, work, close_in_child=[lock.fd, holder.fileno()])
            try:
                if supervisor.run() != 0:
                    sys.exit(1)
            finally:
                shutil.rmtree(shared, ignore_errors=True)
        finally:
            holder.close()
    finally:
        lock.release()


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
