"""The schedule: politeness arithmetic, replayable with a seeded Random."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.fetch.schedule import (
    JITTER,
    JITTER_FAILURE,
    MAX_BACKOFF,
    MAX_HINT,
    Outcome,
    failures_after,
    next_fetch,
    outcome_from_headers,
    parse_expires,
    parse_max_age,
    parse_retry_after,
    plan_failure,
    plan_success,
    planned_interval,
)
from syndicate.httpdate import parse_http_date

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
BASE = 900.0  # 15 minutes
HOUR = 3600.0
OK = Outcome("success")
FAILED = Outcome("failure")


# -- header parsing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("max-age=600", 600.0),
        ("public, max-age=3600, must-revalidate", 3600.0),
        ("MAX-AGE = 60", 60.0),
        ('max-age="120"', 120.0),
        ("s-maxage=99, max-age=30", 30.0),
        ("max-age=0", 0.0),
        ("s-maxage=600", None),
        ("no-cache, no-store", None),
        ("max-age=-5", None),
        ("max-age=1e9", None),
        ("max-age=", None),
        ("max-age=abc, max-age=5", 5.0),
        ("max-age=" + "9" * 40, None),
        ("", None),
        (None, None),
    ],
)
def test_parse_max_age(value: str | None, seconds: float | None):
    assert parse_max_age(value) == seconds


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        ("Sunday, 06-Nov-94 08:49:37 GMT", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        ("Sun Nov  6 08:49:37 1994", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        ("Sat, 01 Jun 2024 14:00:00 +0200", datetime(2024, 6, 1, 12, 0, tzinfo=UTC)),
        ("0", None),
        ("-1", None),
        ("tomorrow", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_http_date(value: str | None, expected: datetime | None):
    assert parse_http_date(value) == expected


def test_parse_expires_is_measured_against_the_servers_date():
    # The server's clock is an hour behind ours: it still means "one hour".
    assert (
        parse_expires(
            "Sat, 01 Jun 2024 12:00:00 GMT", date="Sat, 01 Jun 2024 11:00:00 GMT", now=NOW
        )
        == HOUR
    )
    assert parse_expires("Sat, 01 Jun 2024 13:00:00 GMT", date=None, now=NOW) == HOUR
    assert parse_expires("Sat, 01 Jun 2024 13:00:00 GMT", date="garbage", now=NOW) == HOUR
    assert parse_expires("Sat, 01 Jun 2024 11:00:00 GMT", date=None, now=NOW) is None
    assert parse_expires("0", date=None, now=NOW) is None
    assert parse_expires(None, date=None, now=NOW) is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("  7 ", 7.0),
        ("0", 0.0),
        ("Sat, 01 Jun 2024 12:30:00 GMT", 1800.0),
        ("Sat, 01 Jun 2024 11:30:00 GMT", None),  # already past
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("9" * 40, None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None):
    assert parse_retry_after(value, now=NOW) == seconds


def test_parse_retry_after_with_a_naive_now():
    naive = datetime(2024, 6, 1, 12, 0)  # deliberately naive
    assert parse_retry_after("Sat, 01 Jun 2024 12:30:00 GMT", now=naive) == 1800.0


def test_outcome_from_headers():
    headers = {
        "cache-control": "max-age=7200",
        "Expires": "Sat, 01 Jun 2024 20:00:00 GMT",
        "Retry-After": "600",
    }
    # max-age overrides Expires; Retry-After only counts for 429 and 503.
    assert outcome_from_headers("success", headers, now=NOW, status=200, ttl=30) == Outcome(
        "success", max_age=7200.0, ttl=30
    )
    assert outcome_from_headers("failure", headers, now=NOW, status=503) == Outcome(
        "failure", max_age=7200.0, retry_after=600.0
    )
    assert outcome_from_headers("failure", {"RETRY-AFTER": "60"}, now=NOW, status=429) == Outcome(
        "failure", retry_after=60.0
    )
    expires_only = {
        "Expires": "Sat, 01 Jun 2024 14:00:00 GMT",
        "Date": "Sat, 01 Jun 2024 12:00:00 GMT",
    }
    assert outcome_from_headers("not_modified", expires_only, now=NOW, min_interval=60) == Outcome(
        "not_modified", expires=2 * HOUR, min_interval=60
    )


# -- intervals ------------------------------------------------------------------


def test_ordinary_success_uses_the_base_interval():
    assert planned_interval(BASE, OK, 0) == BASE
    assert planned_interval(BASE, Outcome("not_modified"), 0) == BASE


@pytest.mark.parametrize(
    ("outcome", "seconds"),
    [
        (Outcome("success", max_age=HOUR), HOUR),
        (Outcome("success", max_age=60), BASE),  # hints never lower the interval
        (Outcome("success", expires=2 * HOUR), 2 * HOUR),
        (Outcome("success", ttl=60), HOUR),  # ttl is in minutes
        (Outcome("success", ttl=5), BASE),
        (Outcome("success", retry_after=3 * HOUR), 3 * HOUR),
        (Outcome("success", max_age=HOUR, ttl=120), 2 * HOUR),  # the largest hint wins
        (Outcome("success", max_age=365 * 24 * HOUR), MAX_HINT),  # capped at 24 h
        (Outcome("success", ttl=60 * 24 * 30), MAX_HINT),
        (Outcome("success", ttl=10**400), MAX_HINT),  # no float overflow
        (Outcome("success", max_age=float("inf")), BASE),
        (Outcome("success", max_age=float("nan")), BASE),
        (Outcome("success", max_age=-HOUR), BASE),
        (Outcome("success", min_interval=2 * HOUR), 2 * HOUR),
        (Outcome("success", min_interval=48 * HOUR), 48 * HOUR),  # an editor's floor is not capped
    ],
)
def test_hints_raise_the_interval_only_up_to_the_cap(outcome: Outcome, seconds: float):
    assert planned_interval(BASE, outcome, 0) == seconds


def test_failures_back_off_exponentially_up_to_the_cap():
    intervals = [planned_interval(BASE, FAILED, n) for n in range(1, 10)]
    assert intervals == [
        2 * BASE,
        4 * BASE,
        8 * BASE,
        16 * BASE,
        32 * BASE,
        MAX_BACKOFF,
        MAX_BACKOFF,
        MAX_BACKOFF,
        MAX_BACKOFF,
    ]
    assert planned_interval(BASE, FAILED, 10_000) == MAX_BACKOFF
    assert planned_interval(BASE, FAILED, 0) == 2 * BASE  # a failure is at least the first


def test_backoff_never_goes_below_a_long_base_interval():
    assert planned_interval(20 * HOUR, FAILED, 3) == 20 * HOUR


def test_retry_after_on_failure_wins_over_a_shorter_backoff_and_is_capped():
    assert planned_interval(BASE, Outcome("failure", retry_after=5 * HOUR), 1) == 5 * HOUR
    assert planned_interval(BASE, Outcome("failure", retry_after=60), 3) == 8 * BASE
    assert planned_interval(BASE, Outcome("failure", retry_after=1e12), 1) == MAX_HINT


def test_failure_count_resets_on_the_first_success():
    count = 0
    for outcome in (FAILED, FAILED, FAILED):
        count = failures_after(count, outcome)
    assert count == 3
    assert failures_after(count, Outcome("not_modified")) == 0
    assert failures_after(count, OK) == 0
    assert planned_interval(BASE, OK, 0) == BASE


# -- jitter and determinism ---------------------------------------------------------


def test_next_fetch_is_deterministic_given_the_rng():
    one = next_fetch(NOW, base_interval=BASE, outcome=OK, failures=0, rng=random.Random(7))
    two = next_fetch(NOW, base_interval=BASE, outcome=OK, failures=0, rng=random.Random(7))
    assert one == two


def test_jitter_spreads_sources_apart_but_stays_small_and_positive():
    rng = random.Random(1)
    times = [
        next_fetch(NOW, base_interval=BASE, outcome=OK, failures=0, rng=rng) for _ in range(200)
    ]
    assert len(set(times)) > 150
    low = NOW + timedelta(seconds=BASE)
    high = NOW + timedelta(seconds=BASE * (1 + JITTER))
    assert all(low <= t <= high for t in times)


def test_failure_jitter_is_wider():
    rng = random.Random(2)
    times = [
        next_fetch(NOW, base_interval=BASE, outcome=FAILED, failures=1, rng=rng) for _ in range(200)
    ]
    delays = [(t - NOW).total_seconds() / (2 * BASE) for t in times]
    assert min(delays) >= 1.0
    assert max(delays) <= 1.0 + JITTER_FAILURE
    assert max(delays) > 1.0 + JITTER  # actually uses the wider spread


@given(
    base=st.floats(min_value=1, max_value=7 * 24 * HOUR),
    kind=st.sampled_from(["success", "not_modified", "failure"]),
    hint=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    ttl=st.none() | st.integers(min_value=-10, max_value=10**9),
    failures=st.integers(min_value=0, max_value=10**6),
    seed=st.integers(),
)
def test_next_fetch_never_undercuts_a_floor(
    base: float, kind: str, hint: float | None, ttl: int | None, failures: int, seed: int
):
    outcome = Outcome(kind, max_age=hint, retry_after=hint, ttl=ttl)  # type: ignore[arg-type]
    when = next_fetch(
        NOW, base_interval=base, outcome=outcome, failures=failures, rng=random.Random(seed)
    )
    delay = (when - NOW).total_seconds()
    tolerance = 1e-6  # timedelta keeps microseconds
    assert delay >= base - tolerance
    if hint is not None and math.isfinite(hint) and hint > 0:  # garbage hints are ignored
        assert delay >= min(hint, MAX_HINT) - tolerance
    ceiling = max(base, MAX_HINT, min(base * 2.0**32, MAX_BACKOFF))
    assert delay <= ceiling * (1 + JITTER_FAILURE) + 1e-6


# -- what the runner calls ------------------------------------------------------------


def test_plan_success_reads_headers_and_ttl():
    rng = random.Random(3)
    when = plan_success(
        NOW, base_interval=BASE, headers={"Cache-Control": "max-age=7200"}, ttl=None, rng=rng
    )
    assert NOW + timedelta(hours=2) <= when <= NOW + timedelta(hours=2 * (1 + JITTER))
    when = plan_success(NOW, base_interval=BASE, headers={}, ttl=180, rng=rng)
    assert NOW + timedelta(hours=3) <= when <= NOW + timedelta(hours=3 * (1 + JITTER))
    # A Retry-After on a 200 is not a request to wait.
    when = plan_success(
        NOW, base_interval=BASE, headers={"Retry-After": "86400"}, ttl=None, rng=rng
    )
    assert when <= NOW + timedelta(seconds=BASE * (1 + JITTER))


def test_plan_failure_backs_off_and_honours_retry_after():
    rng = random.Random(4)
    when = plan_failure(NOW, base_interval=BASE, failures=3, retry_after=None, rng=rng)
    assert NOW + timedelta(seconds=8 * BASE) <= when <= NOW + timedelta(seconds=8 * BASE * 1.25)
    when = plan_failure(NOW, base_interval=BASE, failures=1, retry_after=6 * HOUR, rng=rng)
    assert NOW + timedelta(hours=6) <= when <= NOW + timedelta(hours=6 * 1.25)
