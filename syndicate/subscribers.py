"""Who a feed request is for: an aggregator's subscriber count, or one direct reader.

Hosted feed readers fetch a feed once for all their users and say how many
those are in their User-Agent. There is no standard; the forms seen in the
wild (collected by publishers counting their own readers) are:

* ``Feedly/1.0 (+http://www.feedly.com/fetcher.html; 123 subscribers; like
  FeedFetcher-Google)`` and ``Feedly/1.0 (poller; 131 subscribers;)`` (Seth
  Larson, "How many RSS subscribers do I have?", sethmlarson.dev, 2025);
* ``NewsBlur Feed Fetcher - 45 subscribers - http://www.newsblur.com/site/1/...``,
  ``Feedbin feed-id:1 - 7 subscribers``,
  ``Mozilla/5.0 (compatible; theoldreader.com; 8 subscribers; feed-id=123)``,
  ``Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 5 subscribers)``
  (Evan Boehs, "RSSLytics", boehs.org, 2024, a table of readers' agents);
* ``Inoreader/1.0 (+http://www.inoreader.com/feed-fetcher; 12 subscribers; )``
  (Dark Visitors, "Inoreader": "the number in the user agent string indicates
  how many Inoreader users are subscribed");
* ``Overcast/1.0 Podcast Sync (123 subscribers; feed-id=456789; +http://overcast.fm/)``
  (Podnews' advice to podcast apps);
* older ones: ``Bloglines/3.0-rho (; 7 subscribers)``, ``kinjabot (; 1 Readers)``,
  ``... Aggregating on behalf of 3 subscriber(s) ...`` (justinsomnia.org,
  2006), ``YahooFeedSeeker/2.0 (...; users 2; views 169)``,
  ``LiveJournal.com (...; 1 readers)`` (Pete Freitag, "Finding Feed subscribers
  from the User Agent", 2005), ``PlainFeeder v0.0.1 (...; Subscriber Count: 12)``
  (plainfeeder.com/about), ``FreshReader/2.0 (id: 1; ...; 4 subscribers)``.

So a count is a number next to "subscribers", "subscriber(s)", "readers" or
"users", on either side. The aggregator is named by its product token (the
first word before a ``/`` or a space, or the first item of a ``compatible;``
list), plus the feed id it gives, if any: Feedbin or The Old Reader polling
the same URL for two of their feed records report each record's own users,
which add up. A client that reports no count is a direct reader.

The figures are what clients claim; anyone can send such a User-Agent. A
figure above :data:`MOST` is not believed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

#: More subscribers than any feed reader has users: a made-up figure.
MOST: Final = 10_000_000

_COUNT = re.compile(
    r"(\d{1,12})\s*(?:subscribers?(?:\(s\))?|readers?|users)\b"
    r"|(?:subscribers?|users|subscriber count)\s*[:=]?\s*(\d{1,12})\b",
    re.IGNORECASE,
)
_FEED_ID = re.compile(r"feed-?id[:=]\s*([A-Za-z0-9_-]{1,64})", re.IGNORECASE)
_COMPATIBLE = re.compile(r"\(compatible;\s*([^;/)]+)", re.IGNORECASE)
_PRODUCT = re.compile(r"[^\s/;()]+(?:\s+(?!-|v?\d)[^\s/;()]+){0,2}")


@dataclass(frozen=True)
class Reported:
    """An aggregator's own word: who it is (with its feed id) and for how many it fetches."""

    aggregator: str
    subscribers: int


def _name(agent: str) -> str:
    compatible = _COMPATIBLE.search(agent)
    if agent.startswith("Mozilla/") and compatible:
        return compatible.group(1).strip()
    product = _PRODUCT.match(agent.strip())
    name = product.group(0) if product else agent
    # "NewsBlur Feed Fetcher - 45 subscribers": the words before the count.
    return re.split(r"\s+-\s+|\s+\(|\s+feed-?id", name, flags=re.IGNORECASE)[0][:80]


def reported(agent: str) -> Reported | None:
    """The subscriber count a User-Agent reports, or None for a direct reader."""
    if not agent:
        return None
    found = _COUNT.search(agent)
    if found is None:
        return None
    count = int(found.group(1) or found.group(2))
    if count > MOST:
        return None
    name = _name(agent)
    feed = _FEED_ID.search(agent)
    if feed:
        name = f"{name} feed-id:{feed.group(1)}"
    return Reported(name, count)


__all__ = ["MOST", "Reported", "reported"]
