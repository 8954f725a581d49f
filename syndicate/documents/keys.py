"""Surrogate keys: the names a cache in front files each document under, and purges by.

A cache (Varnish with the xkey vmod, Fastly, Cloudflare) keeps, beside each
stored response, the keys its origin listed; one purge of a key drops every
response that listed it. This module is the one rule for which keys a
document lists and which keys a change purges, so the two always agree.
Pure: no store, no HTTP, no clock.

The vocabulary (short, stable, lowercase, no spaces or commas)::

    site                       every document syndicate tags: purge it all
    feed/site                  every page of the site feed, in every format
    feed/section/news          every page of one feed (its own scope), every format
    feed/section/news/2        page 2 of that feed, every format
    feed/section/news/2.atom   one document
    section/news               a feed holding an article of section news ...
    author/simon-assaf         ... by this author ...
    issue/2094                 ... of print issue 2094 ...
    tag/strikes                ... tagged strikes
    feed/section/news/1.atom.html   the page a browser sees at that feed's URL
    directory, directory.html, directory.opml     /feeds and /feeds.opml
    sidebar, sidebar.html, sidebar.json           /latest-news(.json)

The ``feed/...`` keys say what a document *is*; ``section/``, ``author/``,
``issue/`` and ``tag/`` say what it *holds*. Syndicate purges by what changed:
a write touches the scopes of the articles it wrote (the store's change log
says which), and every page of those scopes' feeds may have moved, so the
purge names ``feed/<scope>`` for each, plus ``directory`` and ``sidebar``
when those documents changed. The "holds" keys are there for operators and
hooks: ``tag/strikes`` drops every cached page showing an article so tagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final
from urllib.parse import quote

from syndicate.catalog import DocKey
from syndicate.models import Article, Scope
from syndicate.store.watch import EVERYTHING

#: The key every tagged document lists: one purge empties the cache of syndicate.
SITE_KEY: Final = "site"
#: How each header spells a list of keys (Cloudflare's Cache-Tag is comma-separated).
SEPARATORS: Final[dict[str, str]] = {"xkey": " ", "Surrogate-Key": " ", "Cache-Tag": ","}
#: Largest purge header value sent in one request (Varnish's default
#: http_req_hdr_len is 8 KiB; Fastly takes 256 keys per bulk purge).
PURGE_CHUNK_BYTES: Final = 4000
_SAFE: Final = re.compile(r"[a-z0-9._~-]+")


def _part(text: str) -> str:
    """A slug as a key part: slugs are already safe; anything else is percent-encoded."""
    return text if _SAFE.fullmatch(text) else quote(text, safe="-._~").lower()


def scope_key(scope: Scope) -> str:
    """``site``, ``section/news``, ``author/simon-assaf``, ``issue/2094``, ``tag/strikes``."""
    return SITE_KEY if scope.kind == "site" else f"{scope.kind}/{_part(scope.key)}"


def feed_key_of(scope: Scope) -> str:
    """Every page and format of one scope's feed: what a change to the scope purges."""
    return f"feed/{scope_key(scope)}"


def document_keys(key: DocKey, articles: Sequence[Article] = ()) -> tuple[str, ...]:
    """The keys one built document lists: what it is, then what it holds (sorted).

    Computed once per build and kept in the document's headers, so serving
    it, and answering 304 for it, cost nothing more.
    """
    if key.doc == "page":  # purged with its scope's feeds, and with the sidebar it shows
        return (SITE_KEY, "page", feed_key_of(key.scope), "sidebar")
    if key.doc not in ("feed", "feedpage"):
        return (SITE_KEY, key.doc, f"{key.doc}.{key.fmt}")
    # A feed's page for browsers shares its URL and its scope's purges.
    feed = feed_key_of(key.scope)
    own = f"{feed}/{key.page}.{key.fmt}" + (".html" if key.doc == "feedpage" else "")
    held = {scope_key(key.scope)}
    for article in articles:
        if article.section:
            held.add(f"section/{_part(article.section)}")
        if article.issue is not None:
            held.add(f"issue/{article.issue.number}")
        held.update(f"author/{_part(a.slug)}" for a in article.authors)
        held.update(f"tag/{_part(t.slug)}" for t in article.tags)
    held.discard(SITE_KEY)
    return (SITE_KEY, feed, f"{feed}/{key.page}", own, *sorted(held))


def key_headers(names: Iterable[str], keys: Sequence[str]) -> dict[str, str]:
    """The configured headers (``cache.key_headers``), each carrying ``keys`` its own way."""
    return {name: SEPARATORS[name].join(keys) for name in names}


def purge_keys(documents: Iterable[DocKey], scopes: frozenset[Scope]) -> tuple[str, ...]:
    """The keys to purge for a change: ``feed/<scope>`` for each touched scope, and
    the singletons (``directory``, ``sidebar``) whose documents changed (sorted).

    A touch of a scope may move every page of its feeds (RFC 5005 paging), so
    the whole scope goes, not only the first pages the door compared; feeds
    of scopes that were not touched stay cached. ``EVERYTHING`` (a config
    reload, a change log pruned past) names no scope: the documents the door
    found changed say which feeds to purge.
    """
    keys: set[str] = set()
    if scopes != EVERYTHING:
        keys.update(feed_key_of(s) for s in scopes if s.kind != "sidebar")
    for doc in documents:
        keys.add(feed_key_of(doc.scope) if doc.doc == "feed" else doc.doc)
    return tuple(sorted(keys))


def chunks(keys: Sequence[str], limit: int = PURGE_CHUNK_BYTES) -> list[list[str]]:
    """Keys in groups whose space-joined length stays under ``limit``, for purge requests."""
    groups: list[list[str]] = []
    size = limit
    for key in keys:
        if size + len(key) + 1 > limit:
            groups.append([])
            size = 0
        groups[-1].append(key)
        size += len(key) + 1
    return groups
