"""When a digest's editions are cut: local wall-clock times in an IANA time zone.

A digest is cut "every day at 07:00 in Europe/London" or "every Friday at
17:00 in America/New_York": a time on the editors' wall clock, not a fixed
UTC time, so the UTC moment moves by an hour across each daylight-saving
change and the email still leaves at breakfast. The time zone database is
the standard library's :mod:`zoneinfo` (PEP 615).

An edition is named by the local date of its cut-off and holds what was
published in the period since the previous cut-off, up to and including its
own: ``(previous cut-off, cut-off]``.

Wall-clock times that do not exist or exist twice (the hour skipped in spring,
the hour repeated in autumn) follow PEP 495 with ``fold=0``: a skipped time is
read with the offset in force before the change (01:30 on the spring-forward
day in London is 02:30 BST), a repeated time is its first occurrence. Either
way every day has exactly one cut-off, and the rule never depends on the clock.

Pure: no clock, no store, no config loading; the config's checks use
:func:`clock_time_problem`, :func:`weekday_problem` and :func:`zone_problem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Weekday names as the config spells them, Monday first (date.weekday() order).
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK_RE: Final = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class Schedule(Protocol):
    """What a digest's config says about when it is cut."""

    @property
    def schedule(self) -> str: ...
    @property
    def time(self) -> str: ...
    @property
    def day(self) -> str: ...
    @property
    def time_zone(self) -> str: ...


# -- checks for the config ---------------------------------------------------------


def clock_time_problem(value: str) -> str | None:
    if not _CLOCK_RE.fullmatch(value):
        return f"must be a 24-hour time as HH:MM, such as '07:00', got {value!r}"
    return None


def weekday_problem(value: str) -> str | None:
    if value and value not in WEEKDAYS:
        return f"must be a day of the week in lowercase ({', '.join(WEEKDAYS)}), got {value!r}"
    return None


def zone_problem(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"must be an IANA time zone such as 'Europe/London' or 'UTC', got {value!r}"
    return None


# -- cut-offs ----------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Cutoff:
    """One edition's cut-off: the local date that names it and the moment, in UTC."""

    at: datetime
    edition: date


def _clock(schedule: Schedule) -> time:
    hours, minutes = schedule.time.split(":")
    return time(int(hours), int(minutes))


def cutoff_on(schedule: Schedule, day: date) -> Cutoff | None:
    """The cut-off of the edition dated ``day``; None on a day a weekly digest skips."""
    if schedule.schedule == "weekly" and WEEKDAYS[day.weekday()] != schedule.day:
        return None
    local = datetime.combine(day, _clock(schedule), ZoneInfo(schedule.time_zone))  # fold=0
    return Cutoff(local.astimezone(UTC), day)


def _local_date(schedule: Schedule, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(schedule.time_zone)).date()


def cutoffs_until(schedule: Schedule, now: datetime, count: int) -> list[Cutoff]:
    """The last ``count`` cut-offs at or before ``now``, oldest first."""
    found: list[Cutoff] = []
    day = _local_date(schedule, now) + timedelta(days=1)
    while len(found) < count:
        cut = cutoff_on(schedule, day)
        if cut is not None and cut.at <= now:
            found.append(cut)
        day -= timedelta(days=1)
    return found[::-1]


def next_cutoff(schedule: Schedule, now: datetime) -> Cutoff:
    """The first cut-off strictly after ``now``."""
    day = _local_date(schedule, now) - timedelta(days=1)
    while True:
        cut = cutoff_on(schedule, day)
        if cut is not None and cut.at > now:
            return cut
        day += timedelta(days=1)


def previous_cutoff(schedule: Schedule, cut: Cutoff) -> Cutoff:
    """The cut-off before ``cut``: where its edition's period starts."""
    return cutoffs_until(schedule, cut.at - timedelta(seconds=1), 1)[0]


def parse_edition_date(text: str) -> date | None:
    """An edition date from a URL (YYYY-MM-DD), or None when it is not a real date."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
