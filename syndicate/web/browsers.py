"""Whether a request to a feed URL is a person's browser navigating to it.

Such a request is answered with the feed's HTML page (README, "Feeds in a
browser"; syndicate.documents.feedpage); every other one with the feed's
bytes, exactly as before. Both must hold:

* ``Sec-Fetch-Dest: document`` (Fetch Metadata, W3C): the browser is loading
  a top-level page. Browsers set it themselves and a page's script cannot
  (a forbidden header), so XHR/fetch and embedded loads never carry it;
  curl, feed readers and aggregators do not send it at all.
* an Accept that prefers ``text/html``: no other listed type has a higher
  q than an explicit ``text/html`` (RFC 9110 section 12.5.1). Browsers'
  navigations put it first; ``*/*``, no Accept at all, or a client that
  asks for its feed type first keep the feed.

Accept is read only when ``Sec-Fetch-Dest: document`` came: for any other
request the answer is the feed whatever Accept says, which is why feed
responses vary on Sec-Fetch-Dest and not on Accept
(syndicate.documents.headers.BROWSER_VARY).
"""

from __future__ import annotations

import functools
from typing import Final

from aiohttp import hdrs

#: The request header, as aiohttp's already case-folded constant: a plain str
#: would be folded again on every lookup, and every feed request makes one.
SEC_FETCH_DEST: Final = hdrs.SEC_FETCH_DEST
HTML: Final = "text/html"


def navigating(dest: str, accept: str | None) -> bool:
    """``dest`` is the Sec-Fetch-Dest value, which the caller has found present."""
    return dest == "document" and accept is not None and prefers_html(accept)


@functools.lru_cache(maxsize=128)
def prefers_html(accept: str) -> bool:
    """Whether ``text/html`` is listed with q > 0 and no type has a higher q (memoised:
    browsers send a handful of distinct values)."""
    html = 0.0
    best = 0.0
    for part in accept[:2000].split(","):
        name, _, params = part.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        q = min(max(q, 0.0), 1.0)
        if name.strip().lower() == HTML:
            html = max(html, q)
        best = max(best, q)
    return html > 0 and html >= best
