"""The supervisor of `syndicate serve`: one server per store, its workers kept alive.

`syndicate serve --workers N` is one supervisor process and N forked
workers, each with its own listening socket on the same port
(SO_REUSEPORT). The supervisor:

- holds an exclusive lock on ``<store>.serve.lock`` for as long as it lives,
  so a second `syndicate serve` of the same store is refused with the pid and
  address of the first; the kernel drops the lock when the supervisor dies,
  even by kill -9, and the workers never hold it (they close it when forked);
- claims the port before any worker binds it, by binding without
  SO_REUSEPORT first, which fails while anything listens there: two
  generations of workers never share a port;
- restarts a worker that dies, at once the first time and with a doubling
  delay while it keeps dying young, in the same slot: slot 0 is the leader
  (the change door and the fetcher), so a restarted leader takes the role
  back, and the old one is known dead (reaped) before the new one is forked,
  so exactly one process holds the role at any time;
- forwards SIGHUP (reload the config) and SIGTERM/SIGINT (stop gracefully)
  to the workers, waits for them, and exits 0 if they all stopped cleanly
  within STOP_TIMEOUT (what is left then is killed, and it exits 1).

Workers die with the supervisor (syndicate.lifetime): orphaned, they stop
as if sent SIGTERM.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from syndicate.clock import SYSTEM, Clock
from syndicate.errors import SyndicateError
from syndicate.lifetime import die_with_parent
from syndicate.metrics import process_gone

#: Seconds a worker gets to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 9.5
#: A worker that lived this long before dying is restarted at once.
STEADY = 10.0
#: Restart delays for a worker that keeps dying young: 0, FIRST_DELAY, twice that...
FIRST_DELAY = 0.5
MAX_DELAY = 30.0
#: Exit status of a worker that failed before it served anything.
BOOT_FAILED = 3
#: Consecutive start-up failures of one slot after which the supervisor gives up.
GIVE_UP_AFTER = 5
#: Seconds to wait for the port while an older generation's workers let go of it.
PORT_WAIT = 2.0

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD)


class ServeError(SyndicateError):
    """This server cannot start: the store or the port is taken."""


# -- one server per store ---------------------------------------------------------


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".serve.lock")


class StoreLock:
    """An exclusive flock(2) on ``<store>.serve.lock``, naming its holder inside.

    The file stays behind when the server stops (removing it would race with
    the next server locking it); only the lock matters, and the kernel
    releases that when the holding process dies, however it dies.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def take(cls, store_path: Path) -> StoreLock:
        path = lock_path(store_path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, where = _holder(fd)
            os.close(fd)
            raise ServeError(
                f"another syndicate serve (pid {pid}) is serving this store on {where};"
                " stop it first"
            ) from None
        except OSError:
            os.close(fd)
            raise
        lock = cls(path, fd)
        lock.name("")
        return lock

    def name(self, where: str) -> None:
        """Write this process's pid and address into the file, for a refused server to show."""
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n{where}\n".encode(), 0)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _holder(fd: int) -> tuple[str, str]:
    """The pid and address a lock holder wrote; it writes the address a moment
    after locking, so wait a little for it (at most a second)."""
    pid, where = "?", "an address it has not named yet"
    for _ in range(20):
        lines = os.pread(fd, 512, 0).decode("utf-8", "replace").splitlines()
        if lines:
            pid = lines[0] or pid
        if len(lines) > 1 and lines[1]:
            return pid, lines[1]
        time.sleep(0.05)
    return pid, where


# -- one generation per port ------------------------------------------------------


def claim_port(host: str, port: int) -> socket.socket:
    """Bind ``host:port`` (not listening) for the workers to share, or refuse if it is in use.

    The bind is made without SO_REUSEPORT, which Linux refuses while any
    socket listens on the port (an older generation's workers, another
    program); SO_REUSEPORT is set only afterwards, so the workers can bind
    beside it. The socket holds the port, resolves port 0 once for every
    worker, and keeps the port while a worker restarts. An older generation
    stopping as this one starts gets PORT_WAIT seconds to let go.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(int(PORT_WAIT / 0.1) + 1):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE:
                raise
            time.sleep(0.1)
            continue
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        return sock
    shown = f"[{host}]" if ":" in host else host
    raise ServeError(f"{shown}:{port} is in use by another process; stop it or choose another port")


# -- the workers ------------------------------------------------------------------


@dataclass
class Slot:
    """One worker's place: slot 0 is the leader's, whichever process fills it."""

    index: int
    pid: int | None = None
    born: float = 0.0
    #: When to start a worker here again, if it is empty.
    due: float | None = None
    #: Deaths in a row of workers that died young, and start-up failures in a row.
    young: int = 0
    boot_failures: int = 0


def describe(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit status {code}"


class Supervisor:
    """Fork ``count`` workers and keep them running until told to stop.

    ``work(index)`` runs in the forked child and returns its exit status
    (BOOT_FAILED if it never served); ``close_in_child`` are descriptors of
    the supervisor's (the store lock, the port holder) that a worker must not
    keep open.
    """

    def __init__(
        self,
        count: int,
        work: Callable[[int], int],
        *,
        close_in_child: Sequence[int] = (),
        clock: Clock = SYSTEM,
    ) -> None:
        self.slots = [Slot(i) for i in range(count)]
        self.work = work
        self.close_in_child = list(close_in_child)
        self.clock = clock
        self.pid = os.getpid()
        self.stop_signal: int | None = None
        self.hangups = 0
        self.stopping_since: float | None = None
        self.failed = False
        self._wake: tuple[int, int] = (-1, -1)

    # -- signals ------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self.stop_signal = signum
        elif signum == signal.SIGHUP:
            self.hangups += 1
        # SIGCHLD: nothing to note; the main loop reaps.

    def _send(self, sig: int) -> None:
        for slot in self.slots:
            if slot.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.pid, sig)

    # -- starting and reaping ---------------------------------------------------------

    def _start(self, slot: Slot) -> None:
        # Signals wait until the child has its own handlers: one arriving in
        # between would run the supervisor's handler in the child and be lost.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                self._child(slot.index, blocked)  # never returns
        except OSError as exc:  # no memory or too many processes: try again later
            print(
                f"syndicate: cannot start worker {slot.index}: {exc}", file=sys.stderr, flush=True
            )
            slot.due = self.clock.monotonic() + 1.0
            return
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        slot.pid, slot.born, slot.due = pid, self.clock.monotonic(), None

    def _child(self, index: int, mask: set[int | signal.Signals]) -> None:
        code = BOOT_FAILED
        try:
            signal.set_wakeup_fd(-1)
            for fd in [*self._wake, *self.close_in_child]:
                with contextlib.suppress(OSError):
                    os.close(fd)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            # Until the worker's own handler is in place, a reload signal
            # must not kill it (SIGHUP's default action).
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            die_with_parent(self.pid)
            code = self.work(index)
        except BaseException as exc:  # a worker must never fall back into the supervisor's loop
            print(f"syndicate worker: {exc}", file=sys.stderr, flush=True)
        finally:
            os._exit(code)

    def _reap(self) -> None:
        for _ in range(len(self.slots) + 1):
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = next((s for s in self.slots if s.pid == pid), None)
            if slot is not None:
                self._died(slot, status)

    def _died(self, slot: Slot, status: int) -> None:
        if slot.pid is not None:
            process_gone(slot.pid)
        slot.pid = None
        code = os.waitstatus_to_exitcode(status)
        if self.stopping_since is not None:
            if code not in (0, -signal.SIGTERM, -signal.SIGINT):
                self.failed = True
                print(
                    f"syndicate: worker {slot.index} stopped badly ({describe(status)})",
                    file=sys.stderr,
                    flush=True,
                )
            return
        now = self.clock.monotonic()
        slot.young = slot.young + 1 if now - slot.born < STEADY else 1
        slot.boot_failures = slot.boot_failures + 1 if code == BOOT_FAILED else 0
        if slot.boot_failures >= GIVE_UP_AFTER:
            print(
                f"syndicate: worker {slot.index} failed to start {slot.boot_failures} times"
                " in a row; stopping",
                file=sys.stderr,
                flush=True,
            )
            self.failed = True
            self.stop_signal = self.stop_signal or signal.SIGTERM
            return
        delay = 0.0 if slot.young <= 1 else min(MAX_DELAY, FIRST_DELAY * 2 ** (slot.young - 2))
        slot.due = now + delay
        role = " (the leader)" if slot.index == 0 else ""
        when = "now" if delay == 0 else f"in {delay:g} s"
        print(
            f"syndicate: worker {slot.index}{role} died ({describe(status)}); restarting it {when}",
            file=sys.stderr,
            flush=True,
        )

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> int:
        """Supervise until stopped; the exit status for the whole server."""
        self._wake = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        old_wakeup = signal.set_wakeup_fd(self._wake[1], warn_on_full_buffer=False)
        old_handlers = {sig: signal.signal(sig, self._on_signal) for sig in SIGNALS}
        try:
            for slot in self.slots:
                if self.stop_signal is None:
                    self._start(slot)
            self._loop()
        finally:
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(old_wakeup)
            for fd in self._wake:
                os.close(fd)
        print("syndicate: stopped", file=sys.stderr, flush=True)
        return 1 if self.failed else 0

    def _loop(self) -> None:
        hangups = 0
        killed = False
        while True:
            self._reap()
            now = self.clock.monotonic()
            if self.stop_signal is not None and self.stopping_since is None:
                self.stopping_since = now
                for slot in self.slots:
                    slot.due = None
                self._send(signal.SIGTERM)
            if self.hangups != hangups:
                hangups = self.hangups
                self._send(signal.SIGHUP)
            alive = [s for s in self.slots if s.pid is not None]
            if self.stopping_since is not None:
                if not alive:
                    return
                if now - self.stopping_since >= STOP_TIMEOUT + (1.0 if killed else 0.0):
                    if killed:  # even SIGKILL left something: stop waiting for it
                        self.failed = True
                        return
                    print(
                        "syndicate: workers still running; killing them",
                        file=sys.stderr,
                        flush=True,
                    )
                    self._send(signal.SIGKILL)
                    self.failed = killed = True
                timeout = 0.2
            else:
                for slot in self.slots:
                    if slot.pid is None and slot.due is not None and slot.due <= now:
                        self._start(slot)
                pending = [s.due for s in self.slots if s.pid is None and s.due is not None]
                timeout = max(0.0, min(pending) - now) if pending else 5.0
            self._sleep(timeout)

    def _sleep(self, timeout: float) -> None:
        """Wait for a signal (written to the wake-up pipe) or ``timeout`` seconds."""
        readable, _, _ = select.select([self._wake[0]], [], [], timeout)
        if readable:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake[0], 4096)
