"""syndicate's app as gunicorn's aiohttp worker runs it, for bench/bench_supervisor.py.

    SYNDICATE_CONFIG=config.toml gunicorn bench_supervisor_app:app \\
        --worker-class aiohttp.GunicornWebWorker --workers 2 --bind 127.0.0.1:8080

gunicorn's workers are anonymous, so the leader (the change door) is whoever
first takes an flock on ``<store>.leader.lock`` and keeps it until it dies.
That is enough for a benchmark; it is not enough for serving (a worker that
started as a follower never becomes the leader, so after the leader dies no
one is until gunicorn starts a worker again, and during a HUP's overlap the
old leader keeps the lock while the new workers all start as followers).
"""

from __future__ import annotations

import fcntl
import os

from aiohttp import web

from syndicate.config import load_config
from syndicate.web.app import make_app
from syndicate.web.serve import _tame_malloc


async def app() -> web.Application:
    _tame_malloc()  # what `syndicate serve` does in each worker, for a fair comparison
    config = load_config(os.environ["SYNDICATE_CONFIG"])
    fd = os.open(f"{config.store_path}.leader.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # kept open: held until this worker dies
        leader = True
    except BlockingIOError:
        os.close(fd)
        leader = False
    print(f"gunicorn worker pid {os.getpid()}: leader={leader}", flush=True)
    return make_app(config, leader=leader, fetcher=False)
