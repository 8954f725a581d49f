"""Times for people: "2 hours ago", "This article is over 15 years, 8 months old".

Pure functions of (then, now), so pages can be tested at any moment without
touching the clock.
"""

from __future__ import annotations

from datetime import datetime

_UNITS = (
    (365 * 24 * 3600, "year"),
    (30 * 24 * 3600, "month"),
    (7 * 24 * 3600, "week"),
    (24 * 3600, "day"),
    (3600, "hour"),
    (60, "minute"),
)


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def relative_time(then: datetime, now: datetime) -> str:
    """The largest whole unit between two moments: "just now", "5 minutes ago"…"""
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "just now"
    for size, unit in _UNITS:
        if seconds >= size:
            return f"{_plural(int(seconds // size), unit)} ago"
    return "just now"  # pragma: no cover - the minute unit always matches


def months_between(then: datetime, now: datetime) -> int:
    """Whole calendar months from ``then`` to ``now`` (0 if now is earlier)."""
    months = (now.year - then.year) * 12 + (now.month - then.month)
    if (now.day, now.time()) < (then.day, then.time()):
        months -= 1
    return max(0, months)


def age_notice(published: datetime, now: datetime) -> str | None:
    """A warning for articles over a year old, as newspapers print on archive pages."""
    months = months_between(published, now)
    if months < 12:
        return None
    years, rest = divmod(months, 12)
    age = _plural(years, "year") + (f", {_plural(rest, 'month')}" if rest else "")
    return f"This article is over {age} old"
