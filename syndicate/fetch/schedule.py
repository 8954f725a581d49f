"""When to fetch a source next: the politeness arithmetic, and nothing else.

Pure, as lemon24/reader's decider is: ``now`` and a seeded
:class:`random.Random` are handed in, nothing reads the clock, so a test
can replay any schedule exactly.

The rules (issue 5, "Politeness"):

* A server's hints -- ``Cache-Control: max-age``, ``Expires``,
  ``Retry-After`` (on 429 and 503) and RSS ``<ttl>`` -- can only *raise*
  the next interval above the configured one, never lower it, and each is
  capped at :data:`MAX_HINT` (24 h) so a typo cannot silence a source for
  a year. ``max-age`` overrides ``Expires``, as in HTTP caching.
* A source's own ``min_interval`` (set by an editor) is a floor too, and is
  honoured as written.
* Failures back off exponentially, ``base * 2**failures``, capped at
  :data:`MAX_BACKOFF`; the first success (or 304) resets the count.
* Every interval gets a little positive jitter (:data:`JITTER`, more after
  a failure) so that sources added together, or failing together when our
  own network drops, drift apart instead of fetching in lockstep. Positive
  only, so no floor above is ever undercut.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from syndicate.fetch.headers import header
from syndicate.httpdate import parse_http_date

__all__ = [
    "JITTER",
    "JITTER_FAILURE",
    "MAX_BACKOFF",
    "MAX_HINT",
    "RETRY_AFTER_STATUSES",
    "Outcome",
    "OutcomeKind",
    "failures_after",
    "next_fetch",
    "outcome_from_headers",
    "parse_expires",
    "parse_max_age",
    "parse_retry_after",
    "plan_failure",
    "plan_success",
    "planned_interval",
]

#: Server hints (max-age, Expires, Retry-After, ttl) count up to this.
MAX_HINT: Final = 24 * 3600.0
#: Exponential backoff after failures stops growing here: a source that
#: comes back is noticed within half a day.
MAX_BACKOFF: Final = 12 * 3600.0
#: Jitter, as a fraction of the interval, after a success or a 304 ...
JITTER: Final = 0.05
#: ... and after a failure, when spreading retries out matters more.
JITTER_FAILURE: Final = 0.25
#: Statuses whose Retry-After is a request to wait (RFC 9110 §10.2.3).
RETRY_AFTER_STATUSES: Final = frozenset({429, 503})

OutcomeKind = Literal["success", "not_modified", "failure"]


@dataclass(frozen=True)
class Outcome:
    """What one fetch told us that bears on the next one.

    Every duration is in seconds, already relative to the fetch, or None
    when absent; build one from response headers with
    :func:`outcome_from_headers`.
    """

    kind: OutcomeKind
    #: Cache-Control max-age.
    max_age: float | None = None
    #: Expires minus the response's Date (or minus now, without a Date).
    expires: float | None = None
    #: Retry-After, from a 429 or 503.
    retry_after: float | None = None
    #: RSS <ttl>, in minutes, as the feed gives it.
    ttl: int | None = None
    #: The source's configured minimum interval (an editor's floor).
    min_interval: float | None = None


# -- header helpers -------------------------------------------------------------

_MAX_AGE = re.compile(r"""^\s*max-age\s*=\s*"?\s*([0-9]{1,12})\s*"?\s*$""", re.IGNORECASE)
_DIGITS = re.compile(r"^\s*([0-9]{1,12})\s*$")


def parse_max_age(cache_control: str | None) -> float | None:
    """Seconds of ``max-age`` in a Cache-Control value; None if absent or garbage.

    ``s-maxage`` (for shared caches) and ``no-cache`` do not concern us:
    neither would make us fetch *more* often than configured.
    """
    if not cache_control:
        return None
    for directive in cache_control.split(","):
        match = _MAX_AGE.match(directive)
        if match:
            return float(match.group(1))
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_expires(expires: str | None, *, date: str | None, now: datetime) -> float | None:
    """Seconds from the response's ``Date`` (else ``now``) until ``Expires``.

    Measured against the server's own Date so that a server whose clock is
    off still gets the freshness it meant. None if garbage or already past.
    """
    until = parse_http_date(expires)
    if until is None:
        return None
    since = parse_http_date(date) or _aware(now)
    seconds = (until - since).total_seconds()
    return seconds if seconds > 0 else None


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Retry-After as seconds from ``now`` (delta-seconds or HTTP-date); None if garbage."""
    if not value:
        return None
    match = _DIGITS.match(value)
    if match:
        return float(match.group(1))
    when = parse_http_date(value)
    if when is None:
        return None
    seconds = (when - _aware(now)).total_seconds()
    return seconds if seconds > 0 else None


def outcome_from_headers(
    kind: OutcomeKind,
    headers: Mapping[str, str],
    *,
    now: datetime,
    status: int | None = None,
    ttl: int | None = None,
    min_interval: float | None = None,
) -> Outcome:
    """An :class:`Outcome` from a response's headers (case-insensitive names).

    Retry-After counts only with a 429 or 503 ``status``; Expires only
    without a max-age, which overrides it (RFC 9111 §5.3).
    """
    max_age = parse_max_age(header(headers, "Cache-Control"))
    expires = None
    if max_age is None:
        expires = parse_expires(header(headers, "Expires"), date=header(headers, "Date"), now=now)
    retry_after = None
    if status in RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(header(headers, "Retry-After"), now=now)
    return Outcome(
        kind=kind,
        max_age=max_age,
        expires=expires,
        retry_after=retry_after,
        ttl=ttl,
        min_interval=min_interval,
    )


# -- the decision ---------------------------------------------------------------


def failures_after(previous: int, outcome: Outcome) -> int:
    """The consecutive-failure count to store: reset by any success or 304."""
    return previous + 1 if outcome.kind == "failure" else 0


def _finite(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) and value > 0 else 0.0


def planned_interval(base_interval: float, outcome: Outcome, failures: int) -> float:
    """Seconds until the next fetch, before jitter.

    ``failures`` counts consecutive failures including this outcome (what
    :func:`failures_after` returns); it only matters when the outcome is a
    failure.
    """
    base = _finite(base_interval)
    interval = base
    if outcome.kind == "failure":
        exponent = min(max(failures, 1), 32)
        interval = max(base, min(base * 2.0**exponent, MAX_BACKOFF))
    hints = (
        outcome.max_age,
        outcome.expires,
        outcome.retry_after,
        min(outcome.ttl, 10**7) * 60.0 if outcome.ttl is not None else None,
    )
    for hint in hints:
        interval = max(interval, min(_finite(hint), MAX_HINT))
    return max(interval, _finite(outcome.min_interval))


def next_fetch(
    now: datetime,
    *,
    base_interval: float,
    outcome: Outcome,
    failures: int,
    rng: random.Random,
) -> datetime:
    """When to fetch next: :func:`planned_interval` plus a little positive jitter.

    Deterministic given ``rng``; ``failures`` as in :func:`planned_interval`.
    """
    interval = planned_interval(base_interval, outcome, failures)
    spread = JITTER_FAILURE if outcome.kind == "failure" else JITTER
    return now + timedelta(seconds=interval * (1.0 + rng.uniform(0.0, spread)))


# -- what the runner calls --------------------------------------------------------


def plan_success(
    now: datetime,
    *,
    base_interval: float,
    headers: Mapping[str, str],
    ttl: int | None,
    rng: random.Random,
    min_interval: float | None = None,
) -> datetime:
    """Next fetch after a 200 or a 304: the hints in ``headers`` and ``ttl`` as floors."""
    outcome = outcome_from_headers("success", headers, now=now, ttl=ttl, min_interval=min_interval)
    return next_fetch(now, base_interval=base_interval, outcome=outcome, failures=0, rng=rng)


def plan_failure(
    now: datetime,
    *,
    base_interval: float,
    failures: int,
    retry_after: float | None,
    rng: random.Random,
    min_interval: float | None = None,
) -> datetime:
    """Next fetch after a failure; ``failures`` counts this one (see :func:`failures_after`).

    ``retry_after`` is :attr:`FetchError.retry_after`, which the retriever
    sets only for a 429 or 503.
    """
    outcome = Outcome("failure", retry_after=retry_after, min_interval=min_interval)
    return next_fetch(now, base_interval=base_interval, outcome=outcome, failures=failures, rng=rng)
