"""Purge the cache in front on every change: the change door's listener, leader only.

For each :class:`~syndicate.documents.changes.Change` the door announces,
:func:`~syndicate.documents.keys.purge_keys` names the surrogate keys whose
documents changed, and each configured target is told:

- every ``cache.purge_urls`` address gets ``PURGE`` with an ``xkey-purge``
  header listing the keys (deploy/varnish/default.vcl accepts it from its
  ``purgers`` ACL and calls ``xkey.purge``), in requests of at most 4 KB of keys;
- ``cache.purge_command`` (an argv list) is run with the keys appended as
  arguments, at most 256 at a time: the hook for a CDN's purge API (README,
  "Behind a cache").

The door calls listeners one after the other on the leader's loop, so the
listener only starts a task: a slow or dead cache never holds up the next
change. Each attempt is bounded by ``cache.purge_timeout``; a failed one is
retried after 0.25 s and 1 s, then given up, logged and counted in
/metrics. A purge is operator config, so no SSRF guard stands in its way
(the cache is usually on loopback or the private network).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import aiohttp
from aiohttp import web

from syndicate.config import CacheConfig
from syndicate.documents.changes import Change
from syndicate.documents.keys import chunks, purge_keys
from syndicate.live import LiveConfig
from syndicate.web.keys import DOOR, LIVE

log = logging.getLogger("syndicate.purge")

#: Seconds to wait before each retry of a failed purge (so three attempts in all).
RETRY_DELAYS = (0.25, 1.0)
#: Most keys given to one run of the purge command (Fastly's bulk purge takes 256).
COMMAND_KEYS = 256
#: The request header deploy/varnish/default.vcl reads the keys from.
PURGE_HEADER = "xkey-purge"


#: One purge attempt at one target, which can be run again.
Attempt = Callable[[], Awaitable[None]]


class PurgeFailed(Exception):
    """One attempt at one target did not succeed (a status, an exit code, a timeout)."""


class Purger:
    """Turns each change into purge tasks and keeps their score for /metrics."""

    def __init__(self, live: LiveConfig, session: aiohttp.ClientSession) -> None:
        self.live = live
        self.session = session
        self.tasks: set[asyncio.Task[None]] = set()
        #: Purges by target kind ("varnish", "command") and outcome ("ok", "failed").
        self.outcomes: Counter[tuple[str, str]] = Counter()
        self.retries = 0
        self.keys_sent = 0

    def listen(self, change: Change) -> None:
        """The door's listener: name the keys, hand the sending to a task."""
        keys = purge_keys(change.documents, change.scopes)
        cache = self.live.config.cache
        if not keys or not (cache.purge_urls or cache.purge_command):
            return
        self.keys_sent += len(keys)
        for url in cache.purge_urls:
            self._spawn("varnish", url, self._purge_url(cache, url, keys))
        if cache.purge_command:
            self._spawn("command", cache.purge_command[0], self._run(cache, keys))

    def _spawn(self, kind: str, target: str, attempt: Attempt) -> None:
        task = asyncio.create_task(self._with_retries(kind, target, attempt))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _with_retries(self, kind: str, target: str, attempt: Attempt) -> None:
        for tries, delay in enumerate((*RETRY_DELAYS, None), start=1):
            try:
                await attempt()
            except (PurgeFailed, aiohttp.ClientError, OSError, TimeoutError) as exc:
                reason = str(exc) or type(exc).__name__
                if delay is None:
                    self.outcomes[(kind, "failed")] += 1
                    log.error("purge of %s failed %d times, giving up: %s", target, tries, reason)
                    return
                self.retries += 1
                log.warning("purge of %s failed (%s); retrying in %.2f s", target, reason, delay)
                await asyncio.sleep(delay)
            else:
                self.outcomes[(kind, "ok")] += 1
                return

    def _purge_url(self, cache: CacheConfig, url: str, keys: Sequence[str]) -> Attempt:
        async def run() -> None:
            timeout = aiohttp.ClientTimeout(total=cache.purge_timeout)
            for group in chunks(keys):
                headers = {PURGE_HEADER: " ".join(group)}
                async with self.session.request(
                    "PURGE", url, headers=headers, timeout=timeout, allow_redirects=False
                ) as response:
                    if response.status != 200:
                        raise PurgeFailed(f"{url} answered {response.status}")

        return run

    def _run(self, cache: CacheConfig, keys: Sequence[str]) -> Attempt:
        async def run() -> None:
            for start in range(0, len(keys), COMMAND_KEYS):
                group = keys[start : start + COMMAND_KEYS]
                await self._run_once([*cache.purge_command, *group], cache.purge_timeout)

        return run

    @staticmethod
    async def _run_once(argv: list[str], timeout: float) -> None:
        """Run the hook once; it is killed (by its own handle) if it outlives ``timeout``."""
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise PurgeFailed(f"{argv[0]} took more than {timeout} s") from None
        if proc.returncode != 0:
            said = out.decode("utf-8", "replace").strip()[-300:]
            raise PurgeFailed(f"{argv[0]} exited {proc.returncode}: {said}")

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


PURGER = web.AppKey("purger", Purger)


async def purge_ctx(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context for the leader: subscribe to the door, drain tasks on shutdown."""
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        purger = Purger(app[LIVE], session)
        app[PURGER] = purger
        app[DOOR].subscribe(purger.listen)
        try:
            yield
        finally:
            await purger.close()
