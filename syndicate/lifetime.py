"""Child processes that die with their parent, so none outlives the command that started it.

A worker of `syndicate serve` and a parser process of the fetcher are
children that only make sense while their parent lives: orphaned, a worker
would go on serving beside the next server's, and a parser would hold its
memory for nothing. Linux sends a chosen signal to a process when its parent
dies if the process asks with ``prctl(PR_SET_PDEATHSIG)``; elsewhere this is
a no-op and the parent's own shutdown is all there is.

The request must be made by the child itself, after it started, so the
parent may already be gone by then: the caller names the pid it expects as
its parent (read before forking or spawning) and the child exits at once if
its parent is not that one any more. The signal follows the parent *thread*
that created the child, so children must be started from a thread that lives
as long as the process (the main thread, where syndicate starts them).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

#: From <linux/prctl.h>.
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, sig: int = signal.SIGTERM) -> bool:
    """Have ``sig`` sent to this process when its parent dies; exit now if it already has.

    Returns whether the kernel took the request (False off Linux).
    """
    asked = False
    if sys.platform == "linux":
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            asked = libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
        except (OSError, AttributeError):  # no prctl: rely on the parent's shutdown
            asked = False
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
    return asked


#: From <linux/prctl.h>: the name ps, top and /proc/PID/comm show (15 bytes kept).
PR_SET_NAME = 15


def name_process(name: str) -> None:
    """Give this process a name of its own in ps and top (Linux; elsewhere nothing).

    A spawned child otherwise shows as one more "python", and an operator
    looking for the process that pushes, or a test killing it, could not
    tell it from a worker.
    """
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the name stays
        pass
