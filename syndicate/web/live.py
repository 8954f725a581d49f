"""The config in force, reloaded without a restart.

Editors change config.toml while the server runs. A new version is
validated in full before it replaces the running one; if it has problems the
running config stays, and the problems are logged and shown on the admin
page. Handlers read ``app[LIVE].config`` on every request, so a swap is one
assignment: no request ever sees half a config.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from syndicate.config import Config, ConfigError, load_config

log = logging.getLogger("syndicate.config")

#: Seconds between looks at config.toml.
CHECK_EVERY = 2.0


@dataclass(frozen=True)
class Rejected:
    at: datetime
    problems: tuple[str, ...]


def fingerprint(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


class LiveConfig:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.loaded_at = datetime.now(UTC)
        self.rejected: Rejected | None = None
        self.seen = fingerprint(config.source)
        self.listeners: list[Callable[[Config], None]] = []
        #: Accepted reloads by what triggered them ("file", "signal"), for /metrics.
        self.reloads: Counter[str] = Counter()

    def changed_on_disk(self) -> bool:
        return fingerprint(self.config.source) != self.seen

    def reload(self, trigger: str = "signal") -> bool:
        """Load config.toml again; swap it in only if it is entirely valid."""
        path = self.config.source
        self.seen = fingerprint(path)
        try:
            new = load_config(path)
        except ConfigError as exc:
            self.rejected = Rejected(datetime.now(UTC), tuple(exc.problems))
            log.error("config reload rejected, keeping the running config:\n%s", exc.report())
            return False
        fixed = [
            f"{key}: cannot change while serving (restart syndicate to use the new value)"
            for key, old, now in (
                ("store.path", self.config.store_path, new.store_path),
                ("server.host", self.config.server.host, new.server.host),
                ("server.port", self.config.server.port, new.server.port),
            )
            if old != now
        ]
        if fixed:
            self.rejected = Rejected(datetime.now(UTC), tuple(fixed))
            log.error("config reload rejected, keeping the running config: %s", "; ".join(fixed))
            return False
        self.config = new
        self.loaded_at = datetime.now(UTC)
        self.rejected = None
        self.reloads[trigger] += 1
        log.info("config reloaded from %s (%s)", path, trigger)
        for listener in self.listeners:
            listener(new)
        return True


LIVE = web.AppKey("live", LiveConfig)


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
