"""``build_document``: every cached document, from its key, with no web server.

The feed cache, the change door, the digest and, once it exists, static
export all build through this one function, so a document has one set of
bytes, one ETag and one set of headers whoever asks for it.
"""

from __future__ import annotations

from datetime import datetime

from syndicate.catalog import DocKey
from syndicate.config import Config
from syndicate.documents.digests import build_digest_feed, build_edition_page
from syndicate.documents.directory import build_directory
from syndicate.documents.feedpage import build_feed_page
from syndicate.documents.feeds import build_feed
from syndicate.documents.keys import document_keys, key_headers
from syndicate.documents.pages import build_page
from syndicate.documents.rendered import Rendered
from syndicate.documents.sidebar import build_sidebar
from syndicate.store import Store


def build_document(
    config: Config, store: Store, key: DocKey, now: datetime, *, compressed: bool = True
) -> Rendered:
    """The document ``key`` names as of ``now``, compressed in every coding served.

    ``compressed=False`` skips the gzip and brotli forms, for callers that
    only want the bytes or the ETag (the change door).

    Raises :class:`~syndicate.documents.rendered.NotFound` for a feed that
    does not exist (an unknown section, author, tag or issue, a page past
    the last). Runs in a worker thread: it queries SQLite and renders XML.
    """
    if key.doc == "sidebar":
        rendered = build_sidebar(config, store, key.fmt, now)
    elif key.doc == "directory":
        rendered = build_directory(config, store, key.fmt, now)
    elif key.doc == "page":
        rendered = build_page(config, store, key, now)
    elif key.doc == "edition":
        rendered = build_edition_page(config, store, key, now)
    elif key.doc == "feedpage":
        rendered = build_feed_page(config, store, key, now)
    elif key.scope.kind == "digest":
        rendered = build_digest_feed(config, store, key, now)
    else:
        rendered = build_feed(config, store, key, now)
    if key.doc != "feed":  # a feed lists what it holds, so build_feed adds its own
        tagged = key_headers(config.cache.headers, document_keys(key))
        rendered.headers = {**rendered.headers, **tagged}
    return rendered.encode_all() if compressed else rendered
