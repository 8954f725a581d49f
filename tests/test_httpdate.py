"""The one HTTP-date parser and formatter (RFC 9110 section 5.6.7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from syndicate.httpdate import format_http_date, parse_http_date

MOMENT = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850
        "Sun Nov  6 08:49:37 1994",  # obsolete asctime (no zone: GMT by definition)
        "  Sun, 06 Nov 1994 08:49:37 GMT  ",
        "Sun, 06 Nov 1994 09:49:37 +0100",  # RFC 5322, as feeds write pubDate
    ],
)
def test_every_form_reads_as_the_same_moment(text: str):
    assert parse_http_date(text) == MOMENT


@pytest.mark.parametrize(
    "text",
    [None, "", "   ", "yesterday", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 99999 1:1:1"],
)
def test_garbage_is_none_never_an_exception(text: str | None):
    assert parse_http_date(text) is None


def test_a_date_without_a_zone_is_refused_when_guessing_is_unsafe():
    # "-0000" means "zone unknown" in RFC 5322; a 304 decided on a guess could be stale.
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 -0000", assume_utc=False) is None
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 -0000") == MOMENT


def test_the_answer_is_always_utc():
    parsed = parse_http_date("Sun, 06 Nov 1994 03:49:37 -0500")
    assert parsed == MOMENT
    assert parsed is not None
    assert parsed.tzinfo == UTC


def test_format_is_imf_fixdate_in_gmt_whatever_the_zone():
    assert format_http_date(MOMENT) == "Sun, 06 Nov 1994 08:49:37 GMT"
    elsewhere = MOMENT.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert format_http_date(elsewhere) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert parse_http_date(format_http_date(MOMENT)) == MOMENT
