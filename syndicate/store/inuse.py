"""Whether another process has the store open, before a command replaces its file.

Replacing a store under a running server (``syndicate demo --replace``)
deletes the ``-wal`` and ``-shm`` files the server's connections are using:
the server goes on serving the old file, and SQLite may later write into or
remove files that now belong to the new one. So such commands ask first.

SQLite answers the question itself. In WAL mode every open connection holds
a shared POSIX lock on the database file's "shared" byte range (510 bytes
from 0x40000002, after the pending and reserved bytes; see "File Locking And
Concurrency In SQLite Version 3" and os_unix.c) for as long as it is open,
so that nobody changes the journal mode or deletes the WAL under it. Taking
that range exclusively, without waiting, succeeds only when no other process
has the store open; the lock is let go at once.
"""

from __future__ import annotations

import os
from pathlib import Path

#: SQLite's lock bytes (os_unix.c): PENDING_BYTE, then RESERVED, then SHARED_SIZE bytes.
PENDING_BYTE = 0x40000000
SHARED_FIRST = PENDING_BYTE + 2
SHARED_SIZE = 510


def open_elsewhere(path: Path) -> bool:
    """True when some other process has the store at ``path`` open.

    Call it while this process holds no connection to the store: POSIX locks
    belong to the process, and closing any descriptor of a file drops every
    lock the process holds on it, SQLite's included. Where there is no
    ``fcntl`` (Windows) or no file, the answer is False.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on this platform
        return False
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:  # no store (or not ours to write): nothing to replace under anyone
        return False
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, SHARED_SIZE, SHARED_FIRST)
        except OSError:
            return True
        fcntl.lockf(fd, fcntl.LOCK_UN, SHARED_SIZE, SHARED_FIRST)
        return False
    finally:
        os.close(fd)
