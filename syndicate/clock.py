"""The one clock: every reading of business time goes through a :class:`Clock`.

The app is given a clock and passes it down (feed cache, change watcher,
admin, fetcher), so a test can move time by hand and nothing reads the
wall clock behind its back. ``tests/test_architecture.py`` greps the package
for direct ``datetime.now()``/``time.time()`` calls outside this module.

Wall time (:meth:`Clock.now`, :meth:`Clock.time`) is for what is shown or
stored (dates, schedules, expiries); :meth:`Clock.monotonic` is for measuring
how long something took, which must not jump when the wall clock is set.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, aware, in UTC."""
        ...

    def time(self) -> float:
        """The current moment in seconds since the epoch (what ``now`` says)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards, for durations only."""
        ...


class SystemClock:
    """The machine's clocks."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told to (tests, and reproducible runs)."""

    def __init__(self, start: datetime | float) -> None:
        self._time = start.timestamp() if isinstance(start, datetime) else float(start)
        self._monotonic = 0.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._time, UTC)

    def time(self) -> float:
        return self._time

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float | timedelta) -> None:
        step = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if step < 0:
            raise ValueError("a clock never goes backwards")
        self._time += step
        self._monotonic += step


#: The clock of a process that was given none.
SYSTEM = SystemClock()
