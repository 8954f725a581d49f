"""The one door for "it changed": which documents' bytes changed, and at which public URLs.

Whatever changes what the site publishes (an article written by the API, an
import or the CMS's own SQL in any process, a scheduled article going live,
the fetcher filling the sidebar, a config reload) reaches the document cache
as "these scopes were touched". The door turns that into what push, purge,
export and the digest need: **which documents' bytes are now different**,
and their public URLs. It rebuilds each candidate (the first page of every
touched feed in every format, the directory, the sidebar) and compares its
ETag with the one it last saw, so a touch that leaves the bytes as they were
(an edit of an article that is on no first page, a rename that reaches no
feed) reports nothing, and a document that stopped existing (a removed
section) is reported as gone.

Older pages (``?page=N``) are not listed one by one: every page of a touched
feed may have shifted, which :attr:`Change.scopes` says in one word.

Archive documents (one month of a feed, RFC 5005 section 4) are listed one
by one: the store logs which months a write touched (migration 12), so the
door rebuilds, for each touched feed, the archives of those months and of
its newest month, and, when one of them appeared or emptied, its nearest
neighbours (whose ``next-archive`` or ``prev-archive`` link moved). An archive is
compared with the ETag the door last saw; one it never saw (a closed month,
not built at the start) with the ETag last recorded in the store for its
path (by whoever built it last: a worker, an export), read before the door
builds it. An archive nobody ever built is reported only when it is the
newest of its feed (a new month) or when the door was made with
``report_unknown`` (an exporter, which holds every document). A reload or a
rename that reaches every feed (EVERYTHING) reports the newest archives and
those seen before one by one; the other months may have changed too, which
:attr:`Change.scopes` (EVERYTHING) says.

Exactly one process acts: the leader (the first worker of ``syndicate
serve``, see syndicate.web.serve) runs :meth:`ChangeDoor.run`; the other
workers keep only their own caches fresh. Listeners are called one after
the other on the leader's event loop, so they must hand slow work off (a
queue in the store, a task) rather than do it in the call.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from syndicate.catalog import (
    DIRECTORY_HTML,
    DIRECTORY_OPML,
    EDITION_FORMATS,
    FORMATS,
    KINDS,
    SIDEBAR_HTML,
    SIDEBAR_JSON,
    DocKey,
    archive_key,
    configured,
    document_path,
    edition_key,
    head_keys,
    period_bounds,
)
from syndicate.clock import SYSTEM, Clock
from syndicate.config import Config
from syndicate.documents.build import build_document
from syndicate.documents.cache import DocumentCache
from syndicate.documents.rendered import NotFound
from syndicate.live import LiveConfig
from syndicate.models import SIDEBAR, SITE, Scope
from syndicate.store import Store
from syndicate.store.archive import (
    archive_log_end,
    newest_period,
    period_before,
    period_from,
    periods_touched,
    recorded_etags,
)
from syndicate.store.digests import editions
from syndicate.store.watch import EVERYTHING

log = logging.getLogger("syndicate.changes")

#: Seconds between the leader's looks at the store when no request made one.
DOOR_TICK = 0.2
#: Documents built per step of a census, and the pause after each step (see paced()).
CENSUS_BATCH = 2
CENSUS_PAUSE = 0.01


@dataclass(frozen=True)
class Change:
    """What one look found: documents whose bytes differ from the last ones seen."""

    #: The changed documents (gone ones included), in the order of their paths.
    documents: tuple[DocKey, ...]
    #: Their absolute public URLs, in the same order.
    urls: tuple[str, ...]
    #: Those that no longer exist (a removed section, a tag with no feed left).
    gone: frozenset[DocKey]
    #: The scopes that were touched: every page of their feeds may have moved.
    scopes: frozenset[Scope]
    at: datetime


Listener = Callable[[Change], Awaitable[None] | None]


def candidates(config: Config, store: Store, scopes: frozenset[Scope]) -> list[DocKey]:
    """The documents a touch of ``scopes`` may have changed (EVERYTHING: every document)."""
    keys: list[DocKey] = []
    feeds = feed_scopes(config, store, scopes)
    for scope in feeds:
        keys += head_keys(scope)
        if scope.kind == "digest":  # a new edition's pages appear with it
            for kept in editions(store, scope.key, 1):
                day = kept.edition.isoformat()
                keys += [edition_key(scope.key, day, fmt) for fmt in EDITION_FORMATS]
    if feeds:
        keys += [DIRECTORY_HTML, DIRECTORY_OPML]
    if scopes == EVERYTHING or SIDEBAR in scopes:
        # The HTML's "5 minutes ago" moves every minute; the JSON moves with the data.
        keys.append(SIDEBAR_JSON)
    return keys


def feed_scopes(config: Config, store: Store, scopes: frozenset[Scope]) -> list[Scope]:
    """The feeds among ``scopes`` (every feed for EVERYTHING), in a fixed order."""
    if scopes == EVERYTHING:
        every: list[Scope] = [SITE]
        for kind, row in KINDS.items():
            if row.configured:
                every += [scope for scope, _ in configured(config, kind)]
            elif kind != "site":
                every += [Scope(kind, key) for key, _, _ in store.directory(kind)]
        scopes = frozenset(every)
    return sorted((s for s in scopes if s.kind != "sidebar"), key=lambda s: (s.kind, s.key))


@dataclass(frozen=True)
class ArchiveCandidates:
    """The archive documents a touch may have changed, and which are their feed's newest."""

    keys: list[DocKey]
    newest: frozenset[DocKey]


def archive_candidates(
    config: Config,
    store: Store,
    scopes: frozenset[Scope],
    periods: frozenset[str],
    now: datetime,
) -> ArchiveCandidates:
    """For each touched feed: its archives of ``periods`` and of its newest month (in a thread)."""
    keys: dict[DocKey, None] = {}
    newest: set[DocKey] = set()
    for scope in feed_scopes(config, store, scopes):
        if not KINDS[scope.kind].archived:
            continue
        latest = newest_period(store, scope, now)
        months: set[str] = set(periods)
        if latest is not None:
            months.add(latest)
        for month in sorted(months, reverse=True):
            for fmt in FORMATS:
                keys[archive_key(scope, fmt, month)] = None
                if month == latest:
                    newest.add(archive_key(scope, fmt, month))
    return ArchiveCandidates(list(keys), frozenset(newest))


def archive_neighbours(store: Store, keys: list[DocKey], now: datetime) -> list[DocKey]:
    """The nearest months on either side of each archive that hold anything, in every format.

    A month that filled or emptied moves its neighbours' ``prev-archive`` or
    ``next-archive`` link (one index seek each; in a thread).
    """
    found: dict[DocKey, None] = {}
    for key in keys:
        start, end = period_bounds(key.period)
        older = period_before(store, key.scope, start, now)
        newer = period_from(store, key.scope, end, now)
        for month in (older, newer):
            if month is not None:
                for fmt in FORMATS:
                    found[archive_key(key.scope, fmt, month)] = None
    return [k for k in found if k not in keys]


def fingerprints(
    config: Config, store: Store, keys: Iterable[DocKey], now: datetime
) -> dict[DocKey, str | None]:
    """Each document's ETag as of ``now``, None for one that does not exist (in a thread)."""
    found: dict[DocKey, str | None] = {}
    for key in keys:
        try:
            found[key] = build_document(config, store, key, now, compressed=False).etag
        except NotFound:
            found[key] = None
    return found


class ChangeDoor:
    """Hears which scopes the cache dropped, finds which documents changed, tells listeners."""

    def __init__(
        self,
        live: LiveConfig,
        store: Store,
        cache: DocumentCache,
        *,
        clock: Clock = SYSTEM,
        tick: float = DOOR_TICK,
        report_unknown: bool = False,
    ) -> None:
        self.live = live
        self.store = store
        self.cache = cache
        self.clock = clock
        self.tick = tick
        #: Report an archive never seen nor recorded (an exporter, which holds them all).
        self.report_unknown = report_unknown
        #: Where the door stopped reading the store's log of touched months.
        self.archive_seq = 0
        self.listeners: list[Listener] = []
        #: The last ETag seen per existing document.
        self.seen: dict[DocKey, str] = {}
        self.pending: set[Scope] = set()
        self.everything = False
        #: Set once the first census is done: from then on every change is reported.
        self.ready = asyncio.Event()
        #: Changes announced, for /metrics.
        self.announced = 0

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def touched(self, scopes: frozenset[Scope]) -> None:
        """The cache dropped these scopes' documents (its listener; cheap, synchronous)."""
        if scopes == EVERYTHING:
            self.everything = True
        else:
            self.pending |= scopes

    async def census(self) -> None:
        """Learn every document's current ETag, announcing nothing (at start)."""
        config = self.live.config
        now = self.clock.now()
        self.archive_seq = await asyncio.to_thread(archive_log_end, self.store)
        keys = await asyncio.to_thread(candidates, config, self.store, EVERYTHING)
        archives = await asyncio.to_thread(
            archive_candidates, config, self.store, EVERYTHING, frozenset(), now
        )
        keys += sorted(archives.newest, key=document_path)
        found = await self.paced(config, keys, now)
        self.seen = {k: etag for k, etag in found.items() if etag is not None}

    async def settle(self) -> Change | None:
        """Compare the touched documents with what was last seen; announce the difference."""
        if not (self.pending or self.everything):
            return None
        scopes = EVERYTHING if self.everything else frozenset(self.pending)
        self.pending.clear()
        self.everything = False
        config = self.live.config
        now = self.clock.now()
        keys = await asyncio.to_thread(candidates, config, self.store, scopes)
        self.archive_seq, months = await asyncio.to_thread(
            periods_touched, self.store, self.archive_seq
        )
        archives = await asyncio.to_thread(
            archive_candidates, config, self.store, scopes, months or frozenset(), now
        )
        keys += archives.keys
        if scopes == EVERYTHING:  # what existed before may be gone now
            listed = set(keys)
            keys += [k for k in self.seen if k not in listed]
        fresh, before = await self.compare(config, keys, scopes == EVERYTHING, now)
        # A month that appeared or emptied moved its neighbours' links: look at them too.
        flipped = [
            k for k in archives.keys if k.period and (before.get(k) is None) != (fresh[k] is None)
        ]
        if flipped:
            near = await asyncio.to_thread(archive_neighbours, self.store, flipped, now)
            near = [k for k in near if k not in fresh]
            more_fresh, more_before = await self.compare(config, near, False, now)
            fresh.update(more_fresh)
            before.update(more_before)

        def differs(key: DocKey, etag: str | None) -> bool:
            last = before.get(key)
            if last is not None:
                return last != etag
            if etag is None:
                return False
            # Never seen, never recorded: new to everyone, or unknown to this door.
            return key.period == "" or self.report_unknown or key in archives.newest

        changed = [k for k, etag in fresh.items() if differs(k, etag)]
        for key, etag in fresh.items():
            if etag is None:
                self.seen.pop(key, None)
            else:
                self.seen[key] = etag
        if SIDEBAR_JSON in changed:
            changed.append(SIDEBAR_HTML)
        if not changed:
            return None
        changed.sort(key=document_path)
        root = config.site.root
        change = Change(
            documents=tuple(changed),
            urls=tuple(root + document_path(k) for k in changed),
            gone=frozenset(k for k in changed if k in fresh and fresh[k] is None),
            scopes=scopes,
            at=now,
        )
        self.announced += 1
        await self.announce(change)
        return change

    async def compare(
        self, config: Config, keys: list[DocKey], paced: bool, now: datetime
    ) -> tuple[dict[DocKey, str | None], dict[DocKey, str | None]]:
        """Each document's ETag now, and the one to compare it with.

        The one to compare with is the ETag this door last saw, or, for an
        archive it never saw, the one last recorded in the store for its
        path, read before building (a build records its own).
        """
        unseen = [k for k in keys if k.period and k not in self.seen]
        recorded = await asyncio.to_thread(
            recorded_etags, self.store, [document_path(k) for k in unseen]
        )
        before: dict[DocKey, str | None] = {k: self.seen.get(k) for k in keys}
        for key in unseen:
            before[key] = recorded.get(document_path(key))
        if paced:
            fresh = await self.paced(config, keys, now)
        else:
            fresh = await self.through_cache(keys)
        return fresh, before

    async def paced(
        self, config: Config, keys: list[DocKey], now: datetime
    ) -> dict[DocKey, str | None]:
        """Every document's ETag, built one at a time with a pause between them.

        A census (at start, after a config reload) builds every document the
        site has, a few seconds of CPU; done in one go in a thread it holds
        the GIL against the event loop and the worker's p99 climbs past
        100 ms. A short sleep after each build leaves the loop most of the
        processor, at the price of a census that takes a few times longer.
        """
        found: dict[DocKey, str | None] = {}
        for start in range(0, len(keys), CENSUS_BATCH):
            batch = keys[start : start + CENSUS_BATCH]
            found.update(await asyncio.to_thread(fingerprints, config, self.store, batch, now))
            await asyncio.sleep(CENSUS_PAUSE)
        return found

    async def through_cache(self, keys: list[DocKey]) -> dict[DocKey, str | None]:
        """Each document's ETag, built by the cache: the build then serves requests too.

        The first pages of touched feeds are what readers ask for next, so
        building them here costs the leader nothing it would not have built
        for its next requests anyway (a census of every document, after a
        config reload, builds beside the cache instead, not to crowd it).
        """
        found: dict[DocKey, str | None] = {}
        for key in keys:
            try:
                found[key] = (await self.cache.get(key)).etag
            except NotFound:
                found[key] = None
        return found

    async def announce(self, change: Change) -> None:
        for listener in list(self.listeners):
            try:
                outcome = listener(change)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:  # one broken listener must not silence the others
                log.exception("change listener %r failed", listener)

    def start_from(self, seen: dict[DocKey, str], archive_seq: int) -> None:
        """Begin from ETags already known instead of a census (an exporter that built them all).

        ``archive_seq`` must have been read from the store before those
        documents were built, so that nothing written meanwhile is missed.
        """
        self.seen = dict(seen)
        self.archive_seq = archive_seq
        self.ready.set()

    async def run(self, *, census: bool = True) -> None:
        """The leader's loop: look at the store every tick, settle what was touched."""
        if census:
            await self.census()
        self.ready.set()
        while True:
            try:
                # A look costs a 48-byte compare when nothing changed; it also
                # notices scheduled articles going live with no request at all.
                self.cache.refresh()
                await self.settle()
            except asyncio.CancelledError:
                raise
            except Exception:  # the door must outlive any one bad look
                log.exception("looking for changes failed; trying again")
            await asyncio.sleep(self.tick)
