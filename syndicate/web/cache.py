"""Built feeds kept in memory until their content changes.

A feed is built once per change, never per request: the cache keeps the
bytes, their ETag (a hash of the bytes, so every worker and every restart
agrees) and each compressed form, made in the build's thread right after the
build, so that answering never waits for a compressor. Before answering, the
handler calls :meth:`FeedCache.refresh`, which asks the store's ChangeWatcher
what changed (a look at shared memory when nothing did) and drops only the
feeds of the touched scopes. A scheduled article needs no write at all: the
cache knows when the next one goes live and drops its feeds at that moment.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

import brotli
from multidict import CIMultiDict

from syndicate.store import Scope
from syndicate.store.watch import EVERYTHING, ChangeWatcher

#: Levels picked by bench/bench_build.py: near the best ratio for a few
#: milliseconds on a 300 KB feed; higher levels cost 5-50x the time for 1-3%.
GZIP_LEVEL = 6
BROTLI_QUALITY = 6
#: The content codings offered besides identity, best first.
CODINGS = ("br", "gzip")


#: What a 304 repeats from the 200 (RFC 9110 section 15.4.5), besides the ETag.
NOT_MODIFIED_FIELDS = frozenset({"Cache-Control", "Expires", "Vary", "Content-Location"})


@dataclass(frozen=True)
class FeedKey:
    scope: Scope
    fmt: str
    page: int = 1


@dataclass
class Rendered:
    """One built document and everything needed to answer for it."""

    body: bytes
    content_type: str
    last_modified: datetime | None
    headers: Mapping[str, str]
    etag: str = ""
    encoded: dict[str, bytes] = field(default_factory=dict)
    #: Epoch seconds after which the document is stale even if the store is not
    #: (the sidebar's "5 minutes ago"); None for documents that only data changes.
    expires: float | None = None

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'
        self.encoded["identity"] = self.body
        #: Response headers per coding (and "304"), made once on first use.
        self.heads: dict[str, CIMultiDict[str]] = {}
        base = self.etag.strip('"')
        #: If-None-Match values that match as they stand, tried before the full parser.
        self.matches = frozenset(
            f'{weak}"{base}{suffix}"' for weak in ("", "W/") for suffix in ("", "-gzip", "-br")
        )

    def head_for(self, coding: str) -> CIMultiDict[str]:
        """Headers for a response in ``coding`` ("304" for Not Modified); aiohttp copies them.

        A CIMultiDict, because that is what aiohttp makes of whatever it is
        given: copying one costs less than building one from a dict.

        A 304 carries only what RFC 9110 (15.4.5) asks of it, the validator
        and the caching fields a 200 would have sent; anything more is bytes
        on the busiest response a feed server sends.
        """
        found = self.heads.get(coding)
        if found is None:
            if coding == "304":
                fields = {k: v for k, v in self.headers.items() if k in NOT_MODIFIED_FIELDS}
                fields["ETag"] = self.etag
            else:
                fields = dict(self.headers)
                fields["ETag"] = self.etag_for(coding)
                if coding != "identity":
                    fields["Content-Encoding"] = coding
            found = self.heads[coding] = CIMultiDict(fields)
        return found

    @property
    def last_modified_http(self) -> str | None:
        if self.last_modified is None:
            return None
        return format_datetime(self.last_modified.astimezone(UTC), usegmt=True)

    def encode_all(self) -> Rendered:
        """Compress into every coding served (in the build thread, not on the loop)."""
        for coding in CODINGS:
            self.body_for(coding)
        return self

    def body_for(self, coding: str) -> bytes:
        """The body in a content coding, compressed on first use and kept."""
        found = self.encoded.get(coding)
        if found is None:
            found = compress(self.body, coding)
            self.encoded[coding] = found
        return found

    def etag_for(self, coding: str) -> str:
        return self.etag if coding == "identity" else self.etag[:-1] + f'-{coding}"'

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.encoded.values())


def compress(body: bytes, coding: str) -> bytes:
    if coding == "gzip":
        # mtime=0: the same bytes in give the same bytes out, in every worker.
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    if coding == "br":
        return bytes(brotli.compress(body, quality=BROTLI_QUALITY))
    raise ValueError(f"unknown content coding {coding!r}")


class NotFound(Exception):
    """The feed does not exist (unknown section, author, tag, issue, or page)."""


Builder = Callable[[FeedKey, datetime], Rendered]


class FeedCache:
    """Feeds by key, dropped by scope when the store says they changed.

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
        clock: Callable[[], float] = time.time,
    ) -> None:
        #: Whether refresh() already looked in this turn of the event loop.
        self.looked = False
        #: Fresh feeds by request path and query, so a hit hashes one str.
        self.by_path: dict[str, Rendered] = {}
        self.watcher = watcher
        self.build = build
        self.max_bytes = max_bytes
        self.clock = clock
        self.entries: OrderedDict[FeedKey, Rendered] = OrderedDict()
        self.inflight: dict[FeedKey, asyncio.Future[Rendered]] = {}
        self.generation = 0
        self.builds = 0
        #: Feed responses by status, for /metrics (per worker process).
        self.responses: Counter[int] = Counter()
        self.checked_at = self._now()
        self.next_due = self._next_due()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

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
        if self.watcher.quiet() and self.clock() < self.next_due:
            return
        touched = self.watcher.poll()
        now = self.clock()
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
            return
        for key in [k for k in self.entries if k.scope in scopes]:
            del self.entries[key]

    # -- lookups -------------------------------------------------------------

    def peek(self, key: FeedKey) -> Rendered | None:
        """The cached feed, if fresh, without building anything."""
        found = self.entries.get(key)
        if found is None:
            return None
        if found.expires is not None and self.clock() >= found.expires:
            del self.entries[key]
            return None
        self.entries.move_to_end(key)
        return found

    async def get(self, key: FeedKey) -> Rendered:
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
            rendered = await loop.run_in_executor(None, self._build, key, self._now())
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

    def _build(self, key: FeedKey, now: datetime) -> Rendered:
        return self.build(key, now).encode_all()

    def _store(self, key: FeedKey, rendered: Rendered) -> None:
        self.entries[key] = rendered
        self.by_path.clear()
        total = sum(r.size for r in self.entries.values())
        while total > self.max_bytes and len(self.entries) > 1:
            _, dropped = self.entries.popitem(last=False)
            total -= dropped.size

    def stats(self) -> dict[str, int]:
        return {
            "feeds": len(self.entries),
            "bytes": sum(r.size for r in self.entries.values()),
            "builds": self.builds,
        }
