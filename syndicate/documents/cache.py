"""Built documents kept in memory until their content changes.

A document is built once per change, never per request: the cache keeps the
:class:`~syndicate.documents.rendered.Rendered` value (bytes, ETag, every
compressed form). Before answering, the web layer calls
:meth:`DocumentCache.refresh`, which asks the store's ChangeWatcher what
changed (a look at shared memory when nothing did) and drops only the
documents of the touched scopes. A scheduled article needs no write at all:
the cache knows when the next one goes live and drops its feeds at that
moment. Whoever registered in :attr:`DocumentCache.listeners` (the change
door) hears which scopes were dropped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from syndicate.catalog import DocKey
from syndicate.clock import SYSTEM, Clock
from syndicate.documents.checks import BrokenBuild, check
from syndicate.documents.rendered import Rendered
from syndicate.errors import SyndicateError
from syndicate.models import SIDEBAR, Scope
from syndicate.store.watch import EVERYTHING, ChangeWatcher

#: Seconds a stale copy stands in for a document whose rebuild did not parse.
RETRY_BROKEN = 30.0
#: Build failures remembered for /admin.
MAX_FAILURES_KEPT = 50

log = logging.getLogger("syndicate.documents")


class Unavailable(SyndicateError):
    """A document that cannot be built into something that parses, with nothing older to show."""


Builder = Callable[[DocKey, datetime], Rendered]
#: Told which scopes' documents were dropped (EVERYTHING: all of them).
Invalidated = Callable[[frozenset[Scope]], None]


class DocumentCache:
    """Documents by key, dropped by scope when the store says they changed.

    ``build`` runs in a thread (it queries SQLite and renders XML); requests
    for a feed that is being built wait for that one build instead of
    starting their own. Memory is bounded: least recently used feeds go first.
    """

    def __init__(
        self,
        watcher: ChangeWatcher,
        build: Builder,
        *,
        max_bytes: int = 96 * 1024 * 1024,
        clock: Clock = SYSTEM,
    ) -> None:
        #: Whether refresh() already looked in this turn of the event loop.
        self.looked = False
        #: Fresh feeds by request path and query, so a hit hashes one str.
        self.by_path: dict[str, Rendered] = {}
        self.watcher = watcher
        self.build = build
        self.max_bytes = max_bytes
        self.clock = clock
        #: Bound once: refresh() reads it on every turn of the event loop.
        self._time = clock.time
        #: Called with the scopes whenever documents are dropped (the change door listens).
        self.listeners: list[Invalidated] = []
        self.entries: OrderedDict[DocKey, Rendered] = OrderedDict()
        self.inflight: dict[DocKey, asyncio.Future[Rendered]] = {}
        self.generation = 0
        self.builds = 0
        #: Feed responses by status, for /metrics (per worker process).
        self.responses: Counter[int] = Counter()
        #: The last bytes that parsed, per document: served if a rebuild does not parse.
        self.last_good: dict[DocKey, Rendered] = {}
        #: Builds that did not parse (for /metrics), and the latest reason per document.
        self.broken = 0
        self.failures: dict[DocKey, tuple[datetime, str]] = {}
        self.checked_at = self._now()
        self.next_due = self._next_due()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._time(), UTC)

    def _next_due(self) -> float:
        upcoming = self.watcher.next_scheduled(self.checked_at)
        return upcoming.timestamp() if upcoming else float("inf")

    # -- freshness -----------------------------------------------------------

    def refresh(self) -> None:
        """Drop whatever changed in the store or went live since the last look.

        The handlers call it before every answer, and it looks once per turn
        of the event loop: every request answered in a turn was read by that
        turn's select, so it was sent after anything the look can miss had
        already committed. A look costs a comparison of the store's shared
        WAL-index header and two clock readings when nothing changed; under
        load a turn answers many requests, and the rest of them pay one
        attribute test.
        """
        if self.looked:
            return
        try:
            asyncio.get_running_loop().call_soon(self._next_turn)
            self.looked = True
        except RuntimeError:  # no running loop (called directly): look every time
            pass
        if self.watcher.quiet() and self._time() < self.next_due:
            return
        touched = self.watcher.poll()
        now = self._time()
        due = now >= self.next_due
        if due:
            touched = touched | self.watcher.went_live(
                self.checked_at, datetime.fromtimestamp(now, UTC)
            )
        if touched:
            self.invalidate(touched)
        if touched or due:
            self.checked_at = datetime.fromtimestamp(now, UTC)
            self.next_due = self._next_due()

    def _next_turn(self) -> None:
        self.looked = False

    def invalidate(self, scopes: frozenset[Scope]) -> None:
        self.generation += 1  # builds started before this must not be cached
        self.by_path.clear()
        if scopes == EVERYTHING:
            self.entries.clear()
        else:
            # The directory counts every feed's items: any feed's touch may move it
            # (a digest's new edition touches no article scope).
            feeds = any(scope.kind != "sidebar" for scope in scopes)
            # A scope's page shows the sidebar too (syndicate.documents.pages).
            sidebar = SIDEBAR in scopes
            for key in [
                k
                for k in self.entries
                if k.scope in scopes
                or (feeds and k.doc == "directory")
                or (sidebar and k.doc == "page")
            ]:
                del self.entries[key]
        # last_good keeps what was dropped until a new build replaces it, within
        # a quarter of the cache's budget (the oldest stale copies go first).
        stale = [k for k, r in self.last_good.items() if self.entries.get(k) is not r]
        budget = self.max_bytes // 4
        total = sum(self.last_good[k].size for k in stale)
        for k in stale:
            if total <= budget:
                break
            total -= self.last_good.pop(k).size
        for listener in self.listeners:
            listener(scopes)

    # -- lookups -------------------------------------------------------------

    def peek(self, key: DocKey) -> Rendered | None:
        """The cached feed, if fresh, without building anything."""
        found = self.entries.get(key)
        if found is None:
            return None
        if found.expires is not None and self._time() >= found.expires:
            del self.entries[key]
            return None
        self.entries.move_to_end(key)
        return found

    async def get(self, key: DocKey) -> Rendered:
        found = self.peek(key)
        if found is not None:
            return found
        pending = self.inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Rendered] = loop.create_future()
        self.inflight[key] = future
        generation = self.generation
        try:
            try:
                rendered = await loop.run_in_executor(None, self._build, key, self._now())
            except BrokenBuild as exc:
                rendered = self._instead_of_broken(key, exc)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            del self.inflight[key]
        self.builds += 1
        future.set_result(rendered)
        if generation == self.generation:
            self._store(key, rendered)
        return rendered

    def _build(self, key: DocKey, now: datetime) -> Rendered:
        return check(key, self.build(key, now)).encode_all()

    def _instead_of_broken(self, key: DocKey, exc: BrokenBuild) -> Rendered:
        """The last good bytes for a build that did not parse, kept a while; else Unavailable.

        The failure is logged, counted (``broken``, in /metrics) and kept in
        ``failures`` for /admin. The stale copy is cached for
        :data:`RETRY_BROKEN` seconds, so the build is tried again soon but
        not on every request.
        """
        self.broken += 1
        self.failures[key] = (self._now(), str(exc))
        while len(self.failures) > MAX_FAILURES_KEPT:
            del self.failures[next(iter(self.failures))]
        log.error("not serving a document that does not parse: %s", exc)
        good = self.last_good.get(key)
        if good is None:
            raise Unavailable(str(exc)) from None
        return dataclasses.replace(good, expires=self._time() + RETRY_BROKEN)

    def _store(self, key: DocKey, rendered: Rendered) -> None:
        if rendered.expires is None or key not in self.last_good:
            self.last_good[key] = rendered
            self.failures.pop(key, None)
        self.entries[key] = rendered
        self.by_path.clear()
        total = sum(r.size for r in self.entries.values())
        while total > self.max_bytes and len(self.entries) > 1:
            gone, dropped = self.entries.popitem(last=False)
            self.last_good.pop(gone, None)
            total -= dropped.size

    def stats(self) -> dict[str, int]:
        return {
            "feeds": len(self.entries),
            "bytes": sum(r.size for r in self.entries.values()),
            "builds": self.builds,
        }
