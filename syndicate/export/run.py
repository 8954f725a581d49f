"""``syndicate export DIR``: every document as static files, and ``--watch`` to keep them current.

What is exported: the first page of every feed in every format, every
archive month of every feed (RFC 5005 section 4: the documents that never
change, which is what static hosting is for), /feeds, /feeds.opml and the
sidebar's JSON. Not exported: ``?page=N`` (a query is no file, and those
pages move on every publish; deploy/nginx/export.conf sends them to the
origin), the sidebar's HTML (it says "5 minutes ago", so it expires every
minute) and the article previews.

Every document is built by :func:`~syndicate.documents.build.build_document`
and read back strictly (syndicate.documents.checks) like the server's, so
the files are byte for byte what the origin sends. Archives are built month
by month, newest first, every feed's month together: an article sits in a
dozen feeds, and its entry, cleaned and serialised once, is reused by the
others while it is still kept (syndicate.formats.fragments).

``--watch`` runs its own change door (syndicate.documents.changes) in this
process, started from the ETags the export has just written; each change is
turned into files rewritten (only those whose bytes changed) and files
removed, and the manifest and nginx maps are written again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from syndicate.catalog import (
    DIRECTORY_HTML,
    DIRECTORY_OPML,
    FORMATS,
    KINDS,
    SIDEBAR_HTML,
    SIDEBAR_JSON,
    DocKey,
    archive_key,
    document_path,
    head_keys,
)
from syndicate.clock import Clock
from syndicate.config import Config
from syndicate.documents.build import build_document
from syndicate.documents.cache import DocumentCache
from syndicate.documents.changes import DOOR_TICK, Change, ChangeDoor, feed_scopes
from syndicate.documents.checks import BrokenBuild, check
from syndicate.documents.rendered import NotFound, Rendered
from syndicate.errors import SyndicateError
from syndicate.export.files import ExportDir
from syndicate.live import LiveConfig
from syndicate.models import Scope
from syndicate.store import Store
from syndicate.store.archive import archive_log_end, periods
from syndicate.store.watch import EVERYTHING, ChangeWatcher

log = logging.getLogger("syndicate.export")

#: Seconds between writes of the manifest and nginx maps while watching: each is
#: one file over every document (100 MB at 1,000,000 articles), so a burst of
#: publishes writes them once; the documents' own files are rewritten at once.
SAVE_EVERY = 5.0

#: The documents that are not feeds and are exported.
STATIC_SINGLETONS = (DIRECTORY_HTML, DIRECTORY_OPML, SIDEBAR_JSON)


def plan(config: Config, store: Store, now: datetime) -> list[DocKey]:
    """Every document an export holds, in the order to build them."""
    scopes = feed_scopes(config, store, EVERYTHING)
    keys: list[DocKey] = list(STATIC_SINGLETONS)
    for scope in scopes:
        keys += head_keys(scope)
    by_month: dict[str, list[Scope]] = {}
    for scope in scopes:
        if not KINDS[scope.kind].archived:
            continue
        for month in periods(store, scope, now):
            by_month.setdefault(month, []).append(scope)
    for month in sorted(by_month, reverse=True):
        for scope in by_month[month]:
            keys += [archive_key(scope, fmt, month) for fmt in FORMATS]
    return keys


def build_checked(config: Config, store: Store, key: DocKey, now: datetime) -> Rendered | None:
    """The document as the server would send it, None when it does not exist."""
    try:
        return check(key, build_document(config, store, key, now))
    except NotFound:
        return None


@dataclass
class Report:
    documents: int = 0
    files_written: int = 0
    bytes_written: int = 0
    removed: int = 0
    #: Documents that did not parse (their old files, if any, stay).
    broken: list[str] = field(default_factory=list)
    #: The ETag of every document exported, for the watcher's change door.
    seen: dict[DocKey, str] = field(default_factory=dict)


def export_keys(
    config: Config,
    store: Store,
    out: ExportDir,
    keys: list[DocKey],
    now: datetime,
    step: Callable[[int], object] = lambda n: None,
) -> Report:
    """Build and write ``keys``; drop from the export whatever is no longer among them."""
    report = Report()
    written_before, bytes_before = out.files_written, out.bytes_written
    present: list[str] = []
    for key in keys:
        path = document_path(key)
        try:
            rendered = build_checked(config, store, key, now)
        except BrokenBuild as exc:
            report.broken.append(str(exc))
            log.error("not exporting a document that does not parse: %s", exc)
            if path in out.entries:
                present.append(path)
            step(1)
            continue
        if rendered is not None:
            out.put(path, rendered)
            present.append(path)
            report.seen[key] = rendered.etag
            report.documents += 1
        step(1)
    report.removed = out.keep_only(present)
    out.save(config.site.root)
    report.files_written = out.files_written - written_before
    report.bytes_written = out.bytes_written - bytes_before
    return report


class Exporter:
    """Keeps an export current: its own watcher, cache and change door, in this process."""

    def __init__(
        self,
        live: LiveConfig,
        store: Store,
        out: ExportDir,
        clock: Clock,
        echo: Callable[[str], None],
    ) -> None:
        self.live = live
        self.store = store
        self.out = out
        self.clock = clock
        self.echo = echo
        # Made before the export runs, so every write from then on is heard.
        self.watcher = ChangeWatcher(store.path, clock=clock)
        self.archive_seq = archive_log_end(store)

        def build(key: DocKey, now: datetime) -> Rendered:
            return build_document(live.config, store, key, now)

        self.cache = DocumentCache(self.watcher, build, clock=clock)
        self.door = ChangeDoor(live, store, self.cache, clock=clock, report_unknown=True)
        self.cache.listeners.append(self.door.touched)
        self.door.subscribe(self.on_change)
        self.rounds = 0
        #: Whether the manifest and maps trail the files, and when they were last written.
        self.unsaved = False
        self.saved_at = clock.monotonic()
        #: Files written (or removed) by each change, for tests and the log line.
        self.last_files = 0

    def close(self) -> None:
        self.watcher.close()

    async def on_change(self, change: Change) -> None:
        started = self.clock.monotonic()
        config = self.live.config
        if change.scopes == EVERYTHING:  # a reload or a rename: look at every document again
            now = self.clock.now()
            keys = await asyncio.to_thread(plan, config, self.store, now)
            report = await asyncio.to_thread(export_keys, config, self.store, self.out, keys, now)
            files, documents = report.files_written, report.documents
        else:
            files, documents = await self.rewrite(change)
            self.unsaved = True
        self.rounds += 1
        self.last_files = files
        took = (self.clock.monotonic() - started) * 1000
        self.echo(f"{files} files rewritten ({documents} documents changed) in {took:.0f} ms")

    async def rewrite(self, change: Change) -> tuple[int, int]:
        before = self.out.files_written
        documents = 0
        for key in change.documents:
            if key == SIDEBAR_HTML:  # not exported: it expires every minute
                continue
            path = document_path(key)
            if key in change.gone:
                await asyncio.to_thread(self.out.remove, path)
                documents += 1
                continue
            try:
                rendered = await self.cache.get(key)
            except NotFound:
                await asyncio.to_thread(self.out.remove, path)
                documents += 1
                continue
            except SyndicateError as exc:  # does not parse: the old file stays
                log.error("not exporting %s: %s", path, exc)
                continue
            if await asyncio.to_thread(self.out.put, path, rendered):
                documents += 1
        return self.out.files_written - before, documents

    async def save(self, *, due_only: bool = True) -> None:
        """Write the manifest and maps if they trail the files (and SAVE_EVERY has passed)."""
        if not self.unsaved:
            return
        if due_only and self.clock.monotonic() - self.saved_at < SAVE_EVERY:
            return
        self.unsaved = False
        self.saved_at = self.clock.monotonic()
        await asyncio.to_thread(self.out.save, self.live.config.site.root)

    async def run(self, seen: dict[DocKey, str], tick: float = DOOR_TICK) -> None:
        """Watch until cancelled: the door's loop, started from the export's own ETags."""
        self.door.start_from(seen, self.archive_seq)
        try:
            while True:
                try:
                    if self.live.changed_on_disk() and self.live.reload("file"):
                        self.cache.invalidate(EVERYTHING)
                    self.cache.refresh()
                    await self.door.settle()
                    await self.save()
                except asyncio.CancelledError:
                    raise
                except Exception:  # one bad look must not end the watch
                    log.exception("looking for changes failed; trying again")
                await asyncio.sleep(tick)
        finally:
            if self.unsaved:
                self.out.save(self.live.config.site.root)


def export_into(
    config: Config, store: Store, target: Path, now: datetime
) -> tuple[ExportDir, Report]:
    """A whole export, without progress (tests, benchmarks)."""
    out = ExportDir(target)
    keys = plan(config, store, now)
    return out, export_keys(config, store, out, keys, now)


def command(
    config: Config,
    store: Store,
    target: Path,
    *,
    watch: bool,
    clock: Clock,
    progress: Callable[[int, str], AbstractContextManager[Any]],
    echo: Callable[[str], None],
) -> None:
    """``syndicate export DIR [--watch]``: the whole export (a bar on a terminal), then watch."""
    started = clock.monotonic()
    live = LiveConfig(config, clock)
    exporter = Exporter(live, store, ExportDir(target), clock, echo) if watch else None
    out = exporter.out if exporter is not None else ExportDir(target)
    now = clock.now()
    keys = plan(config, store, now)
    with progress(len(keys), "Exporting") as bar:
        report = export_keys(config, store, out, keys, now, step=bar.update)
    took = clock.monotonic() - started
    echo(
        f"{report.documents} documents, {report.files_written} files written "
        f"({report.bytes_written / 1e6:.1f} MB), {report.removed} removed, "
        f"in {took:.1f} s: {target}"
    )
    for problem in report.broken:
        echo(f"not exported (does not parse): {problem}")
    if exporter is None:
        return
    echo("watching for changes (Ctrl-C to stop)")

    async def watching() -> None:
        task = asyncio.current_task()
        if task is not None:  # SIGTERM (systemd's stop) ends it as Ctrl-C does: manifest saved
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await exporter.run(report.seen)

    try:
        asyncio.run(watching())
    except KeyboardInterrupt:
        pass
    finally:
        exporter.close()
