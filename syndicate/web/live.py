"""The live config inside the web app: its key, and the task that watches config.toml.

:class:`syndicate.live.LiveConfig` validates and swaps configs; this module
only hangs it off the application and looks at the file every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator

from aiohttp import web

from syndicate.live import LiveConfig

log = logging.getLogger("syndicate.config")

#: Seconds between looks at config.toml.
CHECK_EVERY = 2.0

LIVE = web.AppKey("live", LiveConfig)
#: Set in each supervised worker to its supervisor's pid (syndicate.web.serve).
SUPERVISOR_ENV = "SYNDICATE_SUPERVISOR_PID"


def reload_everywhere(live: LiveConfig, trigger: str) -> bool:
    """Reload here at once, then have the supervisor (if this worker has one) tell
    every worker to reload, as ``kill -HUP`` does: an edit made in /admin is in
    force in all of them at once, not after their next look at the file."""
    accepted = live.reload(trigger)
    parent = os.getppid()
    if accepted and os.environ.get(SUPERVISOR_ENV) == str(parent):
        with contextlib.suppress(OSError):
            os.kill(parent, signal.SIGHUP)
    return accepted


async def watch_ctx(app: web.Application) -> AsyncIterator[None]:
    """Look at config.toml every few seconds and reload it when it changed."""
    live = app[LIVE]

    async def watch() -> None:
        while True:
            await asyncio.sleep(CHECK_EVERY)
            try:
                if live.changed_on_disk():
                    live.reload("file")
            except Exception:  # never let the watcher die quietly
                log.exception("checking config.toml failed")

    task = asyncio.create_task(watch())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
