"""HTTP dates (RFC 9110 section 5.6.7) and the RFC 5322 dates feeds carry.

One parser and one formatter for every header and feed date syndicate reads
or writes: If-Modified-Since, Last-Modified, Date, Retry-After, Expires,
RSS ``pubDate`` and OPML ``dateModified``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime


def parse_http_date(value: str | None, *, assume_utc: bool = True) -> datetime | None:
    """An HTTP-date (IMF-fixdate, the obsolete RFC 850 and asctime forms) or RFC 5322 date.

    Aware and in UTC; None for anything that is not a date and for dates
    Python cannot hold. Never raises. A date without a zone ("-0000", or
    the asctime form) is taken as UTC, as RFC 9110 says every HTTP date is,
    unless ``assume_utc`` is off: a validator compared for a 304 must not
    guess.
    """
    if not value or not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        if not assume_utc:
            return None
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def format_http_date(moment: datetime) -> str:
    """IMF-fixdate, the one form RFC 9110 lets a sender use: ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)
