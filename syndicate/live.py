"""The config in force, reloaded without a restart.

Editors change config.toml while the server runs. A new version is
validated in full before it replaces the running one; if it has problems the
running config stays, and the problems are logged and shown on the admin
page. Readers take ``live.config`` on every request or run, so a swap is one
assignment: no request ever sees half a config.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from syndicate.clock import SYSTEM, Clock
from syndicate.config import Config, ConfigError, load_config

log = logging.getLogger("syndicate.config")


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
    def __init__(self, config: Config, clock: Clock = SYSTEM) -> None:
        self.config = config
        self.clock = clock
        self.loaded_at = clock.now()
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
            self.rejected = Rejected(self.clock.now(), tuple(exc.problems))
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
            self.rejected = Rejected(self.clock.now(), tuple(fixed))
            log.error("config reload rejected, keeping the running config: %s", "; ".join(fixed))
            return False
        self.config = new
        self.loaded_at = self.clock.now()
        self.rejected = None
        self.reloads[trigger] += 1
        log.info("config reloaded from %s (%s)", path, trigger)
        for listener in self.listeners:
            listener(new)
        return True
