"""Relative times and the age notice, at fixed moments (no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syndicate.humanize import age_notice, months_between, relative_time

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=59), "59 minutes ago"),
        (timedelta(hours=2, minutes=30), "2 hours ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=13), "1 week ago"),
        (timedelta(days=45), "1 month ago"),
        (timedelta(days=800), "2 years ago"),
        (timedelta(seconds=-30), "just now"),
    ],
)
def test_relative_time(delta: timedelta, text: str):
    assert relative_time(NOW - delta, NOW) == text


def test_months_between_counts_whole_calendar_months():
    assert months_between(datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)) == 0
    assert months_between(datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 2, 15, tzinfo=UTC)) == 1
    assert months_between(NOW, NOW - timedelta(days=3)) == 0


def test_age_notice():
    assert age_notice(NOW - timedelta(days=300), NOW) is None
    assert (
        age_notice(datetime(2025, 11, 26, 12, 0, tzinfo=UTC), NOW)
        == "This article is over 1 year old"
    )
    assert (
        age_notice(datetime(2011, 3, 10, tzinfo=UTC), NOW)
        == "This article is over 15 years, 8 months old"
    )
    assert (
        age_notice(datetime(2024, 10, 1, tzinfo=UTC), NOW)
        == "This article is over 2 years, 1 month old"
    )
